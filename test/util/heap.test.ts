/**
 * The indexed min-heap of src/util/heap.ts against a model (a plain array sorted by the same
 * order): random push / pop / remove / update sequences from a seeded Rng, with many equal keys
 * (ties broken by id), a non-zero base (the pacer's heap is a per-host region of one column),
 * positions checked after every step, and the fabric's (time, key) comparator.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import { AssertionFailed } from '../../src/util/assert.js';
import {
  earlierThenLowerId, heapPop, heapPush, heapRemove, heapRemoveAt, heapSiftUp, heapUpdate,
} from '../../src/util/heap.js';

/** The first broken heap property: a cell whose id has another position, or a child that goes before its parent. */
function heapFault(heap: Int32Array, base: number, pos: Int32Array, size: number, keys: Float64Array): string {
  for (let i = 0; i < size; i++) {
    const id = heap[base + i]!;
    if (pos[id] !== i) return `cell ${i} holds id ${id} whose position is ${pos[id]}`;
    if (i > 0 && earlierThenLowerId(keys, id, heap[base + ((i - 1) >> 1)]!)) return `cell ${i} goes before its parent`;
  }
  return '';
}

/** The model's order: the same as earlierThenLowerId, as a sort comparator. */
function modelSort(model: number[], keys: Float64Array): void {
  model.sort((a, b) => (keys[a]! - keys[b]!) || (a - b));
}

describe('indexed heap (util/heap.ts) against a sorted array', () => {
  for (const seed of [1, 7, 42, 2026]) {
    it(`seed ${seed}: pops come out in (key, id) order through pushes, removals and key changes`, () => {
      const rng = new Rng(seed);
      const ids = 64;
      const base = 5;
      const heap = new Int32Array(base + ids + 3).fill(-7);
      const pos = new Int32Array(ids).fill(-1);
      const keys = new Float64Array(ids);
      const model: number[] = [];
      let size = 0;
      let pops = 0;
      for (let step = 0; step < 4000; step++) {
        const op = rng.nextBelow(10);
        if (op < 4 && size < ids) {
          // Push an id not in the heap; keys from a small range so ties are common.
          let id = rng.nextBelow(ids);
          while (pos[id] !== -1) id = (id + 1) % ids;
          keys[id] = rng.nextBelow(8);
          heapPush(heap, base, pos, size++, id, earlierThenLowerId, keys);
          model.push(id);
        } else if (op < 6 && size > 0) {
          modelSort(model, keys);
          const want = model.shift()!;
          expect(heap[base]).toBe(want);
          expect(heapPop(heap, base, pos, size--, earlierThenLowerId, keys)).toBe(want);
          expect(pos[want]).toBe(-1);
          expect(heap[base + size]).toBe(-1);
          pops++;
        } else if (op < 8 && size > 0) {
          const id = model[rng.nextBelow(model.length)]!;
          heapRemove(heap, base, pos, size--, id, earlierThenLowerId, keys);
          model.splice(model.indexOf(id), 1);
          expect(pos[id]).toBe(-1);
        } else if (size > 0) {
          const id = model[rng.nextBelow(model.length)]!;
          keys[id] = rng.nextBelow(8);
          heapUpdate(heap, base, pos, size, id, earlierThenLowerId, keys);
        }
        expect(size).toBe(model.length);
        const fault = heapFault(heap, base, pos, size, keys);
        if (fault !== '') expect.fail(`step ${step}: ${fault}`);
        // The cells before the region are never touched.
        if (heap.subarray(0, base).some((v) => v !== -7)) expect.fail(`step ${step}: a cell before the base was written`);
      }
      // Drain: the full order.
      modelSort(model, keys);
      const out: number[] = [];
      while (size > 0) out.push(heapPop(heap, base, pos, size--, earlierThenLowerId, keys));
      expect(out).toEqual(model);
      expect(pops).toBeGreaterThan(100);
    });
  }

  it('breaks ties by the lower id whatever the push order', () => {
    const keys = new Float64Array(6).fill(3);
    keys[4] = 1;
    const heap = new Int32Array(6);
    const pos = new Int32Array(6).fill(-1);
    let size = 0;
    for (const id of [5, 2, 0, 4, 3, 1]) heapPush(heap, 0, pos, size++, id, earlierThenLowerId, keys);
    const out: number[] = [];
    while (size > 0) out.push(heapPop(heap, 0, pos, size--, earlierThenLowerId, keys));
    expect(out).toEqual([4, 0, 1, 2, 3, 5]);
  });

  it('heapSiftUp after a key moved to the front restores the order and counts its comparisons', () => {
    const keys = Float64Array.from([10, 20, 30, 40, 50, 60, 70]);
    const heap = new Int32Array(7);
    const pos = new Int32Array(7).fill(-1);
    let size = 0;
    let checks = 0;
    for (let id = 0; id < 7; id++) checks += heapPush(heap, 0, pos, size++, id, earlierThenLowerId, keys);
    // Pushing in order: every push compares once with its parent and stops.
    expect(checks).toBe(6);
    keys[6] = 0;
    // Position 6 -> 2 -> 0: two comparisons, both moves.
    expect(heapSiftUp(heap, 0, pos, pos[6]!, earlierThenLowerId, keys)).toBe(2);
    expect(heap[0]).toBe(6);
    expect(heapRemoveAt(heap, 0, pos, size--, 0, earlierThenLowerId, keys)).toBe(6);
    expect(heap[0]).toBe(0);
  });

  it('assertions name a push of an id already in the heap, and a removal of one that is not', () => {
    const keys = new Float64Array(4);
    const heap = new Int32Array(4);
    const pos = new Int32Array(4).fill(-1);
    heapPush(heap, 0, pos, 0, 2, earlierThenLowerId, keys);
    expect(() => heapPush(heap, 0, pos, 1, 2, earlierThenLowerId, keys)).toThrow(AssertionFailed);
    expect(() => heapPush(heap, 0, pos, 1, 2, earlierThenLowerId, keys)).toThrow(/id 2 is already in the heap/);
    expect(() => heapRemove(heap, 0, pos, 1, 3, earlierThenLowerId, keys)).toThrow(/id 3 is not in the heap/);
    expect(() => heapPush(heap, 0, pos, 4, 1, earlierThenLowerId, keys)).toThrow(/fill the 4-cell array/);
  });
});
