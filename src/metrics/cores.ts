/**
 * Where the cores went (metrics.py's per-core table, and further): for every emulated core the
 * share of the measured window spent in NAPI, SoftIRQ, bypass, pacer, timer, app, other kernel
 * work, idle, stolen (the host OS did not run the worker) and injected stalls; the busiest core;
 * and the fidelity summary every run prints — host CPUs against worker threads
 * (oversubscription), idle mode, stolen time per core, and a warning when host scheduling, not
 * the emulated system, dominates the result.
 */
import { NUM_ROLES, Role, ROLE_NAMES } from '../cpu/context.js';
import { CoreStat, CORE_STAT_FIELDS } from '../cpu/control.js';

export interface CoreRow {
  globalCore: number;
  host: number;
  core: number;
  /** 'fabric' for the switch worker. */
  label: string;
  /** Share of the core's measured window per role (keys: ROLE_NAMES). */
  share: Record<string, number>;
  /** Share doing emulated work: everything but idle, stolen and stall. */
  busy: number;
  windowNs: number;
  passes: number;
  parks: number;
  ipisSent: number;
  stolenGaps: number;
  maxGapUs: number;
  stalls: number;
}

export interface FidelityReport {
  hostCpus: number;
  emulatedCores: number;
  workerThreads: number;
  oversubscription: number;
  idleMode: string;
  dilation: number;
  meanStolenShare: number;
  maxStolenShare: number;
  warnings: string[];
}

const NOT_BUSY = new Set<number>([Role.IDLE, Role.STOLEN, Role.STALL]);

export function coreRows(coreStats: Float64Array, totalWorkers: number, coresPerHost: number, hasFabric: boolean): CoreRow[] {
  const rows: CoreRow[] = [];
  for (let g = 0; g < totalWorkers; g++) {
    const b = g * CORE_STAT_FIELDS;
    const windowNs = coreStats[b + CoreStat.MEASURE_END_NS]! - coreStats[b + CoreStat.MEASURE_START_NS]!;
    const fabric = hasFabric && g === totalWorkers - 1;
    const share: Record<string, number> = {};
    let busy = 0;
    for (let r = 0; r < NUM_ROLES; r++) {
      const s = windowNs > 0 ? coreStats[b + CoreStat.ROLE_NS + r]! / windowNs : 0;
      share[ROLE_NAMES[r]!] = s;
      if (!NOT_BUSY.has(r)) busy += s;
    }
    rows.push({
      globalCore: g,
      host: fabric ? -1 : Math.floor(g / coresPerHost),
      core: fabric ? -1 : g % coresPerHost,
      label: fabric ? 'fabric' : `h${Math.floor(g / coresPerHost)}.c${g % coresPerHost}`,
      share, busy, windowNs,
      passes: coreStats[b + CoreStat.PASSES]!,
      parks: coreStats[b + CoreStat.PARKS]!,
      ipisSent: coreStats[b + CoreStat.IPIS_SENT]!,
      stolenGaps: coreStats[b + CoreStat.STOLEN_GAPS]!,
      maxGapUs: coreStats[b + CoreStat.MAX_GAP_NS]! / 1000,
      stalls: coreStats[b + CoreStat.STALLS]!,
    });
  }
  return rows;
}

/** The emulated core with the largest busy share (metrics.py's "busiest core"). */
export function busiestCore(rows: readonly CoreRow[]): CoreRow | null {
  let best: CoreRow | null = null;
  for (const r of rows) if (r.label !== 'fabric' && (best === null || r.busy > best.busy)) best = r;
  return best;
}

export function fidelity(rows: readonly CoreRow[], hostCpus: number, emulatedCores: number, workerThreads: number,
  idleMode: string, dilation: number): FidelityReport {
  const stolen = rows.map((r) => r.share['stolen'] ?? 0);
  const meanStolenShare = stolen.length ? stolen.reduce((a, b) => a + b, 0) / stolen.length : 0;
  const maxStolenShare = stolen.length ? Math.max(...stolen) : 0;
  const oversubscription = workerThreads / hostCpus;
  const warnings: string[] = [];
  if (oversubscription > 1 && idleMode === 'poll') {
    warnings.push(`${workerThreads} worker threads on ${hostCpus} host CPUs with --idle-mode poll: spinning cores steal the CPU from working ones; use hybrid or park`);
  }
  if (meanStolenShare > 0.1) {
    warnings.push(`host scheduling dominates: cores lost ${(meanStolenShare * 100).toFixed(0)}% of their time on average (max ${(maxStolenShare * 100).toFixed(0)}%) to the host OS; treat latency tails as host artefacts, use fewer cores or a larger --dilation`);
  } else if (oversubscription > 1) {
    warnings.push(`oversubscribed: ${workerThreads} worker threads on ${hostCpus} host CPUs; wake-ups of parked cores cost host futex latency, not an IPI; `
      + `to fix it, use at most ${hostCpus} worker threads (--hosts x --cores, plus 1 for the switch) or raise --dilation (now ${dilation}) so host delays shrink in emulated time`);
  }
  return { hostCpus, emulatedCores, workerThreads, oversubscription, idleMode, dilation, meanStolenShare, maxStolenShare, warnings };
}
