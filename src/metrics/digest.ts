/**
 * cperf's digest of per-RPC round-trip times (HomaModule util/cperf.py: read_rtts, get_digest,
 * get_short_cdf). Input is one (length, RTT) pair per completed RPC, as cp_node records them:
 * `RttSamples` keeps them per client port in a ring of the last 500,000 like cp_node's
 * NUM_CLIENT_STATS buffer (but counts what it overwrites). The digest has one bucket per
 * distinct length, ascending, with the fraction of all samples at or below that length and the
 * P50/P99/P99.9 of RTT and of slowdown, where a percentile is the element at index
 * floor(count*p/100) of the sorted values (no interpolation) and slowdown is
 * RTT / (baseRttUs + length*8/linkMbps). It also gives totals (count, mean slowdown, overall
 * percentiles) and cperf's short-message figures: from the smallest lengths upward until more
 * than 10% of all messages are included, stopping at the first length >= 1500 once one length
 * has been taken. Several client threads are merged by concatenating their samples first.
 */

/** cp_node keeps this many (length, RTT) pairs per client port. */
export const CP_NODE_RTTS_PER_PORT = 500_000;
/** get_short_cdf: once a length is taken, stop at the first length of at least this. */
export const SHORT_MESSAGE_BYTES = 1500;

const INITIAL_CAPACITY = 1024;

/** Plain (length, RTT) columns; `count` defaults to the arrays' length. */
export interface RttPairs {
  readonly lengths: Int32Array;
  readonly rttNs: Float64Array;
  readonly count?: number;
}

/**
 * Per-port (length, RTT) record. Grows by doubling up to `maxSamples`, then overwrites the
 * oldest entries (cp_node's circular buffer) and counts them in `overwritten`. Appending is
 * allocation-free except on growth. Entries [0, count) of the columns are valid; when the ring
 * has wrapped, the oldest is at `oldestIndex`.
 */
export class RttSamples implements RttPairs {
  lengths: Int32Array;
  rttNs: Float64Array;
  count = 0;
  /** Samples lost because the ring was full (cp_node loses them silently). */
  overwritten = 0;
  /** Slot the next sample goes to once the ring is full (= the oldest sample). */
  private next = 0;

  constructor(readonly maxSamples = CP_NODE_RTTS_PER_PORT) {
    if (!(maxSamples >= 1) || Math.floor(maxSamples) !== maxSamples) {
      throw new RangeError(`RttSamples: maxSamples must be a positive integer, got ${maxSamples}`);
    }
    const cap = Math.min(INITIAL_CAPACITY, maxSamples);
    this.lengths = new Int32Array(cap);
    this.rttNs = new Float64Array(cap);
  }

  /** Records one completed RPC: its (response) length in bytes and its RTT in ns. */
  push(lengthBytes: number, rttNs: number): void {
    if (this.count < this.maxSamples) {
      if (this.count === this.lengths.length) this.grow();
      this.lengths[this.count] = lengthBytes;
      this.rttNs[this.count] = rttNs;
      this.count++;
      return;
    }
    this.lengths[this.next] = lengthBytes;
    this.rttNs[this.next] = rttNs;
    this.next = this.next + 1 === this.maxSamples ? 0 : this.next + 1;
    this.overwritten++;
  }

  /** Index of the oldest sample in the columns (0 unless the ring has wrapped). */
  get oldestIndex(): number {
    return this.count < this.maxSamples ? 0 : this.next;
  }

  /** Forgets every sample (cp_node's dump_times clears what it wrote). */
  clear(): void {
    this.count = 0;
    this.next = 0;
    this.overwritten = 0;
  }

  /** Appends all of `other`'s samples, oldest first. */
  append(other: RttPairs): void {
    const n = other.count ?? other.lengths.length;
    const start = other instanceof RttSamples ? other.oldestIndex : 0;
    for (let k = 0; k < n; k++) {
      let i = start + k;
      if (i >= n) i -= n;
      this.push(other.lengths[i], other.rttNs[i]);
    }
  }

  private grow(): void {
    const cap = Math.min(this.lengths.length * 2, this.maxSamples);
    const lengths = new Int32Array(cap);
    const rtt = new Float64Array(cap);
    lengths.set(this.lengths);
    rtt.set(this.rttNs);
    this.lengths = lengths;
    this.rttNs = rtt;
  }
}

