/**
 * Rings of 32-bit slot indices in shared memory: the only way packets (as packet-pool slot
 * indices) move between cores. SPSC for one producer and one consumer (a core's NIC RX channel,
 * fabric→NIC), MPSC for many producers and one consumer (a NIC TX ring fed by every core, a
 * core's SoftIRQ backlog fed by every NAPI core), MPMC for shared free lists. Capacity is a
 * power of two; head and tail live on separate cache lines; full and empty are return values,
 * never exceptions. Each side caches the other side's index and publishes once per batch,
 * because every Atomics operation costs 11–20 ns against 1 ns for a plain access.
 *
 * Memory: column `idx` holds the head (consumer position, word 0) and the tail (producer
 * position, word 16), each on its own 64-byte line. Positions are int32 counters that wrap; a
 * ring of capacity C stores position p in cell p & (C-1). SPSC `cells` holds one value per cell.
 * MPSC/MPMC (Vyukov's bounded queue) `cells` holds pairs [seq, value]: the sequence word says
 * whose turn the cell is. It is stored *relative to the cell index* (seq - i) so that an all-zero
 * buffer is a valid empty ring: nobody has to initialise a ring before workers map it. All
 * position arithmetic is int32 and compared as `(a - b) | 0`, so wrap-around at 2^32 is harmless.
 */
import { ASSERT, assert } from '../util/assert.js';
import { LayoutBuilder, I32_PER_LINE, type LayoutDesc } from './layout.js';

/** An error a user (or a caller's config) can cause: carries a stable `code`. */
export class ShmError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'ShmError';
  }
}

/** A value a ring carries: a slot index (>= 0; -1 means empty). Checked on both sides when ASSERT is on. */
function checkValue(v: number, side: string): void {
  assert(Number.isInteger(v) && v >= 0 && v <= 0x7fffffff, `${side}: a ring carries slot indices >= 0, got ${v}`);
}

export type RingKind = 'spsc' | 'mpsc' | 'mpmc';

/** Smallest and largest ring capacities accepted (Vyukov cells need >= 2). */
export const RING_MIN_CAPACITY = 2;
export const RING_MAX_CAPACITY = 1 << 28;

/** Word of `idx` holding the head (consumer position). */
export const RING_HEAD = 0;
/** Word of `idx` holding the tail (producer position): one cache line after the head. */
export const RING_TAIL = I32_PER_LINE;

function checkCapacity(capacity: number): void {
  if (!Number.isInteger(capacity) || capacity < RING_MIN_CAPACITY || capacity > RING_MAX_CAPACITY
    || (capacity & (capacity - 1)) !== 0) {
    throw new ShmError('ERING_CAPACITY',
      `ring capacity must be a power of two in [${RING_MIN_CAPACITY}, ${RING_MAX_CAPACITY}], got ${capacity}`);
  }
}

/** Smallest power of two >= n (and >= RING_MIN_CAPACITY). */
export function nextPow2(n: number): number {
  let c = RING_MIN_CAPACITY;
  while (c < n) c *= 2;
  return c;
}

/** Layout of one ring: columns `idx` (i32: head/tail on separate lines) and `cells` (i32). */
export function ringLayout(capacity: number, kind: RingKind): LayoutDesc {
  checkCapacity(capacity);
  if (kind !== 'spsc' && kind !== 'mpsc' && kind !== 'mpmc') {
    throw new ShmError('ERING_KIND', `ring kind must be one of spsc, mpsc, mpmc, got ${String(kind)}`);
  }
  return new LayoutBuilder()
    .add('idx', 'i32', 2 * I32_PER_LINE)
    .add('cells', 'i32', kind === 'spsc' ? capacity : 2 * capacity)
    .build();
}

interface RingViews { idx: Int32Array; cells: Int32Array }

function mapRing(sab: SharedArrayBuffer, desc: LayoutDesc, cellsPerSlot: number): RingViews {
  const ci = desc.columns['idx'];
  const cc = desc.columns['cells'];
  if (ci === undefined || cc === undefined || ci.type !== 'i32' || cc.type !== 'i32' || ci.length < 2 * I32_PER_LINE) {
    throw new ShmError('ERING_LAYOUT', 'ring: layout lacks i32 columns idx and cells (use ringLayout)');
  }
  if (cc.length % cellsPerSlot !== 0) {
    throw new ShmError('ERING_LAYOUT', `ring: cells column of ${cc.length} words does not match the ring kind`);
  }
  checkCapacity(cc.length / cellsPerSlot);
  if (sab.byteLength < cc.byteOffset + cc.length * 4 || sab.byteLength < ci.byteOffset + ci.length * 4) {
    throw new ShmError('ERING_LAYOUT', `ring: buffer of ${sab.byteLength} bytes is too small for its layout`);
  }
  return {
    idx: new Int32Array(sab, ci.byteOffset, ci.length),
    cells: new Int32Array(sab, cc.byteOffset, cc.length),
  };
}

