/**
 * Slab pool of fixed-size slots (packet buffers, RPC slots). Slots are identified by index;
 * their bytes live in columns owned by the user of the pool. The pool only hands out indices:
 * a per-core cache (in shared memory, written only by its core, so the main thread can audit it
 * after a run) in front of a shared MPMC free list. alloc() returns -1 when the pool is
 * exhausted (counted, never silent). A slot is never handed out twice; at the end of a run
 * `audit()` checks that every slot is back (free list + every core cache).
 *
 * STATUS: API contract. Implementation in progress (see issue "Runtime").
 */
import type { LayoutDesc } from './layout.js';

export interface PoolSpec {
  /** Number of slots (>= 1). */
  slots: number;
  /** Number of cores that may alloc/free (each gets a cache). */
  cores: number;
  /** Per-core cache capacity (slots); refills/flushes move half of it at a time. */
  cacheSlots: number;
}

export function poolLayout(spec: PoolSpec): LayoutDesc { void spec; throw new Error('not implemented'); }

/** Main thread, once, before workers start: puts every slot on the free list. */
export function initPool(sab: SharedArrayBuffer, desc: LayoutDesc, spec: PoolSpec): void { void sab; void desc; void spec; throw new Error('not implemented'); }

export class SlabPool {
  /** alloc() calls that found no slot. */
  exhausted = 0;
  constructor(sab: SharedArrayBuffer, desc: LayoutDesc, spec: PoolSpec, core: number) { void sab; void desc; void spec; void core; throw new Error('not implemented'); }
  /** Returns a free slot index, or -1 if none is left. */
  alloc(): number { return -1; }
  /** Returns a slot to this core's cache (flushing half to the shared list when full). */
  free(slot: number): void { void slot; }
  /** Moves everything in this core's cache to the shared list (at stop). */
  flush(): void {}
}

/** Main thread, after every worker stopped: free list + caches vs. total. */
export function auditPool(sab: SharedArrayBuffer, desc: LayoutDesc, spec: PoolSpec): { free: number; total: number; duplicates: number } {
  void sab; void desc; void spec; throw new Error('not implemented');
}
