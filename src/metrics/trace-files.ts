/**
 * What a run's time-trace rings become at the end (`--tt DIR`, `--trace FILE.json`). During the
 * run every core recorded into its ring in shared memory (src/metrics/timetrace.ts; the Homa world
 * sizes them with --tt-events); the main thread copies them out after the run (`readTimetraceData`)
 * and this file turns the copy into (1) one file per host in the text HomaModule's tthoma.py
 * reads (`node<H>.tt`), and (2) one Chrome/Perfetto trace: per host a process, per core a
 * thread track with a slice per unit of work (named by its role) and per lock wait, flow arrows
 * for the hand-offs of the newest RPCs (GRO core -> SoftIRQ core -> the core of the thread that
 * received the message), and counter tracks (throttled RPCs and NIC backlog per host, SoftIRQ
 * backlog per core). Both are bounded by the same window: --tt-window-us before its end, the end
 * being the end of the run or (--tt-trigger slowest-short) the moment the slowest short RPC
 * found in the rings completed. All times are emulated (through the run's TimeBase).
 */
import { column, type LayoutDesc } from '../shm/layout.js';
import { ROLE_NAMES } from '../cpu/context.js';
import { toEmulatedNs, type TimeBase } from './emu-time.js';
import { chromeTrace, type ChromeTrace, type TraceCounter, type TraceFlow, type TraceProcess, type TraceSlice } from './chrome-trace.js';
import {
  TT, TT_CTR_NIC_BACKLOG, TT_CTR_SOFTIRQ_BACKLOG, TT_CTR_THROTTLED, TT_FORMATS, TT_GRO_DATA, TT_RECVMSG_DONE, TT_RPC_HANDOFF,
  TT_RPC_QUEUED, TT_SENDMSG_REQUEST, TT_SOFTIRQ_DATA, TT_UNIT, TT_WAIT_FOUND_HANDOFF, TT_WAIT_FOUND_QUEUE, TimeTrace,
  formatTimetrace,
} from './timetrace.js';

/** A copy of every core's ring, taken after the run. */
export interface TimetraceData {
  hosts: number;
  coresPerHost: number;
  /** Events per core ring (a power of two). */
  capacity: number;
  times: Float64Array;
  words: Int32Array;
  state: Int32Array;
}

/** Copies the rings out of the world's shared memory (columns `tt.*` of `desc`), or null when the run kept none. */
export function readTimetraceData(sab: SharedArrayBuffer, desc: LayoutDesc,
  cfg: { hosts: number; cores: number; ttEvents: number }): TimetraceData | null {
  if (cfg.ttEvents <= 0 || desc.columns['tt.times'] === undefined) return null;
  return {
    hosts: cfg.hosts,
    coresPerHost: cfg.cores,
    capacity: cfg.ttEvents,
    times: Float64Array.from(column(sab, desc, 'tt.times', 'f64')),
    words: Int32Array.from(column(sab, desc, 'tt.words', 'i32')),
    state: Int32Array.from(column(sab, desc, 'tt.state', 'i32')),
  };
}

/** The ring of every core of host `h`, by core number. */
function hostRings(d: TimetraceData, h: number): TimeTrace[] {
  const rings: TimeTrace[] = [];
  for (let c = 0; c < d.coresPerHost; c++) rings.push(TimeTrace.inColumns(d.times, d.words, d.state, h * d.coresPerHost + c, d.capacity));
  return rings;
}

/** One decoded event. */
interface Ev { t: number; fmt: number; a0: number; a1: number; a2: number; a3: number }

/** Every event of one core, emulated ns, in recording order. */
function coreEvents(ring: TimeTrace, tb: TimeBase): Ev[] {
  const out: Ev[] = [];
  ring.forEach((t, fmt, a0, a1, a2, a3) => { out.push({ t: toEmulatedNs(t, tb), fmt, a0, a1, a2, a3 }); });
  return out;
}

/** Window options shared by both outputs. */
export interface TraceWindow {
  timeBase: TimeBase;
  /** Last N emulated µs before the window's end (0: everything the rings hold). */
  windowUs: number;
  trigger: 'end' | 'slowest-short';
}

/** Largest message of a "short" RPC (tthoma.py's rtt analyzer: <= 1500 bytes each way). */
const SHORT_BYTES = 1500;

/**
 * The slowest short RPC whose sendmsg and recvmsg return both lie in the rings: its client host,
 * RPC id, RTT and completion time (emulated ns), or null if there is none.
 */