/**
 * Main thread or tests, on a ring nobody is using: empties it and moves both positions to
 * `startPos` (int32). Used to reuse a ring and to test wrap-around of the int32 positions.
 */
export function resetRing(sab: SharedArrayBuffer, desc: LayoutDesc, kind: RingKind, startPos = 0): void {
  const spsc = kind === 'spsc';
  const { idx, cells } = mapRing(sab, desc, spsc ? 1 : 2);
  const pos = startPos | 0;
  if (!spsc) {
    const cap = cells.length / 2;
    const mask = cap - 1;
    const lap = pos & ~mask;
    const first = pos & mask;
    for (let i = 0; i < cap; i++) {
      // Cell i is next written at position lap + i (this lap) or lap + cap + i (next lap).
      Atomics.store(cells, 2 * i, i >= first ? lap : (lap + cap) | 0);
      cells[2 * i + 1] = 0;
    }
  } else {
    cells.fill(0);
  }
  Atomics.store(idx, RING_HEAD, pos);
  Atomics.store(idx, RING_TAIL, pos);
}

/**
 * Main thread, when no thread touches the ring: the values in it, oldest first (for audits and
 * tests). Reads cells between head and tail; for Vyukov rings only published cells count.
 */
export function ringContents(sab: SharedArrayBuffer, desc: LayoutDesc, kind: RingKind): Int32Array {
  const spsc = kind === 'spsc';
  const { idx, cells } = mapRing(sab, desc, spsc ? 1 : 2);
  const cap = spsc ? cells.length : cells.length / 2;
  const mask = cap - 1;
  const head = Atomics.load(idx, RING_HEAD);
  const tail = Atomics.load(idx, RING_TAIL);
  const n = Math.max(0, Math.min(cap, (tail - head) | 0));
  const out = new Int32Array(n);
  let k = 0;
  for (let j = 0; j < n; j++) {
    const p = (head + j) | 0;
    const i = p & mask;
    if (spsc) {
      out[k++] = cells[i]!;
    } else if (Atomics.load(cells, 2 * i) === (((p & ~mask) + 1) | 0)) {
      out[k++] = cells[2 * i + 1]!;
    }
  }
  return k === n ? out : out.slice(0, k);
}

/** One producer, one consumer. Not safe for several producers or consumers. */
export class SpscRing {
  readonly capacity: number;
  private readonly mask: number;
  private readonly idx: Int32Array;
  private readonly cells: Int32Array;
  /** Producer side: next position to write, and its cached view of the head. */
  private tail: number;
  private cachedHead: number;
  /** Consumer side: next position to read, and its cached view of the tail. */
  private head: number;
  private cachedTail: number;

  constructor(sab: SharedArrayBuffer, desc: LayoutDesc) {
    const v = mapRing(sab, desc, 1);
    this.idx = v.idx;
    this.cells = v.cells;
    this.capacity = v.cells.length;
    this.mask = this.capacity - 1;
    this.head = Atomics.load(this.idx, RING_HEAD);
    this.tail = Atomics.load(this.idx, RING_TAIL);
    this.cachedHead = this.head;
    this.cachedTail = this.tail;
  }

  /** Producer: returns false if full. */
  push(v: number): boolean {
    const t = this.tail;
    if (ASSERT) {
      checkValue(v, 'spsc push');
      assert(Atomics.load(this.idx, RING_TAIL) === t, 'spsc push: one producer (the tail moved under this one)');
    }
    if (((t - this.cachedHead) | 0) >= this.capacity) {
      this.cachedHead = Atomics.load(this.idx, RING_HEAD);
      if (((t - this.cachedHead) | 0) >= this.capacity) return false;
    }
    this.cells[t & this.mask] = v;
    this.tail = (t + 1) | 0;
    Atomics.store(this.idx, RING_TAIL, this.tail);
    return true;
  }