/** Concatenates the samples of several client ports/threads (no cap), oldest first per part. */
export function mergeSamples(parts: readonly RttPairs[]): RttSamples {
  let total = 0;
  for (const p of parts) total += p.count ?? p.lengths.length;
  const merged = new RttSamples(Math.max(1, total));
  for (const p of parts) merged.append(p);
  return merged;
}

export interface DigestOptions {
  /** Link speed for the serialization term (cperf reads net.homa.link_mbps; fallback 25,000). */
  linkMbps: number;
  /** Best-case short-message RTT in µs (cperf: 15 on xl170, 25 elsewhere). */
  baseRttUs: number;
}

/** One row of cperf's .data file. */
export interface DigestBucket {
  length: number;
  /** Fraction of all samples with length <= this one. */
  cumFrac: number;
  count: number;
  rttP50Us: number;
  rttP99Us: number;
  rttP999Us: number;
  slowdownP50: number;
  slowdownP99: number;
  slowdownP999: number;
}

/** cperf's short-message figures (get_short_cdf's selection). */
export interface ShortMessages {
  /** Longest length included. */
  maxLength: number;
  count: number;
  rttMinUs: number;
  rttP50Us: number;
  rttP99Us: number;
  /** The included RTTs, ascending (µs): the data of the `_cdf.data` file. */
  rttsUs: Float64Array;
}

export interface Digest {
  options: DigestOptions;
  buckets: DigestBucket[];
  count: number;
  meanSlowdown: number;
  rttP50Us: number;
  rttP99Us: number;
  rttP999Us: number;
  slowdownP50: number;
  slowdownP99: number;
  slowdownP999: number;
  /** null when there are no samples. */
  short: ShortMessages | null;
}

/** Element floor(count * perMille / 1000) of ascending `sorted[from, from+count)`, clamped. */
export function floorPercentile(sorted: Float64Array, from: number, count: number, perMille: number): number {
  if (count <= 0) return 0;
  let i = Math.floor((count * perMille) / 1000);
  if (i > count - 1) i = count - 1;
  return sorted[from + i];
}

/** cperf's ideal RTT for a message of `lengthBytes` (µs). */
export function optimalRttUs(lengthBytes: number, opts: DigestOptions): number {
  return opts.baseRttUs + (lengthBytes * 8) / opts.linkMbps;
}

function checkOptions(opts: DigestOptions): void {
  if (!(opts.linkMbps > 0) || !(opts.baseRttUs >= 0)) {
    throw new RangeError(`digest: need linkMbps > 0 and baseRttUs >= 0, got ${opts.linkMbps}, ${opts.baseRttUs}`);
  }
}

/** Mean slowdown of one set of samples (cperf computes it per .rtts file to flag outliers). */
export function meanSlowdown(samples: RttPairs, opts: DigestOptions): number {
  checkOptions(opts);
  const n = samples.count ?? samples.lengths.length;
  if (n === 0) return 0;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += samples.rttNs[i] / 1000 / optimalRttUs(samples.lengths[i], opts);
  return sum / n;
}

/**
 * cperf's outlier check: indices of the parts whose mean slowdown is below 0.8x or above 1.2x
 * the average of the parts' means (unweighted, as cperf averages per file).
 */
export function slowdownOutliers(parts: readonly RttPairs[], opts: DigestOptions): { index: number; meanSlowdown: number; overallMean: number }[] {
  if (parts.length === 0) return [];
  const means = parts.map((p) => meanSlowdown(p, opts));
  const overall = means.reduce((a, b) => a + b, 0) / means.length;
  const out: { index: number; meanSlowdown: number; overallMean: number }[] = [];
  means.forEach((m, index) => {
    if (m < 0.8 * overall || m > 1.2 * overall) out.push({ index, meanSlowdown: m, overallMean: overall });
  });
  return out;
}

