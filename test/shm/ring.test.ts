import { afterEach, describe, expect, it } from 'vitest';
import { LayoutBuilder, allocate, subLayout } from '../../src/shm/layout.js';
import {
  MpmcRing, MpscRing, RING_HEAD, RING_TAIL, SpscRing, ShmError, nextPow2, resetRing, ringContents, ringLayout, type RingKind,
} from '../../src/shm/ring.js';
import { compiledUrl } from '../../src/util/paths.js';
import { ASSERT } from '../../src/util/assert.js';
import { WorkerGroup, newControl } from '../workers/shm-common.js';
import type { ConsumerResult } from '../workers/shm-ring.js';

type AnyRing = SpscRing | MpscRing | MpmcRing;
const KINDS: RingKind[] = ['spsc', 'mpsc', 'mpmc'];

function make(kind: RingKind, capacity: number, startPos?: number): { ring: AnyRing; sab: SharedArrayBuffer } {
  const desc = ringLayout(capacity, kind);
  const sab = allocate(desc);
  if (startPos !== undefined) resetRing(sab, desc, kind, startPos);
  const ring = kind === 'spsc' ? new SpscRing(sab, desc) : kind === 'mpsc' ? new MpscRing(sab, desc) : new MpmcRing(sab, desc);
  return { ring, sab };
}

describe('ringLayout', () => {
  it('puts head and tail on separate cache lines and sizes the cells per kind', () => {
    const s = ringLayout(8, 'spsc');
    expect(RING_TAIL * 4 - RING_HEAD * 4).toBe(64);
    expect(s.columns['idx']!.length).toBe(32);
    expect(s.columns['cells']!.length).toBe(8);
    expect(s.columns['cells']!.byteOffset % 64).toBe(0);
    expect(ringLayout(8, 'mpsc').columns['cells']!.length).toBe(16);
    expect(ringLayout(8, 'mpmc').columns['cells']!.length).toBe(16);
  });

  it.each([0, 1, 3, 12, 1000, 2.5, -4, 2 ** 29])('rejects capacity %s with a coded error naming it', (cap) => {
    let err: unknown;
    try { ringLayout(cap, 'spsc'); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ShmError);
    expect((err as ShmError).code).toBe('ERING_CAPACITY');
    expect((err as ShmError).message).toContain(`got ${cap}`);
  });

  it('nextPow2 rounds up', () => {
    expect([1, 2, 3, 4, 5, 1000, 1024, 1025].map(nextPow2)).toEqual([2, 2, 4, 4, 8, 1024, 1024, 2048]);
  });

  it('works nested in a bigger layout (absolute offsets via addAll/subLayout)', () => {
    const desc = new LayoutBuilder().add('pad', 'i32', 5).addAll('rx', ringLayout(4, 'spsc')).addAll('tx', ringLayout(4, 'mpsc')).build();
    const sab = allocate(desc);
    const rx = new SpscRing(sab, subLayout(desc, 'rx'));
    const tx = new MpscRing(sab, subLayout(desc, 'tx'));
    expect(rx.push(7)).toBe(true);
    expect(tx.push(9)).toBe(true);
    // Both rings see only their own values, at the offsets the outer layout gave them.
    const cells = new Int32Array(sab, desc.columns['rx.cells']!.byteOffset, 4);
    expect(cells[0]).toBe(7);
    expect(rx.pop()).toBe(7);
    expect(tx.pop()).toBe(9);
    expect(rx.pop()).toBe(-1);
    expect(tx.pop()).toBe(-1);
  });
});

