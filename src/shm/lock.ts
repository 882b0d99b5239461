/**
 * Instrumented spinlocks in shared memory: every lock of the emulated data path (RPC bucket
 * locks, socket locks, grant lock, throttle lock, peer locks, pool locks, the pacer trylock)
 * is one Int32 word on its own cache line in a `LockTable`. Acquisition is a CAS; a miss spins
 * a bounded number of times, then falls back to `Atomics.wait` with a short timeout, so a holder
 * that the host OS descheduled cannot livelock an oversubscribed machine (futex-style 3-state
 * word: 0 free, 1 held, 2 held with waiters).
 *
 * Statistics follow Homa's `*_lock_misses` / `*_lock_miss_cycles` and go further. For each lock
 * class and each core (written only by that core, plain stores): acquisitions, misses
 * (contended acquisitions), wait ns, hold ns (sampled: one acquisition in `holdSampleEvery` reads
 * the clock at both ends, because a clock read costs 60–80 ns), hand-offs (acquired by a core
 * other than the previous holder), max wait, and a log2 histogram of wait ns (for P99 wait).
 * The uncontended fast path reads no clock.
 *
 * A wait longer than `maxWaitNs` throws a LockTimeoutError naming the lock, its class, the
 * holder core and the waiting core (a lock held far too long is a bug to report, not to hide).
 *
 * STATUS: API contract. Implementation in progress (see issue "Runtime").
 */
import type { LayoutDesc } from './layout.js';

/** Per (class, core) statistic fields, in the order they are stored (f64 each). */
export const LockStat = {
  ACQUISITIONS: 0,
  MISSES: 1,
  WAIT_NS: 2,
  HOLD_NS_SAMPLED: 3,
  HOLD_SAMPLES: 4,
  HANDOFFS: 5,
  MAX_WAIT_NS: 6,
  TRYLOCK_FAILS: 7,
  /** First of WAIT_HIST_BUCKETS buckets: bucket b counts misses with wait in [2^b, 2^(b+1)) ns. */
  WAIT_HIST: 8,
} as const;
export const WAIT_HIST_BUCKETS = 40;
export const LOCK_STAT_FIELDS = LockStat.WAIT_HIST + WAIT_HIST_BUCKETS;

export interface LockTableSpec {
  /** Lock class names, e.g. ['client_bucket', 'server_bucket', 'socket', 'grant', 'throttle', ...]. */
  classes: readonly string[];
  /** Number of locks per class (the table holds their sum; ids are assigned class by class). */
  locksPerClass: readonly number[];
  /** Number of cores that take locks (stat rows). */
  cores: number;
}

export function lockTableLayout(spec: LockTableSpec): LayoutDesc { void spec; throw new Error('not implemented'); }

/** First lock id of class `classIndex` (ids of one class are contiguous). */
export function firstLockId(spec: LockTableSpec, classIndex: number): number {
  let id = 0;
  for (let c = 0; c < classIndex; c++) id += spec.locksPerClass[c]!;
  return id;
}

export interface LockOptions {
  /** CAS attempts (with test-before-CAS) before falling back to Atomics.wait. */
  spinLimit: number;
  /** Atomics.wait timeout per sleep, ms. */
  waitTimeoutMs: number;
  /** Read the clock for hold time on one acquisition in this many (power of two). */
  holdSampleEvery: number;
  /** A wait longer than this throws LockTimeoutError. */
  maxWaitNs: number;
}

export const DEFAULT_LOCK_OPTIONS: LockOptions = { spinLimit: 200, waitTimeoutMs: 1, holdSampleEvery: 16, maxWaitNs: 10e9 };

export class LockTimeoutError extends Error {
  readonly code = 'ELOCKTIMEOUT';
  constructor(readonly lockId: number, readonly lockClass: string, readonly holderCore: number, readonly waiterCore: number, readonly waitedNs: number) {
    super(`lock ${lockClass}#${lockId} waited ${(waitedNs / 1e6).toFixed(1)} ms by core ${waiterCore}; held by core ${holderCore}`);
  }
}

/** One core's handle on the shared lock table. */
export class LockTable {
  constructor(sab: SharedArrayBuffer, desc: LayoutDesc, spec: LockTableSpec, core: number, opts?: Partial<LockOptions>) {
    void sab; void desc; void spec; void core; void opts; throw new Error('not implemented');
  }
  lock(id: number): void { void id; }
  /** Returns true if acquired (counted as an acquisition), false if held (counted as a trylock fail). */
  trylock(id: number): boolean { void id; return false; }
  unlock(id: number): void { void id; }
  /** Core that holds `id`, or -1. (Diagnostics only.) */
  holder(id: number): number { void id; return -1; }
  /** Zeroes this core's stat rows (at the start of the measured window). */
  resetStats(): void {}
}

/** Main thread: stats of one class summed over cores, plus per-core rows. */
export function readLockStats(sab: SharedArrayBuffer, desc: LayoutDesc, spec: LockTableSpec): Array<{ cls: string; perCore: Float64Array[]; total: Float64Array }> {
  void sab; void desc; void spec; throw new Error('not implemented');
}
