import { describe, expect, it } from 'vitest';
import { encodeHistogram, mergeEncoded, newHistogram, percentiles, recordNs } from '../../src/metrics/histo.js';

describe('histograms', () => {
  it('merges encoded per-thread histograms into exact counts and percentiles within 0.1%', () => {
    const a = newHistogram();
    const b = newHistogram();
    for (let i = 1; i <= 1000; i++) recordNs(a, i * 1000); // 1..1000 us
    for (let i = 1001; i <= 2000; i++) recordNs(b, i * 1000);
    const m = percentiles(mergeEncoded([encodeHistogram(a), encodeHistogram(b), '']));
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
