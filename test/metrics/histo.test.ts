import { describe, expect, it } from 'vitest';
import { mergeEncoded, newHistogram, percentiles, recordNs } from '../../src/metrics/histo.js';
import { LatencyTally } from '../../src/metrics/tally.js';

describe('histograms', () => {
  it('merges encoded per-thread tallies into exact counts and percentiles within 0.1%', () => {
    const a = new LatencyTally();
    const b = new LatencyTally();
    for (let i = 1; i <= 1000; i++) a.record(i * 1000); // 1..1000 us
    for (let i = 1001; i <= 2000; i++) b.record(i * 1000);
    const m = percentiles(mergeEncoded([a.encode(), b.encode(), '']));
    expect(m.count).toBe(2000);
    expect(Math.abs(m.p50Ns - 1_000_000) / 1_000_000).toBeLessThan(0.001);
    expect(Math.abs(m.p99Ns - 1_980_000) / 1_980_000).toBeLessThan(0.001);
    expect(Math.abs(m.maxNs - 2_000_000) / 2_000_000).toBeLessThan(0.001);
  });

  it('clamps out-of-range values instead of throwing', () => {
    const h = newHistogram();
    recordNs(h, 0);
    recordNs(h, 1e15);
    expect(percentiles(h).count).toBe(2);
  });

  it('an empty histogram reports zeros', () => {
    expect(percentiles(newHistogram())).toEqual({ count: 0, p50Ns: 0, p99Ns: 0, p999Ns: 0, maxNs: 0, meanNs: 0 });
  });
});
