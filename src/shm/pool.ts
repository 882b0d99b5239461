/**
 * Slab pool of fixed-size slots (packet buffers, RPC slots). Slots are identified by index;
 * their bytes live in columns owned by the user of the pool. The pool only hands out indices:
 * a per-core cache (in shared memory, written only by its core, so the main thread can audit it
 * after a run) in front of a shared MPMC free list. alloc() returns -1 when the pool is
 * exhausted (counted, never silent). A slot is never handed out twice; at the end of a run
 * `auditPool()` checks that every slot is back (free list + every core cache).
 *
 * Memory (columns, nested with LayoutBuilder.addAll): `free.*` the shared MpmcRing (capacity:
 * next power of two >= slots, so a free never finds it full); `cache`, one block per core on
 * its own cache lines — word 0 the count, then `cacheSlots` slot indices used as a LIFO stack;
 * `stats` (f64, one line per core: exhausted, refills, flushes); `state`, one byte per slot
 * (0 free, 1 allocated) read and written only when the debug check is on (assertions on, see
 * src/util/assert.ts, or the constructor's `debug` option), to catch a double free or a double alloc where it happens.
 * Refill and flush move half a cache (at least one slot) per batch operation on the free list.
 */
import { CACHE_LINE_BYTES, I32_PER_LINE, LayoutBuilder, subLayout, column, type LayoutDesc } from './layout.js';
import { MpmcRing, ShmError, nextPow2, resetRing, ringContents, ringLayout } from './ring.js';
import { ASSERT } from '../util/assert.js';

export interface PoolSpec {
  /** Number of slots (>= 1). */
  slots: number;
  /** Number of cores that may alloc/free (each gets a cache). */
  cores: number;
  /** Per-core cache capacity (slots); refills/flushes move half of it at a time. */
  cacheSlots: number;
}

/** Largest pool we accept (the free ring holds 2 Int32 per cell). */
export const POOL_MAX_SLOTS = 1 << 26;

/** Per-core f64 statistics of a pool (column `stats`, one cache line per core). */
export const PoolStat = { EXHAUSTED: 0, REFILLS: 1, FLUSHES: 2 } as const;
const F64_PER_LINE = CACHE_LINE_BYTES / 8;

/** Int32 words of one core's cache block (count + slots, rounded up to whole lines). */
function cacheStride(spec: PoolSpec): number {
  return Math.ceil((1 + spec.cacheSlots) / I32_PER_LINE) * I32_PER_LINE;
}

function checkSpec(spec: PoolSpec): void {
  const check = (name: string, v: number, lo: number, hi: number): void => {
    if (!Number.isInteger(v) || v < lo || v > hi) {
      throw new ShmError('EPOOL_SPEC', `pool: ${name} must be an integer in [${lo}, ${hi}], got ${v}`);
    }
  };
  check('slots', spec.slots, 1, POOL_MAX_SLOTS);
  check('cores', spec.cores, 1, 4096);
  check('cacheSlots', spec.cacheSlots, 1, 1 << 20);
}

export function poolLayout(spec: PoolSpec): LayoutDesc {
  checkSpec(spec);
  return new LayoutBuilder()
    .addAll('free', ringLayout(nextPow2(spec.slots), 'mpmc'))
    .add('cache', 'i32', spec.cores * cacheStride(spec))
    .add('stats', 'f64', spec.cores * F64_PER_LINE)
    .add('state', 'u8', spec.slots)
    .build();
}

/** Main thread, once, before workers start: puts every slot on the free list. */
export function initPool(sab: SharedArrayBuffer, desc: LayoutDesc, spec: PoolSpec): void {
  checkSpec(spec);
  const freeDesc = subLayout(desc, 'free');
  resetRing(sab, freeDesc, 'mpmc', 0);
  const ring = new MpmcRing(sab, freeDesc);
  if (ring.capacity < spec.slots) {
    throw new ShmError('EPOOL_LAYOUT', `pool: free list of ${ring.capacity} cells cannot hold ${spec.slots} slots`);
  }
  const all = new Int32Array(spec.slots);
  for (let s = 0; s < spec.slots; s++) all[s] = s;
  const pushed = ring.pushBatch(all, spec.slots);
  if (pushed !== spec.slots) throw new ShmError('EPOOL_LAYOUT', `pool: only ${pushed} of ${spec.slots} slots fit the free list`);
  column(sab, desc, 'cache', 'i32').fill(0);
  column(sab, desc, 'stats', 'f64').fill(0);
  column(sab, desc, 'state', 'u8').fill(0);
}

