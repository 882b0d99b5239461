import { describe, expect, it } from 'vitest';
import { newHistogram, percentiles, recordNs, encodeHistogram } from '../../src/metrics/histo.js';
import { LatencyTally, TALLY_SLOTS, tallyIndex, tallyIndexValue } from '../../src/homa/latency.js';

describe('tallyIndex', () => {
  it('is the index the histogram itself uses, at every power of two and its neighbours', () => {
    const h = newHistogram() as unknown as { countsArrayIndex(v: number): number };
    for (let k = 0; k < 31; k++) {
      for (const d of [-1, 0, 1]) {
        const v = 2 ** k + d;
        if (v >= 1 && v < 2 ** 31) expect(tallyIndex(v)).toBe(h.countsArrayIndex(v));
      }
    }
    expect([tallyIndex(1), tallyIndex(2047), tallyIndex(2048), tallyIndex(3000)]).toEqual([1, 2047, 2048, 2524]);
    expect(tallyIndex(2 ** 31 - 1)).toBe(TALLY_SLOTS - 1);
  });
  it('tallyIndexValue is the lowest value of each index', () => {
    expect([tallyIndexValue(1), tallyIndexValue(2047), tallyIndexValue(2048), tallyIndexValue(2524)]).toEqual([1, 2047, 2048, 3000]);
    for (const i of [5, 1500, 2049, 9999, TALLY_SLOTS - 1]) {
      expect(tallyIndex(tallyIndexValue(i))).toBe(i);
      expect(tallyIndex(tallyIndexValue(i) - 1)).toBe(i - 1);
    }
  });
});

describe('LatencyTally', () => {
  it('flushes into the same histogram as recording every value directly', () => {
    let seed = 7;
    const rnd = (): number => { seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff; return seed / 0x80000000; };
    for (let trial = 0; trial < 10; trial++) {
      const direct = newHistogram();
      const tallied = newHistogram();
      const t = new LatencyTally(tallied);
      for (let i = 0; i < 3000; i++) {
        const r = rnd();
        const x = r < 0.1 ? rnd() * 2 - 0.5 : r < 0.15 ? 3e9 + rnd() * 2e11 : rnd() ** 3 * 5e6 + rnd();
        const c = rnd() < 0.2 ? 1 + Math.floor(rnd() * 5) : 1;
        for (let k = 0; k < c; k++) recordNs(direct, x);
        t.recordTimes(x, c);
        if (rnd() < 0.002) t.flush();
      }
      t.flush();
      expect([tallied.totalCount, tallied.minNonZeroValue, tallied.maxValue]).toEqual([direct.totalCount, direct.minNonZeroValue, direct.maxValue]);
      expect(percentiles(tallied)).toEqual(percentiles(direct));
      expect(encodeHistogram(tallied)).toBe(encodeHistogram(direct));
    }
  });
  it('leaves the histogram untouched until flushed, and a second flush adds nothing', () => {
    const h = newHistogram();
    const t = new LatencyTally(h);
    t.record(3001);
    t.recordTimes(3002, 2);
    t.record(0.2);
    expect(h.totalCount).toBe(0);
    t.flush();
    expect([h.totalCount, h.minNonZeroValue, h.maxValue]).toEqual([4, 1, 3002]);
    t.flush();
    expect(h.totalCount).toBe(4);
  });
});
