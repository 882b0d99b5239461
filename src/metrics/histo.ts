/**
 * Latency histograms on the main thread (hdr-histogram-js). The workers do not load the library:
 * they count values in `LatencyTally`s (src/metrics/tally.ts) at the indexes a histogram from
 * `newHistogram()` uses and send them as short strings; here those are turned into histograms
 * (`mergeEncoded`: same count at every index, same total, min and max as recording every value
 * directly) for percentiles and CDFs. Values are nanoseconds of emulated time.
 */
import * as hdr from 'hdr-histogram-js';
import { TALLY_HIGHEST_NS, TALLY_LOWEST_NS, decodeTally, tallyIndex, tallyIndexValue, tallyValue } from './tally.js';

export type Histogram = hdr.Histogram;

/** 1 ns .. 100 s, 3 significant digits (the index scheme tally.ts reproduces). */
export function newHistogram(): Histogram {
  return hdr.build({ bitBucketSize: 32, autoResize: false, lowestDiscernibleValue: TALLY_LOWEST_NS, highestTrackableValue: TALLY_HIGHEST_NS, numberOfSignificantValueDigits: 3 });
}

/** Records `ns`, clamped into the histogram's range (never throws). */
export function recordNs(h: Histogram, ns: number): void {
  h.recordValue(tallyValue(ns));
}

/**
 * Adds one tally encoding into `h`: each index's count at the lowest value of the index (the
 * tally's minimum for the index that holds it), and the maximum as itself, so min, max, total
 * and every index's count are those of recording each value directly.
 */
export function addTally(h: Histogram, text: string): void {
  const d = decodeTally(text);
  if (d === null) return;
  const maxI = tallyIndex(d.maxV);
  for (let k = 0; k < d.index.length; k++) {
    const i = d.index[k]!;
    let c = d.count[k]!;
    if (i === maxI) {
      h.recordValueWithCount(d.maxV, 1);
      c--;
    }
    if (c > 0) {
      const base = tallyIndexValue(i);
      h.recordValueWithCount(base < d.minV ? d.minV : base, c);
    }
  }
}

/** One histogram holding every tally encoding given ('' entries are empty tallies). */
export function mergeEncoded(encoded: readonly string[]): Histogram {
  const total = newHistogram();
  for (const e of encoded) addTally(total, e);
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