export function slowestShortRpc(d: TimetraceData, tb: TimeBase): { host: number; id: number; rttNs: number; endNs: number } | null {
  let best: { host: number; id: number; rttNs: number; endNs: number } | null = null;
  for (let h = 0; h < d.hosts; h++) {
    const sent = new Map<number, number>();
    const done: Array<{ id: number; t: number; len: number }> = [];
    for (const ring of hostRings(d, h)) {
      for (const e of coreEvents(ring, tb)) {
        if (e.fmt === TT_SENDMSG_REQUEST && e.a3 >>> 0 <= SHORT_BYTES) sent.set(e.a2 >>> 0, e.t);
        else if (e.fmt === TT_RECVMSG_DONE && (e.a1 & 1) === 0) done.push({ id: e.a1 >>> 0, t: e.t, len: e.a0 });
      }
    }
    for (const x of done) {
      const s = sent.get(x.id);
      if (s === undefined || x.len > SHORT_BYTES || x.t < s) continue;
      if (best === null || x.t - s > best.rttNs) best = { host: h, id: x.id, rttNs: x.t - s, endNs: x.t };
    }
  }
  return best;
}

/** End of the window (emulated ns; undefined: each output's last event) under the trigger. */
export function windowEndNs(d: TimetraceData, w: TraceWindow): number | undefined {
  if (w.trigger !== 'slowest-short') return undefined;
  return slowestShortRpc(d, w.timeBase)?.endNs;
}

/** The `--tt` files: per host `node<H>.tt` in ttprint.py's format (empty text for a host with no event). */
export function timetraceFiles(d: TimetraceData, w: TraceWindow & { cpuKhz: number }): Array<{ node: string; text: string }> {
  const end = windowEndNs(d, w);
  const files: Array<{ node: string; text: string }> = [];
  for (let h = 0; h < d.hosts; h++) {
    files.push({
      node: `node${h}`,
      text: formatTimetrace(hostRings(d, h), { timeBase: w.timeBase, cpuKhz: w.cpuKhz, windowUs: w.windowUs, ...(end !== undefined ? { windowEndNs: end } : {}) }),
    });
  }
  return files;
}

/** Lock class of a lock-wait begin event, or null. */
const LOCK_WAIT_CLASS: ReadonlyMap<number, string> = new Map(
  TT_FORMATS.flatMap((f, i) => (f.name.startsWith('lock_wait_begin_') ? [[i, f.name.slice('lock_wait_begin_'.length)] as [number, string]] : [])));

/** Most RPCs whose hand-offs get flow arrows (the newest ones). */
export const MAX_TRACE_FLOW_RPCS = 500;

/**
 * The `--trace` file: a Chrome trace of every host's rings. Times are relative to the first
 * event of the run (µs in the file), so hosts share one time axis.
 */
