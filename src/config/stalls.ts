/**
 * Parsing `--stall` (the injected core stalls of src/cpu/faults.ts): a config value, checked when
 * the config is resolved so a bad spec fails on the main thread with exit code 2, before any
 * worker starts; each core worker parses it again into its own schedule.
 *
 * Syntax: `core=H.C,ms=10,every=200` (host H, core C), `core=N` (global core index),
 * `core=all`; several stalls separated by ';'. `offset=MS` delays the first stall (default: one
 * period in, so warm-up is not hit first).
 */
import { ConfigError } from './errors.js';

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