describe.each(KINDS)('%s ring, one thread', (kind) => {
  it('fills to capacity, then push returns false; pop on empty returns -1', () => {
    const { ring } = make(kind, 8);
    expect(ring.capacity).toBe(8);
    expect(ring.pop()).toBe(-1);
    for (let i = 0; i < 8; i++) expect(ring.push(100 + i)).toBe(true);
    expect(ring.size()).toBe(8);
    expect(ring.push(999)).toBe(false);
    for (let i = 0; i < 8; i++) expect(ring.pop()).toBe(100 + i);
    expect(ring.pop()).toBe(-1);
    expect(ring.size()).toBe(0);
  });

  it('keeps FIFO order over many laps, also across the int32 wrap of the positions', () => {
    for (const start of [0, 0x7ffffff0, -5]) {
      const { ring, sab } = make(kind, 4, start);
      let next = 0;
      let expect_ = 0;
      for (let lap = 0; lap < 50; lap++) {
        const n = 1 + (lap % 4); // 1..4 values per round
        for (let j = 0; j < n; j++) expect(ring.push(next++)).toBe(true);
        for (let j = 0; j < n; j++) expect(ring.pop()).toBe(expect_++);
      }
      expect(ring.pop()).toBe(-1);
      expect(next).toBe(123); // 12 rounds of 1+2+3+4, then 1+2
      const idx = new Int32Array(sab, ringLayout(4, kind).columns['idx']!.byteOffset, 32);
      expect(Atomics.load(idx, RING_TAIL)).toBe((start + 123) | 0);
      expect(Atomics.load(idx, RING_HEAD)).toBe((start + 123) | 0);
    }
  });

  it('pushBatch pushes as many as fit, in order; popBatch pops up to max', () => {
    const { ring } = make(kind, 8);
    expect(ring.push(50)).toBe(true);
    const src = Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(ring.pushBatch(src, 10)).toBe(7);
    expect(ring.pushBatch(src, 3)).toBe(0);
    const dst = new Int32Array(10);
    expect(ring.popBatch(dst, 3)).toBe(3);
    expect(Array.from(dst.subarray(0, 3))).toEqual([50, 0, 1]);
    expect(ring.pushBatch(src, 2)).toBe(2);
    expect(ring.popBatch(dst, 10)).toBe(7);
    expect(Array.from(dst.subarray(0, 7))).toEqual([2, 3, 4, 5, 6, 0, 1]);
    expect(ring.popBatch(dst, 10)).toBe(0);
    expect(ring.pushBatch(src, 0)).toBe(0);
  });

  it('two handles on one buffer see each other (producer and consumer objects)', () => {
    const desc = ringLayout(4, kind);
    const sab = allocate(desc);
    const C = kind === 'spsc' ? SpscRing : kind === 'mpsc' ? MpscRing : MpmcRing;
    const prod = new C(sab, desc);
    const cons = new C(sab, desc);
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 4; i++) expect(prod.push(round * 4 + i)).toBe(true);
      expect(prod.push(77)).toBe(false);
      for (let i = 0; i < 4; i++) expect(cons.pop()).toBe(round * 4 + i);
      expect(cons.pop()).toBe(-1);
    }
    expect(Array.from(ringContents(sab, desc, kind))).toEqual([]);
    prod.push(3);
    prod.push(1);
    expect(Array.from(ringContents(sab, desc, kind))).toEqual([3, 1]);
  });
});

describe.each(KINDS)('%s ring, assertions (on in tests)', (kind) => {
  it('a value that is not a slot index fails on push, naming the side', () => {
    expect(ASSERT).toBe(true);
    const { ring } = make(kind, 8);
    expect(() => ring.push(-1)).toThrow(/^assertion failed: (spsc|ring) push: a ring carries slot indices >= 0, got -1$/);
    expect(() => ring.pushBatch(Int32Array.of(1, -3), 2)).toThrow(/pushBatch: a ring carries slot indices >= 0, got -3$/);
    expect(ring.size()).toBe(0);
  });

  it('a corrupted cell fails on pop, naming the side', () => {
    const { ring, sab } = make(kind, 4);
    ring.push(5);
    // Overwrite the value part of cell 0 (SPSC: the cell itself; Vyukov rings: its second word).
    const desc = ringLayout(4, kind);
    const cells = new Int32Array(sab, desc.columns['cells']!.byteOffset, desc.columns['cells']!.length);
    cells[kind === 'spsc' ? 0 : 1] = -9;
    expect(() => ring.pop()).toThrow(new RegExp(`^assertion failed: ${kind} pop: a ring carries slot indices >= 0, got -9$`));
  });

  it.skipIf(kind === 'mpmc')('a second consumer (a ring with one consumer) fails on pop', () => {
    const desc = ringLayout(4, kind);
    const sab = allocate(desc);
    const C = kind === 'spsc' ? SpscRing : MpscRing;
    const a = new C(sab, desc);
    const b = new C(sab, desc);
    a.push(1);
    a.push(2);
    expect(a.pop()).toBe(1);
    expect(() => b.pop()).toThrow(new RegExp(`^assertion failed: ${kind} pop: one consumer \\(the head moved under this one\\)$`));
  });

  it.skipIf(kind !== 'spsc')('a second producer fails on push', () => {
    const desc = ringLayout(4, kind);
    const sab = allocate(desc);
    const a = new SpscRing(sab, desc);
    const b = new SpscRing(sab, desc);
    a.push(1);
    expect(() => b.push(2)).toThrow(/^assertion failed: spsc push: one producer \(the tail moved under this one\)$/);
  });
});

