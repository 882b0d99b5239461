/**
 * One monotonic nanosecond clock shared by every worker. `performance.now()` is cheap but each
 * worker has its own time origin, so the main thread stores one origin (an hrtime reading) in
 * shared memory and each worker computes, once, the offset that maps its `performance.now()`
 * onto that origin. After `attachClock`, `nowNs()` in any worker returns nanoseconds since the
 * same instant. A read costs 60–80 ns in Node: read it once per loop pass and pass `now` down.
 *
 * Cross-core time stamps that need atomics (the NIC's link-idle estimate) are kept as "ns32":
 * the low 32 bits of `nowNs()`, compared with wrap-around arithmetic like the kernel's
 * time_before(): valid while the two instants are less than 2.1 s apart.
 */

/** Int32 words of the clock's shared block (one cache line). */
export const CLOCK_WORDS = 16;
const ORIGIN_LO = 0;
const ORIGIN_HI = 1;

let offsetMs = 0;

/** Main thread: writes the origin (now) into `words` (Int32Array of CLOCK_WORDS, shared). */
export function initClockOrigin(words: Int32Array): void {
  const t = process.hrtime.bigint();
  Atomics.store(words, ORIGIN_LO, Number(t & 0xffffffffn) | 0);
  Atomics.store(words, ORIGIN_HI, Number((t >> 32n) & 0xffffffffn) | 0);
  attachClock(words);
}

/** Any thread: aligns this thread's `nowNs()` with the shared origin. */
export function attachClock(words: Int32Array): void {
  const lo = BigInt(Atomics.load(words, ORIGIN_LO) >>> 0);
  const hi = BigInt(Atomics.load(words, ORIGIN_HI) >>> 0);
  const origin = (hi << 32n) | lo;
  // Take the two readings back to back; the error is the gap between them (~100 ns).
  const p = performance.now();
  const h = process.hrtime.bigint();
  offsetMs = Number(h - origin) / 1e6 - p;
}

/** Nanoseconds since the shared origin (a float with sub-ns resolution for hours). */
export function nowNs(): number {
  return (performance.now() + offsetMs) * 1e6;
}

/**
 * Writes `nowNs()` into `dst[i]`. Same reading, but the double goes straight into a Float64Array:
 * a float returned from a call V8 does not inline is boxed in a fresh HeapNumber (16 bytes of
 * garbage per read), a store into a typed array never is. For hot paths that time something.
 */
export function nowNsInto(dst: Float64Array, i: number): void {
  dst[i] = (performance.now() + offsetMs) * 1e6;
}

let readCostNs = -1;

/**
 * What one `nowNs()` costs on this thread (the minimum of back-to-back reads, measured once):
 * an interval timed by two reads includes about one read's cost, which sampled hold times
 * subtract so that a 20-ns critical section is not reported as 90 ns.
 */
export function clockReadCostNs(): number {
  if (readCostNs < 0) {
    let best = Infinity;
    for (let i = 0; i < 200; i++) {
      const a = nowNs();
      const b = nowNs();
      if (b - a < best) best = b - a;
    }
    readCostNs = Math.max(0, best);
  }
  return readCostNs;
}

/** Low 32 bits of a ns time, for atomic shared time stamps. */
export function ns32(t: number): number {
  return t | 0;
}

/** Signed difference a - b of two ns32 stamps (valid while |a - b| < 2^31 ns). */
export function ns32Diff(a: number, b: number): number {
  return (a - b) | 0;
}

/** A manual clock for single-threaded tests: functions that take `now` never read the real one. */
export class ManualClock {
  constructor(public t = 0) {}
  now(): number {
    return this.t;
  }
  advance(ns: number): number {
    this.t += ns;
    return this.t;
  }
}
