/**
 * Hand-off latency recording at packet rate. An hdr-histogram-js `recordValue` costs 110–150 ns
 * (a floating-point log2 and pow per value), which on the receive path was a large share of the
 * per-packet cost. A `LatencyTally` sits in front of one histogram built by `newHistogram()`
 * (src/metrics/histo.ts: 1 ns lowest discernible value, 3 significant digits, so 2,048
 * sub-buckets and a half-count magnitude of 10, unit magnitude 0): it counts each value in a
 * Float64Array at exactly the index the histogram would use, computed with integer operations,
 * and `flush` moves the counts into the histogram, one `recordValueWithCount` per non-empty
 * index. Values are clamped and rounded as `recordNs` does. The flushed histogram is the one that
 * recording every value directly would give: the same count at every index, the same total, and
 * the same min and max (the exact extreme values seen are recorded themselves; every other value
 * is recorded as a member of its index clamped to at least the minimum). Values of 2^31 ns or
 * more (over 2.1 s) bypass the tally. Readers must flush first: `Homa.handoff`'s getters do.
 */
import type { Histogram } from '../metrics/histo.js';

/** log2 of the histogram's sub-bucket half count (3 significant digits: 2 x 10^3 -> 2^11 sub-buckets). */
const HALF_MAG = 10;
const HALF = 1 << HALF_MAG;
/** Indexes of the values 1 .. 2^31 - 1 (bucket 20, sub-bucket 2047 is the last). */
export const TALLY_SLOTS = (31 - HALF_MAG) * HALF + HALF;
const LOWEST_NS = 1;
const HIGHEST_NS = 100e9;

/** The histogram's counts index of value v (an integer in [1, 2^31)). */
export function tallyIndex(v: number): number {
  const mag = 31 - Math.clz32(v);
  const b = mag > HALF_MAG ? mag - HALF_MAG : 0;
  return b * HALF + (v >>> b);
}

/** The lowest value of counts index i. */
export function tallyIndexValue(i: number): number {
  let b = (i >> HALF_MAG) - 1;
  let sub = (i & (HALF - 1)) + HALF;
  if (b < 0) {
    sub -= HALF;
    b = 0;
  }
  return sub * (1 << b);
}

export class LatencyTally {
  private readonly counts = new Float64Array(TALLY_SLOTS);
  /** Range of indexes touched since the last flush (lo > hi: none). */
  private lo = TALLY_SLOTS;
  private hi = -1;
  /** Smallest and largest value tallied since the last flush (0: none). */
  private minV = 0;
  private maxV = 0;

  constructor(readonly hist: Histogram) {}

  /** Counts `ns` once (clamped into 1 ns .. 100 s and rounded, as recordNs does). */
  record(ns: number): void {
    this.recordTimes(ns, 1);
  }

  /** Counts `ns` `count` times. */
  recordTimes(ns: number, count: number): void {
    const v = ns < LOWEST_NS ? LOWEST_NS : ns > HIGHEST_NS ? HIGHEST_NS : Math.round(ns);
    if (v >= 0x80000000) {
      this.hist.recordValueWithCount(v, count);
      return;
    }
    const i = tallyIndex(v);
    this.counts[i]! += count;
    if (i < this.lo) this.lo = i;
    if (i > this.hi) this.hi = i;
    if (this.minV === 0 || v < this.minV) this.minV = v;
    if (v > this.maxV) this.maxV = v;
  }

  /** Moves every tallied count into the histogram. */
  flush(): void {
    if (this.hi < this.lo) return;
    const counts = this.counts;
    const h = this.hist;
    const minV = this.minV;
    const maxV = this.maxV;
    const maxI = tallyIndex(maxV);
    for (let i = this.lo; i <= this.hi; i++) {
      let c = counts[i]!;
      if (c === 0) continue;
      counts[i] = 0;
      if (i === maxI) {
        h.recordValueWithCount(maxV, 1);
        c--;
      }
      if (c > 0) {
        const base = tallyIndexValue(i);
        h.recordValueWithCount(base < minV ? minV : base, c);
      }
    }
    this.lo = TALLY_SLOTS;
    this.hi = -1;
    this.minV = 0;
    this.maxV = 0;
  }
}