export interface SlabPoolOptions {
  /** Check every alloc/free against a per-slot state byte (default: src/util/assert.ts's ASSERT: in tests and with HOMA_EMU_ASSERT=1). */
  debug?: boolean;
}

const STATE_FREE = 0;
const STATE_ALLOCATED = 1;

/** Spins on the free list before alloc() declares the pool exhausted (others may be mid-push). */
const REFILL_RETRIES = 64;

export class SlabPool {
  /** alloc() calls that found no slot. */
  exhausted = 0;
  readonly slots: number;
  readonly core: number;
  readonly debug: boolean;
  private readonly freeList: MpmcRing;
  private readonly cache: Int32Array;
  /** This core's slot stack: cache[base + 1 ..]; count at cache[base]. */
  private readonly base: number;
  private readonly stack: Int32Array;
  private readonly cacheSlots: number;
  private readonly half: number;
  private readonly scratch: Int32Array;
  private readonly stats: Float64Array;
  private readonly statBase: number;
  private readonly state: Uint8Array;

  constructor(sab: SharedArrayBuffer, desc: LayoutDesc, spec: PoolSpec, core: number, opts?: SlabPoolOptions) {
    checkSpec(spec);
    if (!Number.isInteger(core) || core < 0 || core >= spec.cores) {
      throw new ShmError('EPOOL_CORE', `pool: core must be an integer in [0, ${spec.cores - 1}], got ${core}`);
    }
    this.slots = spec.slots;
    this.core = core;
    this.debug = opts?.debug ?? ASSERT;
    this.freeList = new MpmcRing(sab, subLayout(desc, 'free'));
    this.cache = column(sab, desc, 'cache', 'i32');
    this.base = core * cacheStride(spec);
    this.stack = this.cache.subarray(this.base + 1, this.base + 1 + spec.cacheSlots);
    this.cacheSlots = spec.cacheSlots;
    this.half = Math.max(1, spec.cacheSlots >> 1);
    this.scratch = new Int32Array(this.half);
    this.stats = column(sab, desc, 'stats', 'f64');
    this.statBase = core * F64_PER_LINE;
    this.state = column(sab, desc, 'state', 'u8');
  }

  /** Returns a free slot index, or -1 if none is left. */
  alloc(): number {
    let n = this.cache[this.base]!;
    if (n === 0) {
      n = this.refill();
      if (n === 0) {
        this.exhausted++;
        this.stats[this.statBase + PoolStat.EXHAUSTED]! += 1;
        return -1;
      }
    }
    n--;
    const slot = this.stack[n]!;
    this.cache[this.base] = n;
    if (this.debug) this.checkTransition(slot, STATE_FREE, STATE_ALLOCATED, 'EPOOL_DOUBLE_ALLOC', 'allocated twice');
    return slot;
  }

  /** Returns a slot to this core's cache (flushing half to the shared list when full). */
  free(slot: number): void {
    if (this.debug) {
      if (!Number.isInteger(slot) || slot < 0 || slot >= this.slots) {
        throw new ShmError('EPOOL_SLOT', `pool: slot must be an integer in [0, ${this.slots - 1}], got ${slot}`);
      }
      this.checkTransition(slot, STATE_ALLOCATED, STATE_FREE, 'EPOOL_DOUBLE_FREE', 'freed twice (or never allocated)');
    }
    let n = this.cache[this.base]!;
    while (n === this.cacheSlots) {
      this.flushSome(this.half);
      n = this.cache[this.base]!;
    }
    this.stack[n] = slot;
    this.cache[this.base] = n + 1;
  }

