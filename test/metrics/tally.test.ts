import { describe, expect, it } from 'vitest';
import { mergeEncoded, newHistogram, percentiles, recordNs } from '../../src/metrics/histo.js';
import { LatencyTally, TALLY_SLOTS, decodeTally, mergeTallies, tallyIndex, tallyIndexValue } from '../../src/metrics/tally.js';

type Indexed = { countsArrayIndex(v: number): number; getCountAtIndex(i: number): number };
const countsOf = (h: unknown): number[] => Array.from({ length: TALLY_SLOTS }, (_, i) => (h as Indexed).getCountAtIndex(i));

describe('tallyIndex', () => {
  it('is the index the histogram itself uses, at every power of two and its neighbours up to 100 s', () => {
    const h = newHistogram() as unknown as Indexed;
    for (let k = 0; k < 37; k++) {
      for (const d of [-1, 0, 1]) {
        const v = 2 ** k + d;
        if (v >= 1 && v <= 100e9) expect(tallyIndex(v)).toBe(h.countsArrayIndex(v));
      }
    }
    for (const v of [3e9 + 17, 5e10 - 3, 99_999_999_999, 100e9]) expect(tallyIndex(v)).toBe(h.countsArrayIndex(v));
    expect([tallyIndex(1), tallyIndex(2047), tallyIndex(2048), tallyIndex(3000)]).toEqual([1, 2047, 2048, 2524]);
    expect(tallyIndex(100e9)).toBeLessThan(TALLY_SLOTS);
  });
  it('tallyIndexValue is the lowest value of each index', () => {
    expect([tallyIndexValue(1), tallyIndexValue(2047), tallyIndexValue(2048), tallyIndexValue(2524)]).toEqual([1, 2047, 2048, 3000]);
    for (const i of [5, 1500, 2049, 9999, 21503, 25000, tallyIndex(100e9)]) {
      expect(tallyIndex(tallyIndexValue(i))).toBe(i);
      expect(tallyIndex(tallyIndexValue(i) - 1)).toBe(i - 1);
    }
  });
});

describe('LatencyTally', () => {
  let seed = 7;
  const rnd = (): number => { seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff; return seed / 0x80000000; };

  it('decodes into the same histogram as recording every value directly (counts, min, max, percentiles)', () => {
    for (let trial = 0; trial < 10; trial++) {
      const direct = newHistogram();
      const t = new LatencyTally();
      for (let i = 0; i < 3000; i++) {
        const r = rnd();
        const x = r < 0.1 ? rnd() * 2 - 0.5 : r < 0.15 ? 3e9 + rnd() * 2e11 : rnd() ** 3 * 5e6 + rnd();
        const c = rnd() < 0.2 ? 1 + Math.floor(rnd() * 5) : 1;
        for (let k = 0; k < c; k++) recordNs(direct, x);
        t.recordTimes(x, c);
      }
      const h = mergeEncoded([t.encode()]);
      expect([h.totalCount, h.minNonZeroValue, h.maxValue]).toEqual([direct.totalCount, direct.minNonZeroValue, direct.maxValue]);
      expect([t.totalCount, t.minNonZeroValue, t.maxValue]).toEqual([direct.totalCount, direct.minNonZeroValue, direct.maxValue]);
      expect(percentiles(h)).toEqual(percentiles(direct));
      expect(countsOf(h)).toEqual(countsOf(direct));
    }
  });
  it('merges the tallies of several threads as one histogram of every value', () => {
    const direct = newHistogram();
    const parts: string[] = [];
    for (let p = 0; p < 4; p++) {
      const t = new LatencyTally();
      for (let i = 0; i < 500; i++) { const x = rnd() * 1e6 * (p + 1); t.record(x); recordNs(direct, x); }
      parts.push(t.encode());
    }
    parts.push('');
    const merged = mergeTallies(parts);
    const h = mergeEncoded([merged]);
    expect(percentiles(h)).toEqual(percentiles(direct));
    expect(percentiles(mergeEncoded(parts))).toEqual(percentiles(direct));
    expect(mergeTallies(['', ''])).toBe('');
  });
  it('reset empties it; an empty tally encodes as the empty string', () => {
    const t = new LatencyTally();
    t.record(3001);
    t.recordTimes(3002, 2);
    t.record(0.2);
    expect([t.totalCount, t.minNonZeroValue, t.maxValue]).toEqual([4, 1, 3002]);
    expect(decodeTally(t.encode())).toEqual({ minV: 1, maxV: 3002, index: [1, tallyIndex(3001), tallyIndex(3002)], count: [1, 1, 2] });
    t.reset();
    expect([t.totalCount, t.encode()]).toEqual([0, '']);
    t.record(5);
    expect(decodeTally(t.encode())).toEqual({ minV: 5, maxV: 5, index: [5], count: [1] });
  });
  it('rejects text it did not write', () => {
    expect(() => decodeTally('12|3:4')).toThrow(/malformed/);
    expect(() => decodeTally('1,2|x:4')).toThrow(/malformed/);
    expect(() => decodeTally(`1,2|${TALLY_SLOTS}:1`)).toThrow(/malformed/);
  });
});
