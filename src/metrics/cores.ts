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
import { toEmulatedNs, type TimeBase } from './emu-time.js';

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

/** Virtual time's own fidelity figures (src/cpu/vcore-loop.ts's monitor). */
export interface VirtualFidelity {
  costProfile: string;
  costScale: number;
  syncWindowNs: number;
  deterministic: boolean;
  /** Emulated seconds per wall second of the whole run. */
  emulatedPerWallSec: number;
  /**
   * Items handled after the core had already jumped past their stamp (possible only within the
   * window), plus next events a core found below the bound it had published (state another core
   * wrote without its virtual time: a bug to report; none is known).
   */
  lateItems: number;
  /** Their share of all units of work. */
  lateShare: number;
  lateMeanNs: number;
  lateMaxNs: number;
  /**
   * Lock holds out of emulated order: a hold overlapped, in emulated time, a hold another core
   * had already made of the same lock (it took the lock first on the host but later in emulated
   * time: ahead within the window, or carried past by one long unit), so the wait the emulated
   * order implies was never counted. Their share of all acquisitions, and the missed waits
   * (mean, max; ns).
   */
  lockInversions: number;
  lockInversionShare: number;
  lockInversionMeanNs: number;
  lockInversionMaxNs: number;
  /** Times cores waited for slower ones, and real parks (host figures, not emulated). */
  syncWaits: number;
  parks: number;
}

