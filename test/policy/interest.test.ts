import { describe, expect, it } from 'vitest';
import {
  InterestStats, chooseInterest, createThreadChoicePolicy, waiterIndexOf, waiterInsert, waiterRemoveAt,
} from '../../src/policy/interest.js';
import { NEVER_NS, createOffloadState } from '../../src/policy/offload.js';

const BUSY_NS = 100_000;
const NOW = 10_000_000;

describe('chooseInterest', () => {
  it("'first' takes the front waiter and marks its core app-active", () => {
    const st = createOffloadState(8);
    const stats = new InterestStats();
    expect(chooseInterest(Int32Array.of(3, 5), 2, NOW, st, BUSY_NS, 'first', stats)).toBe(0);
    expect(st.lastAppActiveNs[3]).toBe(NOW);
    expect(st.lastAppActiveNs[5]).toBe(NEVER_NS);
    expect([stats.handoffsThreadWaiting, stats.handoffsAltThread]).toEqual([1, 0]);
  });

  it("'idle-core' takes the first waiter whose core had no NAPI/SoftIRQ activity in busy_usecs", () => {
    const st = createOffloadState(8);
    const stats = new InterestStats();
    st.noteSoftirqStart(3, NOW - 10_000);
    expect(chooseInterest(Int32Array.of(3, 5, 7), 3, NOW, st, BUSY_NS, 'idle-core', stats)).toBe(1);
    expect(st.lastAppActiveNs[5]).toBe(NOW);
    expect(st.lastAppActiveNs[3]).toBe(NEVER_NS);
    expect([stats.handoffsThreadWaiting, stats.handoffsAltThread]).toEqual([1, 1]);
  });

  it("'idle-core' falls back to the first waiter when every core is busy, and treats exactly busy_usecs ago as busy", () => {
    const st = createOffloadState(8);
    st.noteGroStart(3, NOW - 1);
    st.noteGroStart(5, NOW - BUSY_NS);
    expect(chooseInterest(Int32Array.of(3, 5), 2, NOW, st, BUSY_NS, 'idle-core')).toBe(0);
    expect(st.lastAppActiveNs[3]).toBe(NOW);
  });

  it('looks only at the first n waiters and returns -1 when nobody waits', () => {
    const st = createOffloadState(8);
    st.noteGroStart(3, NOW);
    expect(chooseInterest(Int32Array.of(3, 5), 1, NOW, st, BUSY_NS, 'idle-core')).toBe(0);
    expect(chooseInterest(Int32Array.of(3, 5), 0, NOW, st, BUSY_NS, 'idle-core')).toBe(-1);
  });

  it('is available as a ThreadChoicePolicy', () => {
    const st = createOffloadState(8);
    st.noteGroStart(3, NOW);
    const p = createThreadChoicePolicy('idle-core');
    expect(p.name).toBe('idle-core');
    expect(p.chooseInterest(Int32Array.of(3, 5), 2, NOW, st, BUSY_NS)).toBe(1);
    expect(p.stats.handoffsAltThread).toBe(1);
  });
});

describe('waiter queue', () => {
  it('LIFO inserts at the front (the kernel), FIFO at the rear', () => {
    const lifo = new Int32Array(4).fill(-1);
    const fifo = new Int32Array(4).fill(-1);
    let nl = 0;
    let nf = 0;
    for (const w of [10, 11, 12]) {
      nl = waiterInsert(lifo, nl, w, 'lifo');
      nf = waiterInsert(fifo, nf, w, 'fifo');
    }
    expect([nl, nf]).toEqual([3, 3]);
    expect(Array.from(lifo.subarray(0, nl))).toEqual([12, 11, 10]);
    expect(Array.from(fifo.subarray(0, nf))).toEqual([10, 11, 12]);
  });

  it('reports a full list with -1 and changes nothing', () => {
    const list = Int32Array.of(1, 2);
    expect(waiterInsert(list, 2, 3, 'lifo')).toBe(-1);
    expect(Array.from(list)).toEqual([1, 2]);
  });

  it('removes at an index keeping the order of the rest', () => {
    const list = Int32Array.of(12, 11, 10, 9);
    expect(waiterIndexOf(list, 4, 11)).toBe(1);
    expect(waiterIndexOf(list, 2, 10)).toBe(-1);
    expect(waiterRemoveAt(list, 4, 1)).toBe(11);
    expect(Array.from(list)).toEqual([12, 10, 9, -1]);
    expect(waiterRemoveAt(list, 3, 2)).toBe(9);
    expect(Array.from(list.subarray(0, 2))).toEqual([12, 10]);
    expect(() => waiterRemoveAt(list, 2, 2)).toThrow(RangeError);
  });
});
