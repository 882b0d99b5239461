import { describe, expect, it } from 'vitest';
import { LOCK_STAT_FIELDS, LockStat } from '../../src/shm/lock.js';
import { lockRows } from '../../src/metrics/locks.js';

function row(f: Partial<Record<keyof typeof LockStat, number>>, hist: Record<number, number> = {}): Float64Array {
  const r = new Float64Array(LOCK_STAT_FIELDS);
  for (const [k, v] of Object.entries(f)) r[LockStat[k as keyof typeof LockStat]] = v!;
  for (const [b, n] of Object.entries(hist)) r[LockStat.WAIT_HIST + Number(b)] = n;
  return r;
}

describe('lockRows', () => {
  it("computes metrics.py's figures and the tails from hand-made stats", () => {
    // Core 0: 1000 acquisitions, 20 misses waiting 2 ms in all; core 1: 1000, none missed.
    // Misses: 18 in bucket 10 ([1024, 2048) ns) and 2 in bucket 20 ([1 Mi, 2 Mi) ns).
    const c0 = row({ ACQUISITIONS: 1000, MISSES: 20, WAIT_NS: 2e6, HOLD_NS_SAMPLED: 500, HOLD_SAMPLES: 10, HANDOFFS: 30, MAX_WAIT_NS: 1.5e6 }, { 10: 18, 20: 2 });
    const c1 = row({ ACQUISITIONS: 1000, HANDOFFS: 30, HOLD_NS_SAMPLED: 1500, HOLD_SAMPLES: 10 });
    const total = new Float64Array(LOCK_STAT_FIELDS);
    for (let i = 0; i < LOCK_STAT_FIELDS; i++) total[i] = c0[i]! + c1[i]!;
    const [r] = lockRows([{ cls: 'socket', perCore: [c0, c1], total }], 1e9, undefined, (g) => `h0.c${g}`);
    expect(r!.acquisitionsPerSec).toBe(2000);
    expect(r!.contendedPct).toBe(1);
    expect(r!.waitPctCore).toBeCloseTo(0.2, 12);   // 2 ms of waiting in 1 s = 0.2% of a core
    expect(r!.nsPerMiss).toBe(100_000);
    // P99 over 2000 acquisitions is rank 1980: 1980 uncontended, so it waited 0.
    expect(r!.p99WaitNs).toBe(0);
    // P99 over the 20 misses is rank 20: in bucket 20, whose upper edge 2^21 ns is above the
    // largest wait seen (1.5 ms), so it is reported as that.
    expect(r!.p99MissWaitNs).toBe(1.5e6);
    expect(r!.maxWaitNs).toBe(1.5e6);
    // Mean sampled hold 100 ns x 2000 acquisitions = 0.2 ms in 1 s.
    expect(r!.holdPctCore).toBeCloseTo(0.02, 12);
    expect(r!.handoffsPerSec).toBe(60);
    expect(r!.topWaiters).toEqual([{ core: 'h0.c0', waitNs: 2e6 }]);
  });

  it('reports the upper edge of the P99 bucket when the largest wait is above it, never above the largest wait', () => {
    const c0 = row({ ACQUISITIONS: 100, MISSES: 100, WAIT_NS: 1e5, MAX_WAIT_NS: 5e6 }, { 10: 99, 22: 1 });
    const [r] = lockRows([{ cls: 'grant', perCore: [c0], total: c0 }], 1e9);
    expect(r!.p99MissWaitNs).toBe(2 ** 11); // rank 99 is in bucket 10
    expect(r!.p99WaitNs).toBe(2 ** 11);
    for (const l of lockRows([{ cls: 'grant', perCore: [c0], total: c0 }], 1e9)) expect(l.p99MissWaitNs).toBeLessThanOrEqual(l.maxWaitNs);
  });

  it('reports emulated time: raw ns divided by the dilation, rates per emulated second', () => {
    const c0 = row({ ACQUISITIONS: 1000, MISSES: 10, WAIT_NS: 1e6, MAX_WAIT_NS: 4e5, HANDOFFS: 10 }, { 18: 10 });
    const [r] = lockRows([{ cls: 'socket', perCore: [c0], total: c0 }], 1e9, { rawNsPerEmulatedNs: 10 });
    expect(r!.acquisitionsPerSec).toBe(10_000); // 1000 in 0.1 emulated s
    expect(r!.nsPerMiss).toBe(10_000);
    expect(r!.maxWaitNs).toBe(4e4);
    expect(r!.p99MissWaitNs).toBe(4e4);
    expect(r!.waitPctCore).toBeCloseTo(0.1, 12); // a share: the same in either time
    expect(r!.topWaiters).toEqual([{ core: '#0', waitNs: 1e5 }]);
  });
});
