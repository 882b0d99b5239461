/**
 * The CPU cost model of virtual time (docs/DESIGN.md, "Time"). A cost profile is a JSON file of
 * named stages, each a fixed cost in ns and/or a cost per byte, marked `cpu` (work charged to the
 * clock of the core that does it, so a lock held around it is held that long) or `latency` (time
 * that passes between cores without occupying either: an IPI, a thread wake-up, the NICs). The
 * built-in `xl170` profile is the kernel's own figures (src/config/profiles/xl170.json, each with
 * its source); `--cost-profile FILE` takes a user's file with the same stage names (missing
 * stages keep xl170's value), `--cost-scale X` multiplies every stage, and `--cost-profile
 * measured` charges each unit of work the host's real JavaScript time (times the scale) instead
 * of its modelled CPU cost, keeping xl170's latencies. Resolved once per worker into `Costs`, a
 * flat object of numbers that hot paths read as fields.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, UserError } from './errors.js';

/** Every stage a profile may set (the names used in docs, reports and the JSON). */
export const STAGES = [
  'homa_send', 'rpc_alloc', 'copy_in', 'xmit_pkt', 'nic_tx', 'nic_rx', 'napi_poll', 'napi_pkt', 'gro_pkt',
  'softirq_ipi', 'ip_softirq_pkt', 'homa_softirq_pkt', 'handoff', 'grant_check', 'app_wakeup_poll',
  'app_wakeup_block', 'homa_recv', 'copy_out', 'pacer_pass', 'timer_rpc', 'list_elem',
] as const;
export type StageName = (typeof STAGES)[number];

export interface StageSpec {
  ns?: number;
  nsPerByte?: number;
  kind?: 'cpu' | 'latency';
  source?: string;
}

export interface CostProfile {
  name: string;
  description?: string;
  /** Clock rate of the modelled CPU (for `*_cycles` figures in homa_metrics). */
  cpuKhz: number;
  stages: Record<StageName, StageSpec>;
}

/** Resolved costs in ns (fixed) and ns per byte, already multiplied by the scale. */
export interface Costs {
  readonly profile: string;
  readonly scale: number;
  /** True for `measured`: CPU stages are 0 and the core loop charges real time instead. */
  readonly measured: boolean;
  readonly cpuKhz: number;
  readonly homaSend: number; readonly rpcAlloc: number; readonly copyInPerByte: number; readonly xmitPkt: number;
  readonly nicTx: number; readonly nicRx: number; readonly napiPoll: number; readonly napiPkt: number; readonly groPkt: number;
  readonly softirqIpi: number; readonly ipSoftirqPkt: number; readonly homaSoftirqPkt: number; readonly handoff: number;
  readonly grantCheck: number; readonly appWakeupPoll: number; readonly appWakeupBlock: number; readonly homaRecv: number;
  readonly copyOutPerByte: number; readonly pacerPass: number; readonly timerRpc: number; readonly listElem: number;
}

let builtin: CostProfile | null = null;

/** The built-in xl170 profile (read once). */
export function xl170Profile(): CostProfile {
  if (builtin === null) {
    builtin = JSON.parse(readFileSync(new URL('./profiles/xl170.json', import.meta.url), 'utf8')) as CostProfile;
  }
  return builtin;
}

/** Names `--cost-profile` accepts besides a file path. */
export const PROFILE_NAMES = ['xl170', 'measured'] as const;

function checkStage(file: string, name: string, s: unknown): StageSpec {
  if (typeof s !== 'object' || s === null) throw new ConfigError('cost-profile', `stage "${name}" of ${file} to be an object { ns, nsPerByte }`, s);
  const o = s as Record<string, unknown>;
  for (const k of ['ns', 'nsPerByte'] as const) {
    const v = o[k];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1e9)) {
      throw new ConfigError('cost-profile', `stage "${name}".${k} of ${file} to be a number in [0, 1e9]`, v);
    }
  }
  return o as StageSpec;
}