export interface FidelityReport {
  /** 'virtual' or 'wall'. */
  clock: string;
  virtual: VirtualFidelity | null;
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

/** Name of worker `g`: h<host>.c<core>, or `fabric` for the switch worker. */
export function workerLabel(g: number, totalWorkers: number, coresPerHost: number, hasFabric: boolean): string {
  return hasFabric && g === totalWorkers - 1 ? 'fabric' : `h${Math.floor(g / coresPerHost)}.c${g % coresPerHost}`;
}

/** Per-core rows; the stats are raw (runtime clock) ns, reported in emulated time through `tb`. */
export function coreRows(coreStats: Float64Array, totalWorkers: number, coresPerHost: number, hasFabric: boolean,
  tb: TimeBase = { rawNsPerEmulatedNs: 1 }): CoreRow[] {
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
      label: workerLabel(g, totalWorkers, coresPerHost, hasFabric),
      share, busy, windowNs: toEmulatedNs(windowNs, tb),
      passes: coreStats[b + CoreStat.PASSES]!,
      parks: coreStats[b + CoreStat.PARKS]!,
      ipisSent: coreStats[b + CoreStat.IPIS_SENT]!,
      stolenGaps: coreStats[b + CoreStat.STOLEN_GAPS]!,
      maxGapUs: toEmulatedNs(coreStats[b + CoreStat.MAX_GAP_NS]!, tb) / 1000,
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

/** Sums the virtual-time monitor over the emulated cores' stat rows. */
export function virtualFidelity(coreStats: Float64Array, workers: number, lockAcquisitions: number,
  v: Omit<VirtualFidelity, 'lateItems' | 'lateShare' | 'lateMeanNs' | 'lateMaxNs' | 'syncWaits' | 'parks'
    | 'lockInversions' | 'lockInversionShare' | 'lockInversionMeanNs' | 'lockInversionMaxNs'>): VirtualFidelity {
  let late = 0, lateNs = 0, lateMax = 0, work = 0, waits = 0, parks = 0, inv = 0, invNs = 0, invMax = 0;
  for (let g = 0; g < workers; g++) {
    const b = g * CORE_STAT_FIELDS;
    inv += coreStats[b + CoreStat.LOCK_INVERSIONS]!;
    invNs += coreStats[b + CoreStat.LOCK_INVERSION_NS]!;
    invMax = Math.max(invMax, coreStats[b + CoreStat.LOCK_INVERSION_MAX_NS]!);
    late += coreStats[b + CoreStat.LATE_ITEMS]!;
    lateNs += coreStats[b + CoreStat.LATE_NS]!;
    lateMax = Math.max(lateMax, coreStats[b + CoreStat.LATE_MAX_NS]!);
    work += coreStats[b + CoreStat.WORK_UNITS]!;
    waits += coreStats[b + CoreStat.SYNC_WAITS]!;
    parks += coreStats[b + CoreStat.PARKS]!;
  }
  return {
    ...v, lateItems: late, lateShare: work > 0 ? late / work : 0, lateMeanNs: late > 0 ? lateNs / late : 0, lateMaxNs: lateMax,
    lockInversions: inv, lockInversionShare: lockAcquisitions > 0 ? inv / lockAcquisitions : 0,
    lockInversionMeanNs: inv > 0 ? invNs / inv : 0, lockInversionMaxNs: invMax, syncWaits: waits, parks,
  };
}

export function fidelity(rows: readonly CoreRow[], hostCpus: number, emulatedCores: number, workerThreads: number,
  idleMode: string, dilation: number, virtual: VirtualFidelity | null = null): FidelityReport {
  const stolen = rows.map((r) => r.share['stolen'] ?? 0);
  const meanStolenShare = stolen.length ? stolen.reduce((a, b) => a + b, 0) / stolen.length : 0;
  const maxStolenShare = stolen.length ? Math.max(...stolen) : 0;
  const oversubscription = workerThreads / hostCpus;
  const warnings: string[] = [];
  if (virtual !== null) {
    // Host scheduling slows a virtual run down but cannot change its figures: no stolen-time
    // warning; the error the window actually let in instead.
    if (virtual.lateShare > 0.01) {
      warnings.push(`${(virtual.lateShare * 100).toFixed(1)}% of work items arrived after their core had moved past their stamp (by ${virtual.lateMeanNs.toFixed(0)} ns on average, ${virtual.lateMaxNs.toFixed(0)} ns at most): lower --sync-window-ns (now ${virtual.syncWindowNs}) for exact ordering`);
    }
    if (virtual.lockInversionShare > 0.01) {
      warnings.push(`lock order: ${(virtual.lockInversionShare * 100).toFixed(1)}% of lock acquisitions overlapped, in emulated time, a hold another core had made first on the host, and their waits (${virtual.lockInversionMeanNs.toFixed(0)} ns on average, ${virtual.lockInversionMaxNs.toFixed(0)} ns at most) went uncounted: lock waits read low; lower --sync-window-ns (now ${virtual.syncWindowNs}), or use --deterministic (long passes of work cause some too)`);
    }
    return { clock: 'virtual', virtual, hostCpus, emulatedCores, workerThreads, oversubscription, idleMode, dilation, meanStolenShare, maxStolenShare, warnings };
  }
  if (oversubscription > 1 && idleMode === 'poll') {
    warnings.push(`${workerThreads} worker threads on ${hostCpus} host CPUs with --idle-mode poll: spinning cores steal the CPU from working ones; use hybrid or park`);
  }
  if (meanStolenShare > 0.1) {
    warnings.push(`host scheduling dominates: cores lost ${(meanStolenShare * 100).toFixed(0)}% of their time on average (max ${(maxStolenShare * 100).toFixed(0)}%) to the host OS; treat latency tails as host artefacts, use fewer cores or a larger --dilation`);
  } else if (oversubscription > 1) {
    warnings.push(`oversubscribed: ${workerThreads} worker threads on ${hostCpus} host CPUs; wake-ups of parked cores cost host futex latency, not an IPI; `
      + `to fix it, use at most ${hostCpus} worker threads (--hosts x --cores, plus 1 for the switch) or raise --dilation (now ${dilation}) so host delays shrink in emulated time`);
  }
  return { clock: 'wall', virtual: null, hostCpus, emulatedCores, workerThreads, oversubscription, idleMode, dilation, meanStolenShare, maxStolenShare, warnings };
}