  /** Moves everything in this core's cache to the shared list (at stop). */
  flush(): void {
    while (this.cache[this.base]! > 0) this.flushSome(this.cache[this.base]!);
  }

  /** Slots in this core's cache. */
  cached(): number {
    return this.cache[this.base]!;
  }

  /** Pops up to half a cache from the free list into the (empty) cache; returns the count. */
  private refill(): number {
    const want = this.half;
    let k = 0;
    for (let tries = 0; k === 0 && tries < REFILL_RETRIES; tries++) {
      k = this.freeList.popBatch(this.stack, want);
      if (k === 0 && this.freeList.size() === 0) break; // really empty, not a producer mid-push
    }
    this.cache[this.base] = k;
    if (k > 0) this.stats[this.statBase + PoolStat.REFILLS]! += 1;
    return k;
  }

  /**
   * Pushes the top `count` slots of the cache to the free list. The free list is never full
   * (its capacity >= slots) but a push may find a cell that a slow consumer has not released
   * yet; what did not go stays in the cache and the caller retries.
   */
  private flushSome(count: number): void {
    const n = this.cache[this.base]!;
    const m = count < n ? count : n;
    const from = n - m;
    const scratch = m <= this.scratch.length ? this.scratch : new Int32Array(m);
    for (let j = 0; j < m; j++) scratch[j] = this.stack[from + j]!;
    const k = this.freeList.pushBatch(scratch, m);
    for (let j = k; j < m; j++) this.stack[from + j - k] = scratch[j]!;
    this.cache[this.base] = n - k;
    if (k > 0) this.stats[this.statBase + PoolStat.FLUSHES]! += 1;
  }

  private checkTransition(slot: number, from: number, to: number, code: string, what: string): void {
    const prev = Atomics.compareExchange(this.state, slot, from, to);
    if (prev !== from) throw new ShmError(code, `pool: slot ${slot} ${what} (core ${this.core})`);
  }
}

export interface PoolAudit {
  /** Slot indices found on the free list and in every core cache (duplicates included). */
  free: number;
  total: number;
  /** Occurrences beyond the first of a slot index. */
  duplicates: number;
  /** Slots found nowhere (still allocated, or lost). */
  missing: number;
  /** Values that are not slot indices (corruption). */
  invalid: number;
  onFreeList: number;
  inCaches: number;
  /** Sum over cores of alloc() calls that found no slot. */
  exhausted: number;
}

/** Main thread, after every worker stopped: free list + caches vs. total. */
export function auditPool(sab: SharedArrayBuffer, desc: LayoutDesc, spec: PoolSpec): PoolAudit {
  checkSpec(spec);
  const seen = new Uint32Array(spec.slots);
  let invalid = 0;
  const count = (s: number): void => {
    if (Number.isInteger(s) && s >= 0 && s < spec.slots) seen[s]!++;
    else invalid++;
  };
  const onList = ringContents(sab, subLayout(desc, 'free'), 'mpmc');
  for (const s of onList) count(s);
  const cache = column(sab, desc, 'cache', 'i32');
  const stride = cacheStride(spec);
  let inCaches = 0;
  for (let c = 0; c < spec.cores; c++) {
    const n = Atomics.load(cache, c * stride);
    const m = Math.max(0, Math.min(n, spec.cacheSlots));
    if (m !== n) invalid++;
    for (let j = 0; j < m; j++) count(cache[c * stride + 1 + j]!);
    inCaches += m;
  }
  let duplicates = 0;
  let missing = 0;
  for (let s = 0; s < spec.slots; s++) {
    if (seen[s]! === 0) missing++;
    else duplicates += seen[s]! - 1;
  }
  const stats = column(sab, desc, 'stats', 'f64');
  let exhausted = 0;
  for (let c = 0; c < spec.cores; c++) exhausted += stats[c * F64_PER_LINE + PoolStat.EXHAUSTED]!;
  return { free: onList.length + inCaches, total: spec.slots, duplicates, missing, invalid, onFreeList: onList.length, inCaches, exhausted };
}