/**
 * Loads a profile by name or path (main thread, before any worker starts: a bad file is exit 2).
 * A file may give any subset of the stages; the rest are xl170's.
 */
export function loadCostProfile(nameOrPath: string): CostProfile {
  const base = xl170Profile();
  if (nameOrPath === 'xl170' || nameOrPath === 'measured' || nameOrPath === '') return base;
  const file = resolve(nameOrPath);
  if (!existsSync(file)) {
    throw new ConfigError('cost-profile', `${PROFILE_NAMES.join(', ')} or a JSON file that exists`, nameOrPath);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError('ECONFIGFILE', `--cost-profile: ${file} is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (typeof raw !== 'object' || raw === null || typeof (raw as { stages?: unknown }).stages !== 'object') {
    throw new ConfigError('cost-profile', `a JSON object with "stages" in ${file}`, raw);
  }
  const r = raw as { name?: unknown; cpuKhz?: unknown; stages: Record<string, unknown> };
  const stages = { ...base.stages };
  for (const [k, v] of Object.entries(r.stages)) {
    if (!(STAGES as readonly string[]).includes(k)) {
      throw new ConfigError('cost-profile', `stage names among ${STAGES.join(', ')} in ${file}`, k);
    }
    stages[k as StageName] = { ...base.stages[k as StageName], ...checkStage(file, k, v) };
  }
  const cpuKhz = r.cpuKhz === undefined ? base.cpuKhz : r.cpuKhz;
  if (typeof cpuKhz !== 'number' || !(cpuKhz > 0)) throw new ConfigError('cost-profile', `cpuKhz > 0 in ${file}`, cpuKhz);
  return { name: typeof r.name === 'string' ? r.name : file, cpuKhz, stages };
}

/** Resolves a profile and scale into flat costs (every worker, at setup). */
export function resolveCosts(nameOrPath: string, scale: number): Costs {
  const p = loadCostProfile(nameOrPath);
  const measured = nameOrPath === 'measured';
  const f = (n: StageName): number => {
    const s = p.stages[n];
    if (measured && s.kind !== 'latency') return 0;
    return (s.ns ?? 0) * scale;
  };
  const b = (n: StageName): number => (measured ? 0 : (p.stages[n].nsPerByte ?? 0) * scale);
  return {
    profile: measured ? 'measured' : p.name, scale, measured, cpuKhz: p.cpuKhz,
    homaSend: f('homa_send'), rpcAlloc: f('rpc_alloc'), copyInPerByte: b('copy_in'), xmitPkt: f('xmit_pkt'),
    nicTx: f('nic_tx'), nicRx: f('nic_rx'), napiPoll: f('napi_poll'), napiPkt: f('napi_pkt'), groPkt: f('gro_pkt'),
    softirqIpi: f('softirq_ipi'), ipSoftirqPkt: f('ip_softirq_pkt'), homaSoftirqPkt: f('homa_softirq_pkt'),
    handoff: f('handoff'), grantCheck: f('grant_check'), appWakeupPoll: f('app_wakeup_poll'),
    appWakeupBlock: f('app_wakeup_block'), homaRecv: f('homa_recv'), copyOutPerByte: b('copy_out'),
    pacerPass: f('pacer_pass'), timerRpc: f('timer_rpc'), listElem: f('list_elem'),
  };
}

/** Costs of zero everywhere: wall mode (the host's own time is the cost) and unit tests. */
export function zeroCosts(): Costs {
  return {
    profile: 'none', scale: 0, measured: false, cpuKhz: xl170Profile().cpuKhz,
    homaSend: 0, rpcAlloc: 0, copyInPerByte: 0, xmitPkt: 0, nicTx: 0, nicRx: 0, napiPoll: 0, napiPkt: 0, groPkt: 0,
    softirqIpi: 0, ipSoftirqPkt: 0, homaSoftirqPkt: 0, handoff: 0, grantCheck: 0, appWakeupPoll: 0, appWakeupBlock: 0,
    homaRecv: 0, copyOutPerByte: 0, pacerPass: 0, timerRpc: 0, listElem: 0,
  };
}
