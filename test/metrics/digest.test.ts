import { describe, expect, it } from 'vitest';
import {
  computeDigest, floorPercentile, meanSlowdown, mergeSamples, optimalRttUs, RttSamples, slowdownOutliers,
} from '../../src/metrics/digest.js';

/** linkMbps 8,000 makes the serialization term length/1000 µs: optimal(1000) = 11, (2000) = 12, (5000) = 15. */
const OPTS = { linkMbps: 8000, baseRttUs: 10 };

function samplesOf(pairs: [number, number][], max?: number): RttSamples {
  const s = new RttSamples(max);
  for (const [len, us] of pairs) s.push(len, us * 1000);
  return s;
}

/** The hand-worked example: lengths 1000 (4 RPCs), 2000 (3), 5000 (1); RTTs in µs. */
const EXAMPLE: [number, number][] = [
  [2000, 24], [1000, 33], [5000, 45], [1000, 11], [2000, 36], [1000, 22], [2000, 12], [1000, 44],
];

describe('floorPercentile', () => {
  it('picks element floor(count*p/100) of the sorted values, never interpolating', () => {
    const v = Float64Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
    expect(floorPercentile(v, 0, 100, 500)).toBe(51); // index 50, not the 50.5 midpoint
    expect(floorPercentile(v, 0, 100, 990)).toBe(100); // index 99
    expect(floorPercentile(v, 0, 10, 500)).toBe(6); // index 5
    expect(floorPercentile(v, 0, 10, 990)).toBe(10); // index floor(9.9) = 9
    expect(floorPercentile(v, 0, 10, 999)).toBe(10);
    expect(floorPercentile(v, 20, 3, 500)).toBe(22); // index 1 of [21, 22, 23]
    const big = Float64Array.from({ length: 1000 }, (_, i) => i);
    expect(floorPercentile(big, 0, 1000, 990)).toBe(990);
    expect(floorPercentile(big, 0, 1000, 999)).toBe(999);
    expect(floorPercentile(big, 0, 1, 999)).toBe(0);
  });
});

describe('computeDigest', () => {
  it('equals the hand-computed digest of a small example', () => {
    const d = computeDigest(samplesOf(EXAMPLE), OPTS);
    // Bucket 1000: sorted RTTs [11, 22, 33, 44]; P50 = index 2, P99 = index floor(3.96) = 3,
    // P99.9 = index 3; optimal 11 µs. Bucket 2000: [12, 24, 36], indices 1, 2, 2; optimal 12.
    // Bucket 5000: [45]; optimal 15.
    expect(d.buckets).toEqual([
      { length: 1000, cumFrac: 0.5, count: 4, rttP50Us: 33, rttP99Us: 44, rttP999Us: 44, slowdownP50: 3, slowdownP99: 4, slowdownP999: 4 },
      { length: 2000, cumFrac: 0.875, count: 3, rttP50Us: 24, rttP99Us: 36, rttP999Us: 36, slowdownP50: 2, slowdownP99: 3, slowdownP999: 3 },
      { length: 5000, cumFrac: 1, count: 1, rttP50Us: 45, rttP99Us: 45, rttP999Us: 45, slowdownP50: 3, slowdownP99: 3, slowdownP999: 3 },
    ]);
    expect(d.count).toBe(8);
    // Slowdowns: 1, 2, 3, 4 | 1, 2, 3 | 3: sum 19, mean 19/8.
    expect(d.meanSlowdown).toBe(2.375);
    // All RTTs sorted: 11 12 22 24 33 36 44 45: P50 = index 4, P99 = P99.9 = index 7.
    expect([d.rttP50Us, d.rttP99Us, d.rttP999Us]).toEqual([33, 45, 45]);
    // All slowdowns sorted: 1 1 2 2 3 3 3 4.
    expect([d.slowdownP50, d.slowdownP99, d.slowdownP999]).toEqual([3, 4, 4]);
    // Short messages: budget floor(8/10) = 0; length 1000 takes 4 (budget -4 < 0): stop.
    expect(d.short).toMatchObject({ maxLength: 1000, count: 4, rttMinUs: 11, rttP50Us: 33, rttP99Us: 44 });
    expect(Array.from(d.short!.rttsUs)).toEqual([11, 22, 33, 44]);
  });

  it('uses base + length*8/linkMbps as the slowdown denominator', () => {
    expect(optimalRttUs(1500, { linkMbps: 25_000, baseRttUs: 15 })).toBeCloseTo(15.48, 12);
    const d = computeDigest(samplesOf([[1500, 30.96]]), { linkMbps: 25_000, baseRttUs: 15 });
    expect(d.buckets[0].slowdownP50).toBeCloseTo(2, 12);
    expect(meanSlowdown(samplesOf([[1000, 22], [2000, 36]]), OPTS)).toBe(2.5); // (2 + 3) / 2
  });

  it('gives one bucket per distinct length, ascending, cumFrac ending at 1', () => {
    const s = new RttSamples();
    for (let i = 0; i < 1000; i++) s.push([300, 12, 70000, 12, 5][i % 5], 1000 + i);
    const d = computeDigest(s, OPTS);
    expect(d.buckets.map((b) => b.length)).toEqual([5, 12, 300, 70000]);
    expect(d.buckets.map((b) => b.count)).toEqual([200, 400, 200, 200]);
    expect(d.buckets.map((b) => b.cumFrac)).toEqual([0.2, 0.6, 0.8, 1]);
  });

  it('returns zeros and no short line for no samples', () => {
    const d = computeDigest(new RttSamples(), OPTS);
    expect(d.count).toBe(0);
    expect(d.buckets).toEqual([]);
    expect(d.short).toBeNull();
    expect(() => computeDigest(new RttSamples(), { linkMbps: 0, baseRttUs: 10 })).toThrow(RangeError);
  });
});

