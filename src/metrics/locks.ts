/**
 * The lock table (metrics.py's "Lock Misses", and further). For each lock class: acquisitions
 * per second, share contended, wait as % of one core (metrics.py's %CPU: summed over cores, so
 * it can exceed 100), ns per miss, P99 wait over all acquisitions and over misses only (from
 * the log2 histogram: reported as the upper edge of the bucket, so an upper bound within 2x),
 * hold time as %
 * of one core (estimated from sampled holds), hand-offs between cores per second, and which cores
 * waited most (named h0.c1). Times and rates are emulated (raw lock stats converted through the
 * run's time base); a P99 read from the histogram is never reported above the largest wait seen.
 * The P99 over all acquisitions is 0 whenever fewer than 1% of acquisitions missed, so the text
 * table shows the P99 over misses; the JSON keeps both.
 */
import { LockStat, WAIT_HIST_BUCKETS } from '../shm/lock.js';
import { toEmulatedNs, type TimeBase } from './emu-time.js';

export interface LockRow {
  cls: string;
  acquisitions: number;
  acquisitionsPerSec: number;
  misses: number;
  contendedPct: number;
  /** Per emulated second. */
  /** Wait as % of one core (can exceed 100). */
  waitPctCore: number;
  nsPerMiss: number;
  p99WaitNs: number;
  /** P99 over contended acquisitions only (what a miss typically costs at the tail). */
  p99MissWaitNs: number;
  maxWaitNs: number;
  holdPctCore: number;
  handoffsPerSec: number;
  trylockFails: number;
  /** Cores by wait, most first (up to 3): name (h0.c1) and emulated ns waited. */
  topWaiters: Array<{ core: string; waitNs: number }>;
}

/** Upper edge (ns) of the histogram bucket holding the rank-th smallest miss wait (1-based). */
function histRank(total: Float64Array, rank: number): number {
  let cum = 0;
  for (let b = 0; b < WAIT_HIST_BUCKETS; b++) {
    cum += total[LockStat.WAIT_HIST + b]!;
    if (cum >= rank) return 2 ** (b + 1);
  }
  return 2 ** WAIT_HIST_BUCKETS;
}

/**
 * The rows of the lock table. `measuredNs` and the stats are raw (runtime clock) ns, converted to
 * emulated time with `tb`; `coreLabel` names a worker (default h<host>.c<core> needs the cores per host).
 */
export function lockRows(stats: Array<{ cls: string; perCore: Float64Array[]; total: Float64Array }>, measuredNs: number,
  tb: TimeBase = { rawNsPerEmulatedNs: 1 }, coreLabel: (globalCore: number) => string = (g) => `#${g}`): LockRow[] {
  const emu = (ns: number): number => toEmulatedNs(ns, tb);
  const secs = emu(measuredNs) / 1e9;
  return stats.map(({ cls, perCore, total }) => {
    const acq = total[LockStat.ACQUISITIONS]!;
    const misses = total[LockStat.MISSES]!;
    const waitNs = total[LockStat.WAIT_NS]!;
    const maxWaitNs = perCore.reduce((m, row) => Math.max(m, row[LockStat.MAX_WAIT_NS]!), 0);
    const holdSamples = total[LockStat.HOLD_SAMPLES]!;
    const holdNsEst = holdSamples > 0 ? (total[LockStat.HOLD_NS_SAMPLED]! / holdSamples) * acq : 0;
    // P99 over all acquisitions: uncontended ones waited 0.
    const rank = Math.ceil(acq * 0.99);
    const uncontended = acq - misses;
    const p99 = acq === 0 || rank <= uncontended ? 0 : Math.min(maxWaitNs, histRank(total, rank - uncontended));
    const topWaiters = perCore
      .map((row, g): [number, number] => [g, row[LockStat.WAIT_NS]!])
      .filter(([, w]) => w > 0)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([g, w]) => ({ core: coreLabel(g), waitNs: emu(w) }));
    return {
      cls,
      acquisitions: acq,
      acquisitionsPerSec: secs > 0 ? acq / secs : 0,
      misses,
      contendedPct: acq > 0 ? (100 * misses) / acq : 0,
      waitPctCore: measuredNs > 0 ? (100 * waitNs) / measuredNs : 0,
      nsPerMiss: misses > 0 ? emu(waitNs) / misses : 0,
      p99WaitNs: emu(p99),
      p99MissWaitNs: misses > 0 ? emu(Math.min(maxWaitNs, histRank(total, Math.ceil(misses * 0.99)))) : 0,
      maxWaitNs: emu(maxWaitNs),
      holdPctCore: measuredNs > 0 ? (100 * holdNsEst) / measuredNs : 0,
      handoffsPerSec: secs > 0 ? total[LockStat.HANDOFFS]! / secs : 0,
      trylockFails: total[LockStat.TRYLOCK_FAILS]!,
      topWaiters,
    };
  });
}