export function chromeTraceOf(d: TimetraceData, w: TraceWindow & { title?: string }): ChromeTrace {
  const end = windowEndNs(d, w);
  const perCore: Ev[][] = [];
  let origin = Infinity;
  for (let h = 0; h < d.hosts; h++) {
    for (const ring of hostRings(d, h)) {
      const ev = coreEvents(ring, w.timeBase).filter((e) => end === undefined || e.t <= end);
      for (const e of ev) if (e.t < origin) origin = e.t;
      perCore.push(ev);
    }
  }
  if (!Number.isFinite(origin)) origin = 0;
  const processes: TraceProcess[] = [];
  const counters: TraceCounter[] = [];
  const flows: TraceFlow[] = [];
  for (let h = 0; h < d.hosts; h++) {
    const pid = h + 1;
    const proc: TraceProcess = { pid, name: `node${h}`, threads: [] };
    const throttled: TraceCounter = { pid, name: 'throttled RPCs', points: [] };
    const backlog: TraceCounter = { pid, name: 'NIC backlog (ns)', points: [] };
    // Hand-off points of this host (GRO of a DATA packet, SoftIRQ, hand-off, pick-up), merged in time order below.
    const points: Array<{ t: number; tid: number; fmt: number; id: number }> = [];
    for (let c = 0; c < d.coresPerHost; c++) {
      const tid = c + 1;
      const slices: TraceSlice[] = [];
      const softirqBacklog: TraceCounter = { pid, name: `SoftIRQ backlog h${h}.c${c}`, points: [] };
      const open = new Map<number, number>();
      for (const e of perCore[h * d.coresPerHost + c]!) {
        const t = e.t - origin;
        if (e.fmt === TT_UNIT) {
          slices.push({ name: ROLE_NAMES[e.a0] ?? `role ${e.a0}`, cat: ROLE_NAMES[e.a0] ?? 'work', startNs: t, durNs: toEmulatedNs((e.a1 >>> 0) + (e.a2 >>> 0) / 65536, w.timeBase) });
        } else if (LOCK_WAIT_CLASS.has(e.fmt)) {
          open.set(e.fmt, t);
        } else if (LOCK_WAIT_CLASS.has(e.fmt - 1) && open.has(e.fmt - 1)) {
          const s = open.get(e.fmt - 1)!;
          open.delete(e.fmt - 1);
          slices.push({ name: `wait ${LOCK_WAIT_CLASS.get(e.fmt - 1)!} lock`, cat: 'lock', startNs: s, durNs: t - s });
        } else if (e.fmt === TT_CTR_THROTTLED) {
          throttled.points.push([t, e.a0]);
        } else if (e.fmt === TT_CTR_NIC_BACKLOG) {
          backlog.points.push([t, e.a0]);
        } else if (e.fmt === TT_CTR_SOFTIRQ_BACKLOG) {
          softirqBacklog.points.push([t, e.a0]);
        } else if (e.fmt === TT_GRO_DATA) {
          points.push({ t, tid, fmt: e.fmt, id: e.a1 >>> 0 });
        } else if (e.fmt === TT_SOFTIRQ_DATA || e.fmt === TT_RPC_HANDOFF || e.fmt === TT_RPC_QUEUED
          || e.fmt === TT_WAIT_FOUND_HANDOFF || e.fmt === TT_WAIT_FOUND_QUEUE) {
          points.push({ t, tid, fmt: e.fmt, id: e.a0 >>> 0 });
        }
      }
      proc.threads.push({ tid, name: `h${h}.c${c}`, slices });
      if (softirqBacklog.points.length > 0) counters.push(softirqBacklog);
    }
    // Per RPC id, in time order: the latest GRO of a DATA packet, the SoftIRQ that took it on,
    // the hand-off; a pick-up closes the chain (arrows GRO -> SoftIRQ -> app thread).
    points.sort((a, b) => a.t - b.t);
    type Pt = { tid: number; t: number };
    const gro = new Map<number, Pt>();
    const softirq = new Map<number, { at: Pt; gro: Pt | undefined }>();
    const handoff = new Map<number, { at: Pt; softirq: { at: Pt; gro: Pt | undefined } | undefined }>();
    const chains: Array<{ to: Pt; ho: { at: Pt; softirq: { at: Pt; gro: Pt | undefined } | undefined } }> = [];
    for (const p of points) {
      const at = { tid: p.tid, t: p.t };
      if (p.fmt === TT_GRO_DATA) gro.set(p.id, at);
      else if (p.fmt === TT_SOFTIRQ_DATA) softirq.set(p.id, { at, gro: gro.get(p.id) });
      else if (p.fmt === TT_RPC_HANDOFF || p.fmt === TT_RPC_QUEUED) handoff.set(p.id, { at, softirq: softirq.get(p.id) });
      else {
        const ho = handoff.get(p.id);
        if (ho !== undefined) { chains.push({ to: at, ho }); handoff.delete(p.id); }
      }
    }
    for (const { to, ho } of chains.slice(-MAX_TRACE_FLOW_RPCS)) {
      flows.push({ name: 'SoftIRQ -> app', from: { pid, tid: ho.at.tid, tsNs: ho.at.t }, to: { pid, tid: to.tid, tsNs: to.t } });
      const si = ho.softirq;
      if (si?.gro !== undefined) {
        flows.push({ name: 'GRO -> SoftIRQ', from: { pid, tid: si.gro.tid, tsNs: si.gro.t }, to: { pid, tid: si.at.tid, tsNs: si.at.t } });
      }
    }
    processes.push(proc);
    if (throttled.points.length > 0) counters.push(throttled);
    if (backlog.points.length > 0) counters.push(backlog);
  }
  for (const c of counters) c.points.sort((a, b) => a[0] - b[0]);
  return chromeTrace(processes, flows, counters, { windowNs: w.windowUs * 1000, ...(w.title !== undefined ? { title: w.title } : {}) });
}

/** Events of one kind in the rings (tests and the bench count with it). */
export function countEvents(d: TimetraceData, name: string): number {
  const id = TT[name];
  if (id === undefined) throw new Error(`timetrace: no format ${name}`);
  let n = 0;
  for (let g = 0; g < d.hosts * d.coresPerHost; g++) {
    const ring = TimeTrace.inColumns(d.times, d.words, d.state, g, d.capacity);
    ring.forEach((_t, fmt) => { if (fmt === id) n++; });
  }
  return n;
}
