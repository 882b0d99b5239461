import { afterEach, describe, expect, it } from 'vitest';
import { allocate } from '../../src/shm/layout.js';
import {
  DEFAULT_LOCK_OPTIONS, LOCK_STAT_FIELDS, LOCK_STRIDE, LockStat, LockTable, LockTimeoutError, WAIT_HIST_BUCKETS, firstLockId, lockTableLayout,
  readLockStats, waitBucket, type LockTableSpec,
} from '../../src/shm/lock.js';
import type { ShmError } from '../../src/shm/ring.js';
import { compiledUrl } from '../../src/util/paths.js';
import { WorkerGroup, newControl } from '../workers/shm-common.js';
import type { LockWorkerResult } from '../workers/shm-lock.js';

const SPEC: LockTableSpec = { classes: ['bucket', 'grant'], locksPerClass: [3, 1], cores: 4 };

function setup(spec = SPEC): { sab: SharedArrayBuffer; desc: ReturnType<typeof lockTableLayout> } {
  const desc = lockTableLayout(spec);
  return { sab: allocate(desc), desc };
}

function codeOf(f: () => unknown): string | undefined {
  try { f(); } catch (e) { return (e as ShmError).code; }
  return undefined;
}

function hist(row: Float64Array): number {
  let n = 0;
  for (let b = 0; b < WAIT_HIST_BUCKETS; b++) n += row[LockStat.WAIT_HIST + b]!;
  return n;
}

describe('lockTableLayout', () => {
  it('gives each lock its own cache line and one stat row per class and core', () => {
    const desc = lockTableLayout(SPEC);
    expect(LOCK_STRIDE * 4).toBe(64);
    expect(desc.columns['words']!.length).toBe(4 * 16);
    expect(desc.columns['stats']!.length).toBe(2 * 4 * LOCK_STAT_FIELDS);
    expect((LOCK_STAT_FIELDS * 8) % 64).toBe(0);
    expect(firstLockId(SPEC, 1)).toBe(3);
  });

  it('rejects bad specs and options with coded errors', () => {
    expect(codeOf(() => lockTableLayout({ classes: ['a'], locksPerClass: [1, 2], cores: 1 }))).toBe('ELOCK_SPEC');
    expect(codeOf(() => lockTableLayout({ classes: ['a'], locksPerClass: [0], cores: 1 }))).toBe('ELOCK_SPEC');
    const { sab, desc } = setup();
    expect(codeOf(() => new LockTable(sab, desc, SPEC, 4))).toBe('ELOCK_CORE');
    expect(() => new LockTable(sab, desc, SPEC, 0, { holdSampleEvery: 3 })).toThrow(/holdSampleEvery .*got 3/);
    expect(codeOf(() => new LockTable(sab, desc, SPEC, 0, { spinLimit: -1 }))).toBe('ELOCK_OPTION');
  });
});

describe('waitBucket', () => {
  it('puts [2^b, 2^(b+1)) ns in bucket b, clamped', () => {
    expect([0, 1, 2, 3, 4, 1023, 1024, 1e6, 2 ** 45].map(waitBucket)).toEqual([0, 0, 1, 1, 2, 9, 10, 19, WAIT_HIST_BUCKETS - 1]);
  });
});

