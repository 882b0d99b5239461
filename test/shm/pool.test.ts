import { afterEach, describe, expect, it } from 'vitest';
import { allocate } from '../../src/shm/layout.js';
import { POOL_MAX_SLOTS, SlabPool, auditPool, initPool, poolLayout, type PoolSpec } from '../../src/shm/pool.js';
import { ShmError } from '../../src/shm/ring.js';
import { compiledUrl } from '../../src/util/paths.js';
import { WorkerGroup, newControl } from '../workers/shm-common.js';
import type { PoolWorkerResult } from '../workers/shm-pool.js';

function setup(spec: PoolSpec): { sab: SharedArrayBuffer; desc: ReturnType<typeof poolLayout> } {
  const desc = poolLayout(spec);
  const sab = allocate(desc);
  initPool(sab, desc, spec);
  return { sab, desc };
}

function codeOf(f: () => unknown): string | undefined {
  try { f(); } catch (e) { return (e as ShmError).code; }
  return undefined;
}

describe('poolLayout', () => {
  it('rejects bad specs with coded errors naming the option', () => {
    expect(codeOf(() => poolLayout({ slots: 0, cores: 1, cacheSlots: 4 }))).toBe('EPOOL_SPEC');
    expect(codeOf(() => poolLayout({ slots: POOL_MAX_SLOTS + 1, cores: 1, cacheSlots: 4 }))).toBe('EPOOL_SPEC');
    expect(() => poolLayout({ slots: 10, cores: 0, cacheSlots: 4 })).toThrow(/cores .*got 0/);
    expect(() => poolLayout({ slots: 10, cores: 1, cacheSlots: 0 })).toThrow(/cacheSlots .*got 0/);
  });

  it('gives each core cache block its own cache lines', () => {
    const desc = poolLayout({ slots: 10, cores: 3, cacheSlots: 20 });
    // 1 count + 20 slots = 21 words -> 32 words (2 lines) per core.
    expect(desc.columns['cache']!.length).toBe(3 * 32);
    expect(desc.columns['free.cells']!.length).toBe(2 * 16); // next pow2 >= 10
  });
});

