/**
 * Latency histograms (hdr-histogram-js). Each worker records into its own histograms (per client
 * thread for RTTs, per core for hand-off latencies), allocated at start with a fixed range so
 * recording never allocates; at stop each worker encodes them (compressed base64) into its
 * summary, and the main thread decodes and merges them. Values are nanoseconds (already divided
 * by the time dilation where the caller wants emulated time).
 */
import * as hdr from 'hdr-histogram-js';

/** 1 ns .. 100 s, 3 significant digits. */
const LOWEST_NS = 1;
const HIGHEST_NS = 100e9;

export type Histogram = hdr.Histogram;

export function newHistogram(): Histogram {
  return hdr.build({ bitBucketSize: 32, autoResize: false, lowestDiscernibleValue: LOWEST_NS, highestTrackableValue: HIGHEST_NS, numberOfSignificantValueDigits: 3 });
}

/** Records `ns`, clamped into the histogram's range (never throws on the hot path). */
export function recordNs(h: Histogram, ns: number): void {
  h.recordValue(ns < LOWEST_NS ? LOWEST_NS : ns > HIGHEST_NS ? HIGHEST_NS : Math.round(ns));
}

export function encodeHistogram(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

/** Decodes and adds every encoded histogram into one. */
export function mergeEncoded(encoded: readonly string[]): Histogram {
  const total = newHistogram();
  for (const e of encoded) {
    if (e === '') continue;
    total.add(hdr.decodeFromCompressedBase64(e));
  }
  return total;
}

export interface Percentiles {
  count: number;
  p50Ns: number;
  p99Ns: number;
  p999Ns: number;
  maxNs: number;
  meanNs: number;
}

export function percentiles(h: Histogram): Percentiles {
  const count = h.totalCount;
  if (count === 0) return { count: 0, p50Ns: 0, p99Ns: 0, p999Ns: 0, maxNs: 0, meanNs: 0 };
  return {
    count,
    p50Ns: h.getValueAtPercentile(50),
    p99Ns: h.getValueAtPercentile(99),
    p999Ns: h.getValueAtPercentile(99.9),
    maxNs: h.maxValue,
    meanNs: h.mean,
  };
}

/** Fractions at which `cdfPoints` reads a histogram (denser in the tail). */
const CDF_FRACTIONS = [0, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999, 0.9999, 1];

/** The CDF of a histogram as [ns, fraction of samples <= ns] points (empty without samples). */
export function cdfPoints(h: Histogram): Array<[number, number]> {
  if (h.totalCount === 0) return [];
  return CDF_FRACTIONS.map((f): [number, number] => [f === 1 ? h.maxValue : f === 0 ? h.minNonZeroValue : h.getValueAtPercentile(f * 100), f]);
}