  /** Producer: pushes up to n values from src[0..n); returns how many were pushed (one publish). */
  pushBatch(src: Int32Array, n: number): number {
    const t = this.tail;
    let room = this.capacity - ((t - this.cachedHead) | 0);
    if (room < n) {
      this.cachedHead = Atomics.load(this.idx, RING_HEAD);
      room = this.capacity - ((t - this.cachedHead) | 0);
    }
    const k = n < room ? n : room;
    if (k <= 0) return 0;
    if (ASSERT) {
      for (let j = 0; j < k; j++) checkValue(src[j]!, 'spsc pushBatch');
      assert(Atomics.load(this.idx, RING_TAIL) === t, 'spsc pushBatch: one producer (the tail moved under this one)');
    }
    const cells = this.cells;
    const mask = this.mask;
    for (let j = 0; j < k; j++) cells[(t + j) & mask] = src[j]!;
    this.tail = (t + k) | 0;
    Atomics.store(this.idx, RING_TAIL, this.tail);
    return k;
  }

  /** Consumer: returns the value, or -1 if empty (values are slot indices >= 0). */
  pop(): number {
    const h = this.head;
    if (h === this.cachedTail) {
      this.cachedTail = Atomics.load(this.idx, RING_TAIL);
      if (h === this.cachedTail) return -1;
    }
    const v = this.cells[h & this.mask]!;
    if (ASSERT) {
      checkValue(v, 'spsc pop');
      assert(Atomics.load(this.idx, RING_HEAD) === h, 'spsc pop: one consumer (the head moved under this one)');
    }
    this.head = (h + 1) | 0;
    Atomics.store(this.idx, RING_HEAD, this.head);
    return v;
  }

  /** Consumer: pops up to max values into dst; returns the count (one publish). */
  popBatch(dst: Int32Array, max: number): number {
    const h = this.head;
    let avail = (this.cachedTail - h) | 0;
    if (avail < max) {
      this.cachedTail = Atomics.load(this.idx, RING_TAIL);
      avail = (this.cachedTail - h) | 0;
    }
    const k = max < avail ? max : avail;
    if (k <= 0) return 0;
    const cells = this.cells;
    const mask = this.mask;
    for (let j = 0; j < k; j++) dst[j] = cells[(h + j) & mask]!;
    if (ASSERT) {
      for (let j = 0; j < k; j++) checkValue(dst[j]!, 'spsc popBatch');
      assert(Atomics.load(this.idx, RING_HEAD) === h, 'spsc popBatch: one consumer (the head moved under this one)');
    }
    this.head = (h + k) | 0;
    Atomics.store(this.idx, RING_HEAD, this.head);
    return k;
  }

  /** Consumer: the oldest value without taking it, or -1 if empty. */
  peek(): number {
    const h = this.head;
    if (h === this.cachedTail) {
      this.cachedTail = Atomics.load(this.idx, RING_TAIL);
      if (h === this.cachedTail) return -1;
    }
    return this.cells[h & this.mask]!;
  }

  /**
   * Consumer, virtual time: pops up to max values whose stamp (`stamps[value]`) is at most
   * `untilNs`, stopping at the first later one (items are taken in ring order).
   */
  popDue(dst: Int32Array, max: number, stamps: Float64Array, untilNs: number): number {
    const h = this.head;
    let avail = (this.cachedTail - h) | 0;
    if (avail < max) {
      this.cachedTail = Atomics.load(this.idx, RING_TAIL);
      avail = (this.cachedTail - h) | 0;
    }
    const lim = max < avail ? max : avail;
    const cells = this.cells;
    const mask = this.mask;
    let k = 0;
    while (k < lim) {
      const v = cells[(h + k) & mask]!;
      if (stamps[v]! > untilNs) break;
      dst[k++] = v;
    }
    if (k > 0) {
      if (ASSERT) {
        for (let j = 0; j < k; j++) checkValue(dst[j]!, 'spsc popDue');
        assert(Atomics.load(this.idx, RING_HEAD) === h, 'spsc popDue: one consumer (the head moved under this one)');
      }
      this.head = (h + k) | 0;
      Atomics.store(this.idx, RING_HEAD, this.head);
    }
    return k;
  }

  /** Either side: items currently in the ring (a snapshot). */
  size(): number {
    const n = (Atomics.load(this.idx, RING_TAIL) - Atomics.load(this.idx, RING_HEAD)) | 0;
    return n < 0 ? 0 : n > this.capacity ? this.capacity : n;
  }
}