/** Builds cperf's digest from (length, RTT) pairs; merge several ports with `mergeSamples` first. */
export function computeDigest(samples: RttPairs, opts: DigestOptions): Digest {
  checkOptions(opts);
  const n = samples.count ?? samples.lengths.length;
  const lengths = samples.lengths;
  const rttNs = samples.rttNs;
  const empty: Digest = {
    options: { ...opts }, buckets: [], count: 0, meanSlowdown: 0, rttP50Us: 0, rttP99Us: 0, rttP999Us: 0,
    slowdownP50: 0, slowdownP99: 0, slowdownP999: 0, short: null,
  };
  if (n === 0) return empty;

  // Distinct lengths, ascending.
  const sortedLengths = lengths.slice(0, n).sort();
  let distinct = 0;
  for (let i = 0; i < n; i++) {
    if (i === 0 || sortedLengths[i] !== sortedLengths[i - 1]) sortedLengths[distinct++] = sortedLengths[i];
  }
  const keys = sortedLengths.subarray(0, distinct);

  // Count per bucket, then scatter the RTTs (µs) into bucket order.
  const bucketOf = new Int32Array(n);
  const counts = new Int32Array(distinct);
  for (let i = 0; i < n; i++) {
    const b = findKey(keys, lengths[i]);
    bucketOf[i] = b;
    counts[b]++;
  }
  const offsets = new Int32Array(distinct + 1);
  for (let b = 0; b < distinct; b++) offsets[b + 1] = offsets[b] + counts[b];
  const fill = offsets.slice(0, distinct);
  const rttUs = new Float64Array(n);
  const slowdowns = new Float64Array(n);
  let slowdownSum = 0;
  for (let i = 0; i < n; i++) {
    const b = bucketOf[i];
    const us = rttNs[i] / 1000;
    rttUs[fill[b]++] = us;
    const s = us / optimalRttUs(lengths[i], opts);
    slowdowns[i] = s;
    slowdownSum += s;
  }

  const buckets: DigestBucket[] = [];
  let cumulative = 0;
  for (let b = 0; b < distinct; b++) {
    const from = offsets[b];
    const count = counts[b];
    const bucket = rttUs.subarray(from, from + count);
    bucket.sort();
    cumulative += count;
    // Slowdown is the RTT divided by the bucket's one denominator, so its order is the RTTs'.
    const optimal = optimalRttUs(keys[b], opts);
    const p50 = floorPercentile(rttUs, from, count, 500);
    const p99 = floorPercentile(rttUs, from, count, 990);
    const p999 = floorPercentile(rttUs, from, count, 999);
    buckets.push({
      length: keys[b], cumFrac: cumulative / n, count,
      rttP50Us: p50, rttP99Us: p99, rttP999Us: p999,
      slowdownP50: p50 / optimal, slowdownP99: p99 / optimal, slowdownP999: p999 / optimal,
    });
  }

  const allRtt = rttUs.slice().sort();
  slowdowns.sort();
  return {
    options: { ...opts },
    buckets,
    count: n,
    meanSlowdown: slowdownSum / n,
    rttP50Us: floorPercentile(allRtt, 0, n, 500),
    rttP99Us: floorPercentile(allRtt, 0, n, 990),
    rttP999Us: floorPercentile(allRtt, 0, n, 999),
    slowdownP50: floorPercentile(slowdowns, 0, n, 500),
    slowdownP99: floorPercentile(slowdowns, 0, n, 990),
    slowdownP999: floorPercentile(slowdowns, 0, n, 999),
    short: shortMessages(buckets, rttUs, offsets, n),
  };
}

/** Binary search of an exact key in ascending `keys`. */
function findKey(keys: Int32Array, length: number): number {
  let lo = 0;
  let hi = keys.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid] < length) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * get_short_cdf's selection over the digest's buckets (whose RTTs are sorted in place in
 * `rttUs`): budget = floor(n/10); take buckets from the shortest while the budget is not
 * exhausted (stop after the bucket that drives it below 0), but never take a length >= 1500
 * once a length has been taken.
 */
function shortMessages(buckets: DigestBucket[], rttUs: Float64Array, offsets: Int32Array, n: number): ShortMessages {
  let left = Math.floor(n / 10);
  let taken = 0;
  let maxLength = 0;
  for (let b = 0; b < buckets.length; b++) {
    if (buckets[b].length >= SHORT_MESSAGE_BYTES && taken > 0) break;
    taken++;
    left -= buckets[b].count;
    maxLength = buckets[b].length;
    if (left < 0) break;
  }
  const end = offsets[taken];
  const rtts = rttUs.slice(0, end).sort();
  return {
    maxLength,
    count: end,
    rttMinUs: rtts[0],
    rttP50Us: floorPercentile(rtts, 0, end, 500),
    rttP99Us: floorPercentile(rtts, 0, end, 990),
    rttsUs: rtts,
  };
}