describe('short messages (get_short_cdf rule)', () => {
  function shortOf(groups: [number, number][]): { maxLength: number; count: number } {
    const s = new RttSamples();
    for (const [len, count] of groups) for (let i = 0; i < count; i++) s.push(len, (i + 1) * 1000);
    const { maxLength, count } = computeDigest(s, OPTS).short!;
    return { maxLength, count };
  }

  it('takes lengths until more than 10% are included', () => {
    // 100 RPCs, budget 10: 10 x5 (left 5), 20 x6 (left -1): stop.
    expect(shortOf([[10, 5], [20, 6], [30, 89]])).toEqual({ maxLength: 20, count: 11 });
    // Exactly 10% does not stop it: 10 x10 (left 0), then 20 x90 (left -90).
    expect(shortOf([[10, 10], [20, 90]])).toEqual({ maxLength: 20, count: 100 });
  });

  it('stops at the first length >= 1500 once a length is taken, but takes one if it is the first', () => {
    // Budget 10: 100 x5, 1400 x3 (left 2), then 1600 >= 1500: stop.
    expect(shortOf([[100, 5], [1400, 3], [1600, 92]])).toEqual({ maxLength: 1400, count: 8 });
    // Nothing below 1500: the shortest length is taken (left 5), then 3000 stops it.
    expect(shortOf([[2000, 5], [3000, 95]])).toEqual({ maxLength: 2000, count: 5 });
  });
});

describe('RttSamples', () => {
  it('grows, keeps the last maxSamples like cp_node, and counts what it overwrites', () => {
    const s = new RttSamples(3);
    for (let i = 1; i <= 5; i++) s.push(i, i * 10);
    expect(s.count).toBe(3);
    expect(s.overwritten).toBe(2);
    expect(s.oldestIndex).toBe(2);
    const merged = mergeSamples([s]);
    expect(Array.from(merged.lengths.subarray(0, merged.count))).toEqual([3, 4, 5]);
    s.clear();
    expect(s.count).toBe(0);
    const big = new RttSamples();
    for (let i = 0; i < 5000; i++) big.push(i, i);
    expect(big.count).toBe(5000);
    expect(big.lengths[4999]).toBe(4999);
  });

  it('merges client threads by concatenation: the digest of the merge is the digest of all samples', () => {
    const a = samplesOf(EXAMPLE.slice(0, 3));
    const b = samplesOf(EXAMPLE.slice(3));
    const merged = mergeSamples([a, b]);
    expect(merged.count).toBe(8);
    expect(merged.overwritten).toBe(0);
    expect(computeDigest(merged, OPTS)).toEqual(computeDigest(samplesOf(EXAMPLE), OPTS));
    // Plain typed arrays are accepted as well.
    const plain = { lengths: Int32Array.from(EXAMPLE.map((p) => p[0])), rttNs: Float64Array.from(EXAMPLE.map((p) => p[1] * 1000)) };
    expect(computeDigest(plain, OPTS).buckets).toEqual(computeDigest(merged, OPTS).buckets);
  });
});

describe('slowdownOutliers', () => {
  it('flags parts whose mean slowdown is outside 0.8x..1.2x of the average of part means', () => {
    const parts = [
      samplesOf([[1000, 22]]), // slowdown 2
      samplesOf([[1000, 22]]), // 2
      samplesOf([[1000, 44]]), // 4
    ];
    // Average of means 8/3 = 2.667: 2 < 0.8 * 2.667 = 2.133 and 4 > 3.2.
    const out = slowdownOutliers(parts, OPTS);
    expect(out.map((o) => o.index)).toEqual([0, 1, 2]);
    expect(out[2].meanSlowdown).toBe(4);
    expect(out[0].overallMean).toBeCloseTo(8 / 3, 12);
    expect(slowdownOutliers([samplesOf([[1000, 22]]), samplesOf([[1000, 23]])], OPTS)).toEqual([]);
  });
});
