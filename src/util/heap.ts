/**
 * The one binary min-heap of homa-emu (issue 9: the fabric's switch events and the pacer's
 * throttled RPCs used to have a heap each). An indexed heap of small integer ids: the heap is a
 * region `heap[base .. base + size)` of an Int32Array holding ids, and `pos[id]` holds each id's
 * position in it (-1 when the id is not in the heap), so an entry can be removed or re-sifted by
 * id in O(log n). Free functions over typed arrays, because the pacer's heap lives in shared
 * memory (the `pacer.heap` column, per-RPC positions in `rpc.thrPrev`, the size in a shared
 * counter the caller owns) and the fabric's is worker-private: the caller keeps the size and
 * passes it in. The order is a comparator `before(ctx, a, b)` (true when id a must come out
 * before id b; it must be a strict total order over the ids in the heap, e.g. ties broken by id,
 * so the pop order is fixed by the ids and their keys alone, whatever the heap's layout); pass a
 * module-level function and a long-lived `ctx` (a key column, the protocol state), never a
 * closure made per call: nothing here allocates. A caller that changes an entry's key must call
 * `heapUpdate` (or `heapSiftUp` when the key only moved towards the front) before the next
 * operation. Assertions (util/assert.ts) check capacity and membership.
 */
import { ASSERT, assert } from './assert.js';

/** True when id `a` goes before id `b` (a strict total order over the ids in one heap). */
export type HeapBefore<C> = (ctx: C, a: number, b: number) => boolean;

/**
 * Moves the entry at position i towards the root while it goes before its parent. Returns the
 * comparisons made (the pacer counts them as throttle_list_checks).
 */
export function heapSiftUp<C>(heap: Int32Array, base: number, pos: Int32Array, i: number,
  before: HeapBefore<C>, ctx: C): number {
  const id = heap[base + i]!;
  let checks = 0;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const p = heap[base + parent]!;
    checks++;
    if (!before(ctx, id, p)) break;
    heap[base + i] = p;
    pos[p] = i;
    i = parent;
  }
  heap[base + i] = id;
  pos[id] = i;
  return checks;
}

/** Moves the entry at position i away from the root below children that go before it (heap of `size`). */
export function heapSiftDown<C>(heap: Int32Array, base: number, pos: Int32Array, i: number, size: number,
  before: HeapBefore<C>, ctx: C): void {
  const id = heap[base + i]!;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= size) break;
    let c = l;
    if (l + 1 < size && before(ctx, heap[base + l + 1]!, heap[base + l]!)) c = l + 1;
    const cid = heap[base + c]!;
    if (!before(ctx, cid, id)) break;
    heap[base + i] = cid;
    pos[cid] = i;
    i = c;
  }
  heap[base + i] = id;
  pos[id] = i;
}

/**
 * Adds `id` to a heap of `size` entries (the caller then counts size + 1). Returns the
 * comparisons made while sifting up.
 */
export function heapPush<C>(heap: Int32Array, base: number, pos: Int32Array, size: number, id: number,
  before: HeapBefore<C>, ctx: C): number {
  if (ASSERT) {
    assert(base + size < heap.length, `heap push: ${size} entries at base ${base} fill the ${heap.length}-cell array`);
    const p = pos[id]!;
    assert(!(p >= 0 && p < size && heap[base + p] === id), `heap push: id ${id} is already in the heap at position ${p}`);
  }
  heap[base + size] = id;
  return heapSiftUp(heap, base, pos, size, before, ctx);
}

/**
 * Removes the entry at position i from a heap of `size` entries (the caller then counts
 * size - 1): the last entry takes its place and sifts down, or up if it did not move down. The vacated cell is set
 * to -1 and the removed id's position to -1. Returns the removed id.
 */
export function heapRemoveAt<C>(heap: Int32Array, base: number, pos: Int32Array, size: number, i: number,
  before: HeapBefore<C>, ctx: C): number {
  if (ASSERT) assert(i >= 0 && i < size, `heap remove: position ${i} outside a heap of ${size} entries`);
  const id = heap[base + i]!;
  const n = size - 1;
  const last = heap[base + n]!;
  heap[base + n] = -1;
  if (i !== n) {
    heap[base + i] = last;
    pos[last] = i;
    heapSiftDown(heap, base, pos, i, n, before, ctx);
    // Only an entry that did not move down can need to move up (its new parent went before the children it passed).
    if (pos[last] === i) heapSiftUp(heap, base, pos, i, before, ctx);
  }
  pos[id] = -1;
  return id;
}

/** Removes and returns the first id (the root) of a non-empty heap of `size` entries. */
export function heapPop<C>(heap: Int32Array, base: number, pos: Int32Array, size: number,
  before: HeapBefore<C>, ctx: C): number {
  return heapRemoveAt(heap, base, pos, size, 0, before, ctx);
}

/** Removes `id` (which must be in the heap of `size` entries). */
export function heapRemove<C>(heap: Int32Array, base: number, pos: Int32Array, size: number, id: number,
  before: HeapBefore<C>, ctx: C): void {
  const i = pos[id]!;
  if (ASSERT) assert(i >= 0 && i < size && heap[base + i] === id, `heap remove: id ${id} is not in the heap (position ${i})`);
  heapRemoveAt(heap, base, pos, size, i, before, ctx);
}

/** Restores the order after the key of `id` (in the heap of `size` entries) changed either way. */
export function heapUpdate<C>(heap: Int32Array, base: number, pos: Int32Array, size: number, id: number,
  before: HeapBefore<C>, ctx: C): void {
  const i = pos[id]!;
  if (ASSERT) assert(i >= 0 && i < size && heap[base + i] === id, `heap update: id ${id} is not in the heap (position ${i})`);
  heapSiftDown(heap, base, pos, i, size, before, ctx);
  if (pos[id] === i) heapSiftUp(heap, base, pos, i, before, ctx);
}

/**
 * The comparator of a heap keyed by a time per id: earlier first, the lower id among equal
 * times (the fabric's switch events; `times[id]` is the key of id).
 */
export function earlierThenLowerId(times: Float64Array, a: number, b: number): boolean {
  const ta = times[a]!;
  const tb = times[b]!;
  return ta < tb || (ta === tb && a < b);
}