describe('LockTable, one thread', () => {
  it('lock/unlock counts acquisitions, hand-offs and sampled hold times per class and core', () => {
    const { sab, desc } = setup();
    const c0 = new LockTable(sab, desc, SPEC, 0, { holdSampleEvery: 4 });
    const c2 = new LockTable(sab, desc, SPEC, 2, { holdSampleEvery: 4 });
    for (let i = 0; i < 10; i++) { c0.lock(1); c0.unlock(1); }
    c2.lock(1); // hand-off: core 2 takes a lock last held by core 0
    expect(c0.holder(1)).toBe(2);
    c2.unlock(1);
    expect(c0.holder(1)).toBe(-1);
    c2.lock(3); c2.unlock(3); // first ever acquisition: not a hand-off
    const [bucket, grant] = readLockStats(sab, desc, SPEC);
    expect(bucket!.cls).toBe('bucket');
    expect(bucket!.perCore[0]![LockStat.ACQUISITIONS]).toBe(10);
    expect(bucket!.perCore[0]![LockStat.HOLD_SAMPLES]).toBe(3); // acquisitions #0, #4, #8
    expect(bucket!.perCore[2]![LockStat.ACQUISITIONS]).toBe(1);
    expect(bucket!.perCore[2]![LockStat.HANDOFFS]).toBe(1);
    expect(bucket!.total[LockStat.ACQUISITIONS]).toBe(11);
    expect(bucket!.total[LockStat.MISSES]).toBe(0);
    expect(bucket!.total[LockStat.HOLD_NS_SAMPLED]).toBeGreaterThanOrEqual(0);
    expect(grant!.total[LockStat.ACQUISITIONS]).toBe(1);
    expect(grant!.total[LockStat.HANDOFFS]).toBe(0);
    c0.resetStats();
    const after = readLockStats(sab, desc, SPEC);
    expect(after[0]!.perCore[0]![LockStat.ACQUISITIONS]).toBe(0);
    expect(after[0]!.perCore[2]![LockStat.ACQUISITIONS]).toBe(1); // other cores' rows untouched
  });

  it('virtual time: a hold that overlaps, in emulated time, one another core made first on the host is counted with the wait it missed', () => {
    const { sab, desc } = setup();
    const v0 = { t: 0 };
    const v1 = { t: 0 };
    const c0 = new LockTable(sab, desc, SPEC, 0, { vclock: v0 });
    const c1 = new LockTable(sab, desc, SPEC, 1, { vclock: v1 });
    // Core 1, ahead in emulated time, holds lock 1 over [5000, 6000] first.
    v1.t = 5000; c1.lock(1); v1.t = 6000; c1.unlock(1);
    // Core 0 takes it at 1000 (its clock: it came first) and releases at 2000: no overlap, no error.
    v0.t = 1000; c0.lock(1); v0.t = 2000; c0.unlock(1);
    expect([c0.orderInversions, c1.orderInversions]).toEqual([0, 0]);
    // Core 1 again over [9000, 9500]; core 0 holds it over [8500, 9200]: in emulated order core 1
    // would have waited from 9000 to 9200, and nobody counted that.
    v1.t = 9000; c1.lock(1); v1.t = 9500; c1.unlock(1);
    v0.t = 8500; c0.lock(1); v0.t = 9200; c0.unlock(1);
    expect([c0.orderInversions, c0.orderInversionNs, c0.orderInversionMaxNs]).toEqual([1, 200, 200]);
    // Neither waited in emulated time (core 0 came first; core 1 got it free on the host).
    expect(readLockStats(sab, desc, SPEC)[0]!.total[LockStat.WAIT_NS]).toBe(0);
    // In order, the later acquirer waits for the release and nothing is out of order.
    v0.t = 20_000; c0.lock(1); v0.t = 20_500; c0.unlock(1);
    v1.t = 20_100; c1.lock(1);
    expect(v1.t).toBe(20_500);
    c1.unlock(1);
    expect(c1.orderInversions).toBe(0);
    c0.resetStats();
    expect(c0.orderInversions).toBe(0);
  });

  it('trylock acquires a free lock and fails (counted) on a held one', () => {
    const { sab, desc } = setup();
    const c0 = new LockTable(sab, desc, SPEC, 0);
    const c1 = new LockTable(sab, desc, SPEC, 1);
    expect(c0.trylock(0)).toBe(true);
    expect(c1.trylock(0)).toBe(false);
    expect(c1.trylock(0)).toBe(false);
    expect(c0.trylock(0)).toBe(false); // not re-entrant
    c0.unlock(0);
    expect(c1.trylock(0)).toBe(true);
    c1.unlock(0);
    const s = readLockStats(sab, desc, SPEC)[0]!;
    expect(s.perCore[0]![LockStat.ACQUISITIONS]).toBe(1);
    expect(s.perCore[0]![LockStat.TRYLOCK_FAILS]).toBe(1);
    expect(s.perCore[1]![LockStat.ACQUISITIONS]).toBe(1);
    expect(s.perCore[1]![LockStat.TRYLOCK_FAILS]).toBe(2);
    expect(s.perCore[1]![LockStat.HANDOFFS]).toBe(1);
  });

  it('a wait beyond maxWaitNs throws LockTimeoutError naming the lock, holder and waiter', () => {
    const { sab, desc } = setup();
    const c0 = new LockTable(sab, desc, SPEC, 0);
    const c1 = new LockTable(sab, desc, SPEC, 1, { spinLimit: 5, waitTimeoutMs: 1, maxWaitNs: 100_000 });
    c0.lock(3);
    let err: unknown;
    try { c1.lock(3); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(LockTimeoutError);
    const t = err as LockTimeoutError;
    expect(t.code).toBe('ELOCKTIMEOUT');
    expect([t.lockId, t.lockClass, t.holderCore, t.waiterCore]).toEqual([3, 'grant', 0, 1]);
    expect(t.waitedNs).toBeGreaterThan(100_000);
    expect(t.message).toMatch(/grant#3 .*core 1; held by core 0/);
    expect(c0.holder(3)).toBe(0);
    c0.unlock(3);
    c1.lock(3); // free again: fast path
    expect(c1.holder(3)).toBe(1);
    c1.unlock(3);
    const s = readLockStats(sab, desc, SPEC)[1]!;
    expect(s.perCore[1]![LockStat.ACQUISITIONS]).toBe(1);
    expect(s.perCore[1]![LockStat.MISSES]).toBe(0);
  });

  it('debug mode catches an unlock by a core that does not hold the lock', () => {
    const { sab, desc } = setup();
    const c0 = new LockTable(sab, desc, SPEC, 0, { debug: true });
    const c1 = new LockTable(sab, desc, SPEC, 1, { debug: true });
    expect(codeOf(() => c0.unlock(0))).toBe('ELOCK_NOT_HELD');
    c0.lock(0);
    expect(codeOf(() => c1.unlock(0))).toBe('ELOCK_NOT_HELD');
    expect(codeOf(() => c1.lock(4))).toBe('ELOCK_ID');
    c0.unlock(0);
    const off = new LockTable(sab, desc, SPEC, 1, { debug: false });
    off.unlock(0); // unchecked without debug
  });

  it('debug mode catches a core acquiring a lock it already holds (a self-deadlock), and forgets a released one', () => {
    const { sab, desc } = setup();
    const c0 = new LockTable(sab, desc, SPEC, 0, { debug: true });
    c0.lock(2);
    let err: unknown;
    try { c0.lock(2); } catch (e) { err = e; }
    expect((err as { code?: string }).code).toBe('ELOCK_HELD');
    expect((err as Error).message).toMatch(/^lock \w+#2: core 0 acquires a lock it already holds$/);
    c0.unlock(2);
    c0.lock(2); // released: may be taken again
    c0.unlock(2);
    expect(c0.trylock(2)).toBe(true); // a trylock acquisition counts as held too
    expect(codeOf(() => c0.lock(2))).toBe('ELOCK_HELD');
    c0.unlock(2);
  });
});

const workerUrl = compiledUrl(import.meta.url, '../workers/shm-lock.js');
let group: WorkerGroup | undefined;
afterEach(async () => {
  await group?.terminate();
  group = undefined;
});

describe('LockTable under real concurrency (worker threads)', { timeout: 30_000 }, () => {
  it.each([
    { spinLimit: 200, useTrylock: false },
    { spinLimit: 0, useTrylock: false },
    { spinLimit: 50, useTrylock: true },
  ])('4 cores increment a non-atomic counter under one lock: exact count, stats add up (%o)', async ({ spinLimit, useTrylock }) => {
    const { sab, desc } = setup();
    const counter = new Int32Array(new SharedArrayBuffer(64));
    const ctl = newControl();
    const N = 20_000;
    group = new WorkerGroup();
    for (let core = 0; core < 4; core++) {
      group.spawn(workerUrl, { sab, desc, spec: SPEC, core, ctl, counter, lockId: 2, iterations: N, useTrylock, spinLimit });
    }
    const results = (await group.run(ctl)) as LockWorkerResult[];
    expect(counter[0]).toBe(4 * N);
    const [bucket, grant] = readLockStats(sab, desc, SPEC);
    const t = bucket!.total;
    expect(t[LockStat.ACQUISITIONS]).toBe(4 * N);
    expect(t[LockStat.MISSES]).toBeLessThanOrEqual(t[LockStat.ACQUISITIONS]!);
    expect(hist(t)).toBe(t[LockStat.MISSES]);
    expect(t[LockStat.HANDOFFS]).toBeLessThanOrEqual(t[LockStat.ACQUISITIONS]!);
    expect(t[LockStat.MAX_WAIT_NS]).toBeLessThanOrEqual(t[LockStat.WAIT_NS]!);
    for (let core = 0; core < 4; core++) {
      const row = bucket!.perCore[core]!;
      expect(row[LockStat.ACQUISITIONS]).toBe(N);
      expect(row[LockStat.HOLD_SAMPLES]).toBe(Math.ceil(N / DEFAULT_LOCK_OPTIONS.holdSampleEvery)); // ticks 0, every, 2*every...
      expect(hist(row)).toBe(row[LockStat.MISSES]);
      expect(row[LockStat.TRYLOCK_FAILS]).toBe(results[core]!.trylockFails);
    }
    expect(grant!.total[LockStat.ACQUISITIONS]).toBe(0);
  });
});
