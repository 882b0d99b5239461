/**
 * Injected core stalls (`--stall`). Homa's notes saw cores vanish for 10–12 ms; a stall makes
 * one core (or every core) do nothing for `ms` every `every` ms, so its NAPI, SoftIRQ and app
 * work wait exactly as they would behind a real hiccup. Stall time is charged to its own role,
 * separate from stolen time (which is the host OS not running the worker).
 *
 * Syntax: `core=H.C,ms=10,every=200` (host H, core C), `core=N` (global core index),
 * `core=all`; several stalls separated by ';'. `offset=MS` delays the first stall (default: one
 * period in, so warm-up is not hit first).
 */
import { ConfigError } from '../config/errors.js';

export interface StallSpec {
  /** Global core index, or -1 for all cores. */
  globalCore: number;
  durationMs: number;
  everyMs: number;
  offsetMs: number;
}

const SYNTAX = "'core=H.C|N|all,ms=M,every=E[,offset=O]' with ms < every (';' between several)";

export function parseStalls(spec: string, hosts: number, coresPerHost: number): StallSpec[] {
  if (spec.trim() === '') return [];
  const out: StallSpec[] = [];
  for (const part of spec.split(';')) {
    const kv = new Map<string, string>();
    for (const item of part.split(',')) {
      const [k, v] = item.split('=').map((s) => s.trim());
      if (!k || v === undefined || v === '') throw new ConfigError('stall', SYNTAX, spec);
      kv.set(k, v);
    }
    const core = kv.get('core');
    const ms = Number(kv.get('ms'));
    const every = Number(kv.get('every'));
    const offset = kv.has('offset') ? Number(kv.get('offset')) : every;
    if (core === undefined || !(ms > 0) || !(every > ms) || !(offset >= 0) || [...kv.keys()].some((k) => !['core', 'ms', 'every', 'offset'].includes(k))) {
      throw new ConfigError('stall', SYNTAX, spec);
    }
    let globalCore: number;
    if (core === 'all') globalCore = -1;
    else if (/^\d+\.\d+$/.test(core)) {
      const [h, c] = core.split('.').map(Number) as [number, number];
      if (h >= hosts || c >= coresPerHost) throw new ConfigError('stall', `a core H.C with H < ${hosts} and C < ${coresPerHost}`, core);
      globalCore = h * coresPerHost + c;
    } else if (/^\d+$/.test(core)) {
      globalCore = Number(core);
      if (globalCore >= hosts * coresPerHost) throw new ConfigError('stall', `a global core index < ${hosts * coresPerHost}`, core);
    } else throw new ConfigError('stall', SYNTAX, spec);
    out.push({ globalCore, durationMs: ms, everyMs: every, offsetMs: offset });
  }
  return out;
}

/** The stalls that apply to one core, as a schedule the core loop checks once per pass. */
export class StallSchedule {
  private readonly starts: Float64Array;
  private readonly durations: Float64Array;
  private readonly periods: Float64Array;

  constructor(stalls: readonly StallSpec[], globalCore: number, originNs: number, dilation: number) {
    const mine = stalls.filter((s) => s.globalCore === -1 || s.globalCore === globalCore);
    this.starts = new Float64Array(mine.map((s) => originNs + s.offsetMs * 1e6 * dilation));
    this.durations = new Float64Array(mine.map((s) => s.durationMs * 1e6 * dilation));
    this.periods = new Float64Array(mine.map((s) => s.everyMs * 1e6 * dilation));
  }

  get active(): boolean {
    return this.starts.length > 0;
  }

  /** Start of the next stall (Infinity if none): virtual time treats it as an event. */
  nextStartNs(): number {
    let t = Infinity;
    for (let i = 0; i < this.starts.length; i++) if (this.starts[i]! < t) t = this.starts[i]!;
    return t;
  }

  /** If a stall is due at `now`, returns its duration in ns and schedules the next; else 0. */
  due(now: number): number {
    for (let i = 0; i < this.starts.length; i++) {
      if (now >= this.starts[i]!) {
        // Skip periods missed entirely (e.g. while the worker was descheduled).
        while (this.starts[i]! + this.periods[i]! <= now) this.starts[i]! += this.periods[i]!;
        this.starts[i]! += this.periods[i]!;
        return this.durations[i]!;
      }
    }
    return 0;
  }
}