// ---------------------------------------------------------------------------------------------
// Real concurrency: worker threads on the compiled ring.

const workerUrl = compiledUrl(import.meta.url, '../workers/shm-ring.js');
let group: WorkerGroup | undefined;
afterEach(async () => {
  await group?.terminate();
  group = undefined;
});

interface RunSpec { kind: RingKind; capacity: number; producers: number; consumers: number; count: number; batch: number }

/** Runs producers and consumers; returns the consumers' results and the shared seen counters. */
async function runRing(s: RunSpec): Promise<{ results: ConsumerResult[]; seen: Int32Array }> {
  const desc = ringLayout(s.capacity, s.kind);
  const sab = allocate(desc);
  const ctl = newControl();
  const seen = new Int32Array(new SharedArrayBuffer(4 * s.producers * s.count));
  group = new WorkerGroup();
  const common = { kind: s.kind, sab, desc, ctl, count: s.count, batch: s.batch, producers: s.producers, seen };
  for (let c = 0; c < s.consumers; c++) {
    group.spawn(workerUrl, { ...common, role: 'consumer', id: -1, expected: s.producers * s.count, soleConsumer: s.consumers === 1 });
  }
  for (let p = 0; p < s.producers; p++) {
    group.spawn(workerUrl, { ...common, role: 'producer', id: p, expected: 0, soleConsumer: false });
  }
  const all = await group.run(ctl);
  return { results: all.slice(0, s.consumers) as ConsumerResult[], seen };
}

function expectEachSeenOnce(seen: Int32Array): void {
  let wrong = 0;
  for (let i = 0; i < seen.length; i++) if (seen[i] !== 1) wrong++;
  expect(wrong).toBe(0);
}

describe('rings under real concurrency (worker threads)', { timeout: 30_000 }, () => {
  it.each([1, 32])('SpscRing: 1 producer, 1 consumer, 400k items, batch %i: none lost, duplicated or reordered', async (batch) => {
    const { results, seen } = await runRing({ kind: 'spsc', capacity: 64, producers: 1, consumers: 1, count: 400_000, batch });
    expect(results[0]!.firstError).toBe('');
    expect(results[0]!.errors).toBe(0);
    expect(results[0]!.received).toBe(400_000);
    expectEachSeenOnce(seen);
  });

  it.each([1, 16])('MpscRing: 3 producers, 1 consumer, 3 x 150k items, batch %i: per-producer order kept', async (batch) => {
    const { results, seen } = await runRing({ kind: 'mpsc', capacity: 128, producers: 3, consumers: 1, count: 150_000, batch });
    expect(results[0]!.firstError).toBe('');
    expect(results[0]!.errors).toBe(0);
    expect(results[0]!.received).toBe(450_000);
    expectEachSeenOnce(seen);
  });

  it.each([1, 8])('MpmcRing: 2 producers, 2 consumers, 2 x 100k items, batch %i: multiset out = multiset in', async (batch) => {
    const { results, seen } = await runRing({ kind: 'mpmc', capacity: 64, producers: 2, consumers: 2, count: 100_000, batch });
    for (const r of results) expect(r.firstError).toBe('');
    expect(results[0]!.received + results[1]!.received).toBe(200_000);
    expectEachSeenOnce(seen);
  });
});