/**
 * Vyukov's bounded queue, producer side (shared by MPSC and MPMC). Producers claim positions
 * with a CAS on the tail; a batch claims a run of free cells with one CAS. A cell at position p
 * is free for writing when its (relative) sequence equals p's lap, and holds a value for the
 * consumer when it equals lap + 1; the consumer frees it for the next lap with lap + capacity.
 */
abstract class VyukovRing {
  readonly capacity: number;
  protected readonly mask: number;
  protected readonly idx: Int32Array;
  protected readonly cells: Int32Array;

  constructor(sab: SharedArrayBuffer, desc: LayoutDesc) {
    const v = mapRing(sab, desc, 2);
    this.idx = v.idx;
    this.cells = v.cells;
    this.capacity = v.cells.length / 2;
    this.mask = this.capacity - 1;
  }

  /** Producer (any thread): returns false if full. */
  push(v: number): boolean {
    if (ASSERT) checkValue(v, 'ring push');
    const idx = this.idx;
    const cells = this.cells;
    const mask = this.mask;
    let pos = Atomics.load(idx, RING_TAIL);
    for (;;) {
      const i = pos & mask;
      const lap = pos & ~mask;
      const dif = (Atomics.load(cells, 2 * i) - lap) | 0;
      if (dif === 0) {
        const seen = Atomics.compareExchange(idx, RING_TAIL, pos, (pos + 1) | 0);
        if (seen === pos) {
          cells[2 * i + 1] = v;
          Atomics.store(cells, 2 * i, (lap + 1) | 0);
          return true;
        }
        pos = seen;
      } else if (dif < 0) {
        return false; // the cell still holds last lap's value: full
      } else {
        pos = Atomics.load(idx, RING_TAIL); // another producer got there first
      }
    }
  }

  /** Pushes as many of src[0..n) as fit, in order (one CAS on the tail); returns the count. */
  pushBatch(src: Int32Array, n: number): number {
    if (n <= 0) return 0;
    if (ASSERT) for (let j = 0; j < n; j++) checkValue(src[j]!, 'ring pushBatch');
    const idx = this.idx;
    const cells = this.cells;
    const mask = this.mask;
    const cap = this.capacity;
    const want = n < cap ? n : cap;
    let pos = Atomics.load(idx, RING_TAIL);
    for (;;) {
      // Count the run of cells free for positions pos, pos+1, ...
      let k = 0;
      let stale = false;
      while (k < want) {
        const p = (pos + k) | 0;
        const dif = (Atomics.load(cells, 2 * (p & mask)) - (p & ~mask)) | 0;
        if (dif === 0) { k++; continue; }
        if (dif > 0 && k === 0) stale = true;
        break;
      }
      if (k === 0) {
        if (!stale) return 0;
        pos = Atomics.load(idx, RING_TAIL);
        continue;
      }
      const end = (pos + k) | 0;
      const seen = Atomics.compareExchange(idx, RING_TAIL, pos, end);
      if (seen !== pos) { pos = seen; continue; }
      for (let j = 0; j < k; j++) {
        const p = (pos + j) | 0;
        const i = p & mask;
        cells[2 * i + 1] = src[j]!;
        Atomics.store(cells, 2 * i, ((p & ~mask) + 1) | 0);
      }
      return k;
    }
  }

  /** Either side: items claimed by producers and not yet claimed by consumers (a snapshot). */
  size(): number {
    const n = (Atomics.load(this.idx, RING_TAIL) - Atomics.load(this.idx, RING_HEAD)) | 0;
    return n < 0 ? 0 : n > this.capacity ? this.capacity : n;
  }
}

/**
 * Many producers (CAS on the tail), one consumer. Vyukov-style per-cell sequence numbers.
 * The consumer needs no CAS: it owns the head. pop() returns -1 when the oldest cell is not yet
 * published, even if a producer has already claimed it (it is "empty" for now).
 */
export class MpscRing extends VyukovRing {
  /** Consumer side: next position to read. */
  private head: number;

  constructor(sab: SharedArrayBuffer, desc: LayoutDesc) {
    super(sab, desc);
    this.head = Atomics.load(this.idx, RING_HEAD);
  }

