/**
 * The control block shared by the orchestrator and every worker: run phase, readiness, the
 * first failure, and how many app threads are still running. These are the only words the main
 * thread and the workers both write; everything else a worker owns alone. Per-core statistics
 * (time by role, passes, parks) are rows of a Float64 column written only by their core and read
 * by the main thread after stop.
 */
import { LayoutBuilder, type LayoutDesc } from '../shm/layout.js';
import { NUM_ROLES } from './context.js';
import { vsyncLayout } from './vsync.js';

export const Phase = { STARTING: 0, WARMUP: 1, MEASURE: 2, STOP: 3 } as const;

/** Int32 words of the control block; each on its own cache line. */
export const Ctl = {
  PHASE: 0,
  READY: 16,
  /** 0 = no failure; else 1 + global core index of the first core that failed. */
  FAILED: 32,
  /** App threads not yet DONE, summed over cores (a world may end the run when it reaches 0). */
  APPS_ACTIVE: 48,
  /** Set by a world when it wants the run to end early (e.g. all RPCs done). */
  WORLD_DONE: 64,
  /**
   * The fabric (switch) worker leaves its loop only when this is set, after every core has
   * stopped, so no packet a core sent during its last pass goes unaccounted.
   */
  FABRIC_STOP: 80,
  /** Virtual time: workers not parked now (a blocked worker spins only while these fit the host's CPUs). */
  AWAKE: 96,
  /** Never written: the word the jitter test hook sleeps on. */
  JITTER_SLEEP: 112,
} as const;
export const CTL_WORDS = 128;

/** Float64 fields of one core's stat row. */
export const CoreStat = {
  /** First NUM_ROLES fields: ns charged to each role in the measured window. */
  ROLE_NS: 0,
  PASSES: NUM_ROLES,
  PARKS: NUM_ROLES + 1,
  /** Parks that ended because another core rang the doorbell. */
  RUNG_WAKEUPS: NUM_ROLES + 2,
  /** Doorbell rings this core sent that woke a parked core (emulated IPIs). */
  IPIS_SENT: NUM_ROLES + 3,
  /** Loop gaps longer than the stolen-time threshold. */
  STOLEN_GAPS: NUM_ROLES + 4,
  MAX_GAP_NS: NUM_ROLES + 5,
  MEASURE_START_NS: NUM_ROLES + 6,
  MEASURE_END_NS: NUM_ROLES + 7,
  /** Injected stalls: count and ns (also in ROLE_NS[STALL]). */
  STALLS: NUM_ROLES + 8,
  APP_STEPS: NUM_ROLES + 9,
  WORK_UNITS: NUM_ROLES + 10,
  /** Virtual time: times this core had to wait for slower workers (host time, not emulated). */
  SYNC_WAITS: NUM_ROLES + 11,
  /** Virtual time: passes where something claimed work and did none (the clock was nudged). */
  STUCK_PASSES: NUM_ROLES + 12,
  /** Virtual time, fidelity: items that arrived stamped before a jump this core had made, and by how much (sum, max). */
  LATE_ITEMS: NUM_ROLES + 13,
  LATE_NS: NUM_ROLES + 14,
  LATE_MAX_NS: NUM_ROLES + 15,
  /** Virtual time, fidelity: lock acquisitions out of emulated order, and by how much (sum, max; see LockTable.orderInversions). */
  LOCK_INVERSIONS: NUM_ROLES + 16,
  LOCK_INVERSION_NS: NUM_ROLES + 17,
  LOCK_INVERSION_MAX_NS: NUM_ROLES + 18,
} as const;
export const CORE_STAT_FIELDS = NUM_ROLES + 19;

/** Layout of the runtime's own columns (the world's are added under `world.`). */
export function runtimeLayout(totalWorkers: number, clockWords: number, doorbellWords: number): LayoutBuilder {
  return new LayoutBuilder()
    .add('ctl', 'i32', CTL_WORDS)
    .add('clock', 'i32', clockWords)
    .add('doorbells', 'i32', doorbellWords)
    .add('coreStats', 'f64', totalWorkers * CORE_STAT_FIELDS)
    .addAll('vsync', vsyncLayout(totalWorkers))
    // Per worker: which user policy module it is inside right now (0 = none; see policy/guard.ts),
    // so the watchdog can name a module call that never returned.
    .add('userCall', 'i32', totalWorkers);
}

export type { LayoutDesc };
