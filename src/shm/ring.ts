/**
 * Rings of 32-bit slot indices in shared memory: the only way packets (as packet-pool slot
 * indices) move between cores. SPSC for one producer and one consumer (a core's NIC RX channel,
 * fabric→NIC), MPSC for many producers and one consumer (a NIC TX ring fed by every core, a
 * core's SoftIRQ backlog fed by every NAPI core), MPMC for shared free lists. Capacity is a
 * power of two; head and tail live on separate cache lines; full and empty are return values,
 * never exceptions. Each side caches the other side's index and publishes once per batch,
 * because every Atomics operation costs 11–20 ns against 1 ns for a plain access.
 *
 * STATUS: API contract. Implementation in progress (see issue "Runtime").
 */
import { LayoutBuilder, type LayoutDesc } from './layout.js';

/** Layout of one ring: columns `idx` (i32: head/tail on separate lines) and `cells` (i32). */
export function ringLayout(capacity: number, kind: 'spsc' | 'mpsc' | 'mpmc'): LayoutDesc {
  void capacity; void kind; void LayoutBuilder;
  throw new Error('not implemented');
}

/** One producer, one consumer. Not safe for several producers or consumers. */
export class SpscRing {
  readonly capacity: number;
  constructor(sab: SharedArrayBuffer, desc: LayoutDesc) { void sab; void desc; this.capacity = 0; throw new Error('not implemented'); }
  /** Producer: returns false if full. */
  push(v: number): boolean { void v; return false; }
  /** Producer: pushes up to n values from src[0..n); returns how many were pushed (one publish). */
  pushBatch(src: Int32Array, n: number): number { void src; void n; return 0; }
  /** Consumer: returns the value, or -1 if empty (values are slot indices >= 0). */
  pop(): number { return -1; }
  /** Consumer: pops up to max values into dst; returns the count (one publish). */
  popBatch(dst: Int32Array, max: number): number { void dst; void max; return 0; }
  /** Either side: items currently in the ring (a snapshot). */
  size(): number { return 0; }
}

/** Many producers (CAS on the tail), one consumer. Vyukov-style per-cell sequence numbers. */
export class MpscRing {
  readonly capacity: number;
  constructor(sab: SharedArrayBuffer, desc: LayoutDesc) { void sab; void desc; this.capacity = 0; throw new Error('not implemented'); }
  push(v: number): boolean { void v; return false; }
  /** All-or-nothing? No: pushes as many of src[0..n) as fit, in order; returns the count. */
  pushBatch(src: Int32Array, n: number): number { void src; void n; return 0; }
  pop(): number { return -1; }
  popBatch(dst: Int32Array, max: number): number { void dst; void max; return 0; }
  size(): number { return 0; }
}

/** Many producers, many consumers (used by the slab pool's shared free list). */
export class MpmcRing {
  readonly capacity: number;
  constructor(sab: SharedArrayBuffer, desc: LayoutDesc) { void sab; void desc; this.capacity = 0; throw new Error('not implemented'); }
  push(v: number): boolean { void v; return false; }
  pushBatch(src: Int32Array, n: number): number { void src; void n; return 0; }
  pop(): number { return -1; }
  popBatch(dst: Int32Array, max: number): number { void dst; void max; return 0; }
  size(): number { return 0; }
}
