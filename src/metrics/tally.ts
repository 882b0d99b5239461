/**
 * Latency recording inside the workers, without a histogram library. A `LatencyTally` counts each
 * value (ns) in a preallocated Uint32Array at exactly the counts index an hdr-histogram-js
 * histogram built by `newHistogram()` (src/metrics/histo.ts: 1 ns lowest discernible value, 3
 * significant digits, so 2,048 sub-buckets, a half-count magnitude of 10 and a unit magnitude of
 * 0) would use, computed with integer operations (a float log2 only for values of 2^31 ns and
 * more), and keeps the exact smallest and largest value. Values are clamped into 1 ns .. 100 s
 * and rounded. Two reasons: a `recordValue` of the library costs 110-150 ns (a floating-point
 * log2 and pow per value), a large share of the per-packet cost on the receive path; and the
 * library (with its compression and WebAssembly dependencies, half of the worker bundle, and an
 * `Intl.NumberFormat` made when it loads) cost every worker thread ~15 ms of start-up, so the
 * workers do not load it at all. A tally travels to the main thread as a short string
 * (`encode`: min, max and the non-empty indexes with their counts); the main thread turns it into
 * a histogram there (`histogramOfTallies` in histo.ts) that holds the same count at every index,
 * the same total, min and max as recording each value directly would have given.
 */

/** log2 of the histogram's sub-bucket half count (3 significant digits: 2 x 10^3 -> 2^11 sub-buckets). */
const HALF_MAG = 10;
const HALF = 1 << HALF_MAG;
export const TALLY_LOWEST_NS = 1;
export const TALLY_HIGHEST_NS = 100e9;
/** log2 magnitude of the highest value (100 s: 2^36 <= 1e11 < 2^37). */
const TOP_MAG = 36;
/** Indexes of the values 1 .. 100 s (the last bucket's last sub-bucket is the highest). */
export const TALLY_SLOTS = (TOP_MAG - HALF_MAG) * HALF + 2 * HALF;
/** Values below this take the integer path. */
const INT_LIMIT = 0x80000000;

/** The histogram's counts index of value v (an integer in [1, 100 s]). */
export function tallyIndex(v: number): number {
  if (v < INT_LIMIT) {
    const mag = 31 - Math.clz32(v);
    const b = mag > HALF_MAG ? mag - HALF_MAG : 0;
    return b * HALF + (v >>> b);
  }
  let mag = Math.floor(Math.log2(v));
  if (2 ** mag > v) mag--;
  else if (2 ** (mag + 1) <= v) mag++;
  const b = mag - HALF_MAG;
  return b * HALF + Math.floor(v / 2 ** b);
}

/** The lowest value of counts index i. */
export function tallyIndexValue(i: number): number {
  let b = Math.floor(i / HALF) - 1;
  let sub = (i % HALF) + HALF;
  if (b < 0) {
    sub -= HALF;
    b = 0;
  }
  return sub * 2 ** b;
}

/** Clamps and rounds as the histogram's recorder does. */
export function tallyValue(ns: number): number {
  return ns < TALLY_LOWEST_NS ? TALLY_LOWEST_NS : ns > TALLY_HIGHEST_NS ? TALLY_HIGHEST_NS : Math.round(ns);
}

export class LatencyTally {
  private readonly counts = new Uint32Array(TALLY_SLOTS);
  /** Range of indexes touched since the last reset (lo > hi: none). */
  private lo = TALLY_SLOTS;
  private hi = -1;
  private n = 0;
  /** Smallest and largest value tallied since the last reset (0: none). */
  private minV = 0;
  private maxV = 0;

  /** Counts `ns` once (clamped into 1 ns .. 100 s and rounded). */
  record(ns: number): void {
    this.recordTimes(ns, 1);
  }

  /** Counts `ns` `count` times. */
  recordTimes(ns: number, count: number): void {
    const v = tallyValue(ns);
    const i = tallyIndex(v);
    this.counts[i]! += count;
    this.n += count;
    if (i < this.lo) this.lo = i;
    if (i > this.hi) this.hi = i;
    if (this.minV === 0 || v < this.minV) this.minV = v;
    if (v > this.maxV) this.maxV = v;
  }

  get totalCount(): number { return this.n; }
  /** Smallest value tallied (0 when empty). */
  get minNonZeroValue(): number { return this.minV; }
  /** Largest value tallied (0 when empty). */
  get maxValue(): number { return this.maxV; }

  reset(): void {
    if (this.hi >= this.lo) this.counts.fill(0, this.lo, this.hi + 1);
    this.lo = TALLY_SLOTS;
    this.hi = -1;
    this.n = 0;
    this.minV = 0;
    this.maxV = 0;
  }

  /** `min,max|index:count,...` ('' when empty): what the main thread decodes (histo.ts). */
  encode(): string {
    if (this.n === 0) return '';
    const parts: string[] = [];
    const c = this.counts;
    for (let i = this.lo; i <= this.hi; i++) if (c[i]! > 0) parts.push(`${i}:${c[i]!}`);
    return `${this.minV},${this.maxV}|${parts.join(',')}`;
  }
}

/** A decoded tally: min, max and the non-empty indexes with their counts (ascending index). */
export interface TallyData {
  minV: number;
  maxV: number;
  index: number[];
  count: number[];
}

/** Parses `LatencyTally.encode`'s text (null for ''). Throws on text it did not write. */
export function decodeTally(text: string): TallyData | null {
  if (text === '') return null;
  const bar = text.indexOf('|');
  const head = text.slice(0, bar).split(',');
  if (bar < 0 || head.length !== 2) throw new Error(`tally: malformed encoding '${text.slice(0, 40)}'`);
  const d: TallyData = { minV: Number(head[0]), maxV: Number(head[1]), index: [], count: [] };
  for (const p of text.slice(bar + 1).split(',')) {
    const k = p.indexOf(':');
    const i = Number(p.slice(0, k));
    const c = Number(p.slice(k + 1));
    if (!(k > 0 && Number.isInteger(i) && i >= 0 && i < TALLY_SLOTS && Number.isInteger(c) && c > 0)) {
      throw new Error(`tally: malformed entry '${p}'`);
    }
    d.index.push(i);
    d.count.push(c);
  }
  return d;
}

/** One encoding holding every count of the given ones (the main thread's merge of a port's threads). */
export function mergeTallies(texts: readonly string[]): string {
  const sum = new Map<number, number>();
  let minV = 0;
  let maxV = 0;
  for (const t of texts) {
    const d = decodeTally(t);
    if (d === null) continue;
    if (minV === 0 || d.minV < minV) minV = d.minV;
    if (d.maxV > maxV) maxV = d.maxV;
    for (let k = 0; k < d.index.length; k++) sum.set(d.index[k]!, (sum.get(d.index[k]!) ?? 0) + d.count[k]!);
  }
  if (sum.size === 0) return '';
  const keys = [...sum.keys()].sort((a, b) => a - b);
  return `${minV},${maxV}|${keys.map((i) => `${i}:${sum.get(i)!}`).join(',')}`;
}