  /** Consumer (one thread): the value, or -1 if empty. */
  pop(): number {
    const pos = this.head;
    if (ASSERT) assert(Atomics.load(this.idx, RING_HEAD) === pos, 'mpsc pop: one consumer (the head moved under this one)');
    const i = pos & this.mask;
    const lap = pos & ~this.mask;
    if (Atomics.load(this.cells, 2 * i) !== ((lap + 1) | 0)) return -1;
    const v = this.cells[2 * i + 1]!;
    if (ASSERT) checkValue(v, 'mpsc pop');
    Atomics.store(this.cells, 2 * i, (lap + this.capacity) | 0);
    this.head = (pos + 1) | 0;
    Atomics.store(this.idx, RING_HEAD, this.head);
    return v;
  }

  /** Consumer: the oldest published value without taking it, or -1 if none. */
  peek(): number {
    const pos = this.head;
    const i = pos & this.mask;
    if (Atomics.load(this.cells, 2 * i) !== (((pos & ~this.mask) + 1) | 0)) return -1;
    return this.cells[2 * i + 1]!;
  }

  /** Consumer: pops up to max published values into dst, in order; returns the count. */
  popBatch(dst: Int32Array, max: number): number {
    const cells = this.cells;
    const mask = this.mask;
    const cap = this.capacity;
    const h = this.head;
    if (ASSERT) assert(Atomics.load(this.idx, RING_HEAD) === h, 'mpsc popBatch: one consumer (the head moved under this one)');
    let k = 0;
    while (k < max) {
      const p = (h + k) | 0;
      const i = p & mask;
      const lap = p & ~mask;
      if (Atomics.load(cells, 2 * i) !== ((lap + 1) | 0)) break;
      dst[k] = cells[2 * i + 1]!;
      Atomics.store(cells, 2 * i, (lap + cap) | 0);
      k++;
    }
    if (k > 0) {
      if (ASSERT) for (let j = 0; j < k; j++) checkValue(dst[j]!, 'mpsc popBatch');
      this.head = (h + k) | 0;
      Atomics.store(this.idx, RING_HEAD, this.head);
    }
    return k;
  }
}

/** Many producers, many consumers (used by the slab pool's shared free list). */
export class MpmcRing extends VyukovRing {
  /** Consumer (any thread): the value, or -1 if empty. */
  pop(): number {
    const idx = this.idx;
    const cells = this.cells;
    const mask = this.mask;
    let pos = Atomics.load(idx, RING_HEAD);
    for (;;) {
      const i = pos & mask;
      const lap = pos & ~mask;
      const dif = (Atomics.load(cells, 2 * i) - ((lap + 1) | 0)) | 0;
      if (dif === 0) {
        const seen = Atomics.compareExchange(idx, RING_HEAD, pos, (pos + 1) | 0);
        if (seen === pos) {
          const v = cells[2 * i + 1]!;
          if (ASSERT) checkValue(v, 'mpmc pop');
          Atomics.store(cells, 2 * i, (lap + this.capacity) | 0);
          return v;
        }
        pos = seen;
      } else if (dif < 0) {
        return -1; // not yet published: empty
      } else {
        pos = Atomics.load(idx, RING_HEAD); // another consumer got there first
      }
    }
  }

  /** Consumer (any thread): pops up to max values (one CAS on the head); returns the count. */
  popBatch(dst: Int32Array, max: number): number {
    if (max <= 0) return 0;
    const idx = this.idx;
    const cells = this.cells;
    const mask = this.mask;
    const cap = this.capacity;
    const want = max < cap ? max : cap;
    let pos = Atomics.load(idx, RING_HEAD);
    for (;;) {
      let k = 0;
      let stale = false;
      while (k < want) {
        const p = (pos + k) | 0;
        const dif = (Atomics.load(cells, 2 * (p & mask)) - (((p & ~mask) + 1) | 0)) | 0;
        if (dif === 0) { k++; continue; }
        if (dif > 0 && k === 0) stale = true;
        break;
      }
      if (k === 0) {
        if (!stale) return 0;
        pos = Atomics.load(idx, RING_HEAD);
        continue;
      }
      const end = (pos + k) | 0;
      const seen = Atomics.compareExchange(idx, RING_HEAD, pos, end);
      if (seen !== pos) { pos = seen; continue; }
      for (let j = 0; j < k; j++) {
        const p = (pos + j) | 0;
        const i = p & mask;
        dst[j] = cells[2 * i + 1]!;
        if (ASSERT) checkValue(dst[j]!, 'mpmc popBatch');
        Atomics.store(cells, 2 * i, ((p & ~mask) + cap) | 0);
      }
      return k;
    }
  }
}
