/**
 * `--trace FILE.json`: a run as a Chrome trace (the JSON Trace Event Format that
 * ui.perfetto.dev and chrome://tracing load). Per host a process, per core a thread track;
 * per-core slices (NAPI, GRO, SoftIRQ, pacer, timer, app work, lock waits) as complete events
 * (`ph: 'X'`, `ts`/`dur` in µs of emulated time); hand-offs (GRO -> SoftIRQ -> app thread) as
 * flow arrows (`ph: 's'` at the source, `ph: 'f'` with `bp: 'e'` at the destination, one id per
 * arrow); counters (throttled-list length, NIC backlog estimate, SoftIRQ backlog per core) as
 * `ph: 'C'`. Inputs are in emulated ns (converted by the caller through emu-time.ts);
 * `windowNs` keeps only what ends in the last window. `checkChromeTrace` validates a trace
 * against the format (tests use it): fields and types, paired flow ids, and slices on one
 * track either nested or disjoint.
 */

export interface TraceSlice {
  name: string;
  /** Category: napi, gro, softirq, pacer, timer, app, lock, ... */
  cat: string;
  startNs: number;
  durNs: number;
  args?: Record<string, number | string>;
}

export interface TraceThread {
  tid: number;
  /** Track name, e.g. h0.c1. */
  name: string;
  slices: TraceSlice[];
}

export interface TraceProcess {
  pid: number;
  /** Process name, e.g. node0. */
  name: string;
  threads: TraceThread[];
}

/** One hand-off arrow: from a point on one core's track to a point on another's. */
export interface TraceFlow {
  name: string;
  from: { pid: number; tid: number; tsNs: number };
  to: { pid: number; tid: number; tsNs: number };
}

export interface TraceCounter {
  pid: number;
  name: string;
  /** [emulated ns, value] in time order. */
  points: Array<[number, number]>;
}

export type TraceEvent = Record<string, unknown> & { ph: string; pid: number; name: string };

export interface ChromeTrace {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ns';
  otherData: Record<string, string>;
}

const us = (ns: number): number => ns / 1000;

export function chromeTrace(processes: readonly TraceProcess[], flows: readonly TraceFlow[] = [], counters: readonly TraceCounter[] = [],
  opts: { windowNs?: number; title?: string } = {}): ChromeTrace {
  let end = 0;
  for (const p of processes) for (const t of p.threads) for (const s of t.slices) end = Math.max(end, s.startNs + s.durNs);
  for (const f of flows) end = Math.max(end, f.to.tsNs);
  for (const c of counters) for (const [t] of c.points) end = Math.max(end, t);
  const from = opts.windowNs !== undefined && opts.windowNs > 0 ? end - opts.windowNs : -Infinity;
  const ev: TraceEvent[] = [];
  for (const p of processes) {
    ev.push({ ph: 'M', pid: p.pid, name: 'process_name', args: { name: p.name } });
    for (const t of p.threads) {
      ev.push({ ph: 'M', pid: p.pid, tid: t.tid, name: 'thread_name', args: { name: t.name } });
      for (const s of t.slices) {
        if (s.startNs + s.durNs < from) continue;
        ev.push({ ph: 'X', pid: p.pid, tid: t.tid, name: s.name, cat: s.cat, ts: us(s.startNs), dur: us(Math.max(0, s.durNs)), ...(s.args ? { args: s.args } : {}) });
      }
    }
  }
  let id = 1;
  for (const f of flows) {
    if (f.from.tsNs < from) continue;
    ev.push({ ph: 's', pid: f.from.pid, tid: f.from.tid, name: f.name, cat: 'handoff', id, ts: us(f.from.tsNs) });
    ev.push({ ph: 'f', bp: 'e', pid: f.to.pid, tid: f.to.tid, name: f.name, cat: 'handoff', id, ts: us(f.to.tsNs) });
    id++;
  }
  for (const c of counters) {
    for (const [t, v] of c.points) if (t >= from) ev.push({ ph: 'C', pid: c.pid, name: c.name, ts: us(t), args: { value: v } });
  }
  return { traceEvents: ev, displayTimeUnit: 'ns', otherData: { source: 'homa-emu', times: 'emulated', ...(opts.title ? { title: opts.title } : {}) } };
}

/** Problems with a trace against the Trace Event Format (empty: none). */
export function checkChromeTrace(t: unknown): string[] {
  const problems: string[] = [];
  const o = t as { traceEvents?: unknown };
  if (typeof o !== 'object' || o === null || !Array.isArray(o.traceEvents)) return ['traceEvents: expected an array'];
  const flows = new Map<string, { s: number; f: number }>();
  const tracks = new Map<string, Array<[number, number, string]>>();
  (o.traceEvents as Array<Record<string, unknown>>).forEach((e, i) => {
    const where = `event ${i} (${String(e['ph'])} ${String(e['name'])})`;
    if (typeof e['ph'] !== 'string') { problems.push(`${where}: ph missing`); return; }
    if (!Number.isInteger(e['pid'])) problems.push(`${where}: pid must be an integer`);
    if (typeof e['name'] !== 'string') problems.push(`${where}: name must be a string`);
    const ph = e['ph'];
    if (ph === 'M') return;
    if (typeof e['ts'] !== 'number' || !Number.isFinite(e['ts'])) problems.push(`${where}: ts must be a finite number`);
    if (ph === 'X' || ph === 's' || ph === 'f') {
      if (!Number.isInteger(e['tid'])) problems.push(`${where}: tid must be an integer`);
    }
    if (ph === 'X') {
      const dur = e['dur'];
      if (typeof dur !== 'number' || !(dur >= 0)) problems.push(`${where}: dur must be >= 0`);
      const key = `${String(e['pid'])}/${String(e['tid'])}`;
      const list = tracks.get(key) ?? [];
      list.push([e['ts'] as number, (e['ts'] as number) + (dur as number), where]);
      tracks.set(key, list);
    } else if (ph === 's' || ph === 'f') {
      const id = String(e['id']);
      if (e['id'] === undefined) problems.push(`${where}: flow without id`);
      const p = flows.get(id) ?? { s: 0, f: 0 };
      if (ph === 's') p.s++; else { p.f++; if (e['bp'] !== 'e') problems.push(`${where}: flow end without bp 'e'`); }
      flows.set(id, p);
    } else if (ph === 'C') {
      const args = e['args'] as Record<string, unknown> | undefined;
      if (args === undefined || Object.values(args).some((v) => typeof v !== 'number')) problems.push(`${where}: counter args must be numbers`);
    } else {
      problems.push(`${where}: unexpected ph`);
    }
  });
  for (const [id, p] of flows) if (p.s !== 1 || p.f !== 1) problems.push(`flow ${id}: ${p.s} starts and ${p.f} ends (expected one each)`);
  // On one track, slices nest or are disjoint (a slice never straddles another's end).
  const EPS = 1e-6;
  for (const [key, list] of tracks) {
    list.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
    const open: Array<[number, number, string]> = [];
    for (const s of list) {
      while (open.length > 0 && open[open.length - 1]![1] <= s[0] + EPS) open.pop();
      const parent = open[open.length - 1];
      if (parent !== undefined && s[1] > parent[1] + EPS) problems.push(`track ${key}: ${s[2]} overlaps ${parent[2]} without nesting`);
      open.push(s);
    }
  }
  return problems;
}