describe('SlabPool, one thread', () => {
  it('hands out every slot exactly once, then returns -1 and counts it', () => {
    const spec = { slots: 37, cores: 2, cacheSlots: 8 };
    const { sab, desc } = setup(spec);
    const pool = new SlabPool(sab, desc, spec, 1);
    const got: number[] = [];
    for (let i = 0; i < 37; i++) got.push(pool.alloc());
    expect([...got].sort((a, b) => a - b)).toEqual(Array.from({ length: 37 }, (_, i) => i));
    expect(pool.alloc()).toBe(-1);
    expect(pool.alloc()).toBe(-1);
    expect(pool.exhausted).toBe(2);
    const a = auditPool(sab, desc, spec);
    expect(a).toMatchObject({ free: 0, total: 37, duplicates: 0, missing: 37, exhausted: 2 });
    for (const s of got) pool.free(s);
    expect(auditPool(sab, desc, spec)).toMatchObject({ free: 37, duplicates: 0, missing: 0 });
  });

  it('refills half a cache at a time and flush() empties the cache', () => {
    const spec = { slots: 64, cores: 1, cacheSlots: 8 };
    const { sab, desc } = setup(spec);
    const pool = new SlabPool(sab, desc, spec, 0);
    const held = [pool.alloc()]; // refill of 4, one handed out
    expect(pool.cached()).toBe(3);
    expect(auditPool(sab, desc, spec)).toMatchObject({ onFreeList: 60, inCaches: 3, missing: 1 });
    for (let i = 0; i < 4; i++) held.push(pool.alloc()); // the 4th alloc refills again
    expect(pool.cached()).toBe(3);
    expect(auditPool(sab, desc, spec)).toMatchObject({ onFreeList: 56, inCaches: 3, missing: 5 });
    for (const h of held) pool.free(h);
    expect(pool.cached()).toBe(8); // 3 + 5: full, nothing flushed yet
    const again = new SlabPool(sab, desc, spec, 0);
    expect(again.cached()).toBe(8); // the cache lives in shared memory
    pool.flush();
    expect(pool.cached()).toBe(0);
    expect(auditPool(sab, desc, spec)).toMatchObject({ free: 64, onFreeList: 64, inCaches: 0, duplicates: 0, missing: 0 });
  });

  it('flushes half the cache to the free list when a free finds it full', () => {
    const spec = { slots: 16, cores: 2, cacheSlots: 4 };
    const { sab, desc } = setup(spec);
    const a = new SlabPool(sab, desc, spec, 0);
    const b = new SlabPool(sab, desc, spec, 1);
    const slots: number[] = [];
    for (let i = 0; i < 6; i++) slots.push(a.alloc()); // three refills of 2
    expect(a.cached()).toBe(0);
    for (const s of slots.slice(0, 4)) b.free(s);
    expect(b.cached()).toBe(4);
    expect(auditPool(sab, desc, spec)).toMatchObject({ onFreeList: 10, inCaches: 4 });
    b.free(slots[4]!); // full: 2 go to the list, then this one is cached
    expect(b.cached()).toBe(3);
    expect(auditPool(sab, desc, spec)).toMatchObject({ onFreeList: 12, inCaches: 3, missing: 1, duplicates: 0 });
  });

  it('debug mode catches a double free and a free of a slot never allocated', () => {
    const spec = { slots: 8, cores: 1, cacheSlots: 4 };
    const { sab, desc } = setup(spec);
    const pool = new SlabPool(sab, desc, spec, 0, { debug: true });
    const s = pool.alloc();
    pool.free(s);
    expect(codeOf(() => pool.free(s))).toBe('EPOOL_DOUBLE_FREE');
    const t = pool.alloc();
    expect(codeOf(() => pool.free((t + 1) % 8))).toBe('EPOOL_DOUBLE_FREE');
    expect(codeOf(() => pool.free(8))).toBe('EPOOL_SLOT');
    const off = new SlabPool(sab, desc, spec, 0, { debug: false });
    expect(off.debug).toBe(false);
  });

  it('debug mode catches a slot handed out twice (a corrupted cache)', () => {
    const spec = { slots: 8, cores: 1, cacheSlots: 4 };
    const { sab, desc } = setup(spec);
    const pool = new SlabPool(sab, desc, spec, 0, { debug: true });
    const s = pool.alloc();
    const cache = new Int32Array(sab, desc.columns['cache']!.byteOffset, 16);
    cache[1 + cache[0]!] = s; // plant the held slot on top of the cache stack
    cache[0]! += 1;
    expect(codeOf(() => pool.alloc())).toBe('EPOOL_DOUBLE_ALLOC');
    expect(auditPool(sab, desc, spec).duplicates).toBe(0);
  });

  it('auditPool reports duplicates', () => {
    const spec = { slots: 8, cores: 1, cacheSlots: 4 };
    const { sab, desc } = setup(spec);
    const pool = new SlabPool(sab, desc, spec, 0, { debug: false });
    const s = pool.alloc();
    pool.free(s);
    pool.free(s); // no debug: goes through, and the audit sees it
    expect(auditPool(sab, desc, spec)).toMatchObject({ free: 9, duplicates: 1, missing: 0 });
  });

  it('rejects a core outside the spec', () => {
    const spec = { slots: 8, cores: 2, cacheSlots: 4 };
    const { sab, desc } = setup(spec);
    expect(codeOf(() => new SlabPool(sab, desc, spec, 2))).toBe('EPOOL_CORE');
  });
});

const workerUrl = compiledUrl(import.meta.url, '../workers/shm-pool.js');
let group: WorkerGroup | undefined;
afterEach(async () => {
  await group?.terminate();
  group = undefined;
});

describe('SlabPool under real concurrency (worker threads)', { timeout: 30_000 }, () => {
  it.each([false, true])('4 cores alloc/free random batches: no slot handed out twice, all back at the end (debug %s)', async (debug) => {
    const spec = { slots: 200, cores: 4, cacheSlots: 16 };
    const { sab, desc } = setup(spec);
    const owner = new Int32Array(new SharedArrayBuffer(4 * spec.slots)).fill(-1);
    const ctl = newControl();
    group = new WorkerGroup();
    for (let core = 0; core < 4; core++) {
      // 4 x 64 held at most > 200 slots: the pool runs dry now and then.
      group.spawn(workerUrl, { sab, desc, spec, core, ctl, owner, iterations: 40_000, maxHeld: 64, seed: 12345 + core * 777, debug });
    }
    const results = (await group.run(ctl)) as PoolWorkerResult[];
    for (const r of results) {
      expect(r.firstError).toBe('');
      expect(r.errors).toBe(0);
      expect(r.frees).toBe(r.allocs);
      expect(r.exhausted).toBe(r.failedAllocs);
    }
    expect(Array.from(owner).every((o) => o === -1)).toBe(true);
    const audit = auditPool(sab, desc, spec);
    expect(audit).toMatchObject({ free: 200, total: 200, duplicates: 0, missing: 0, invalid: 0, inCaches: 0 });
    expect(audit.exhausted).toBe(results.reduce((a, r) => a + r.exhausted, 0));
  });
});
