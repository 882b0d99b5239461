import { describe, expect, it } from 'vitest';
import {
  clampLength, parseWorkload, Workload, workloadData, workloadInfo,
} from '../../src/workload/dist.js';
import { Rng } from '../../src/util/rng.js';

/** A fake uniform source that returns the given values in turn. */
function fixedU(...values: number[]): { nextFloat(): number } {
  let i = 0;
  return { nextFloat: () => values[i++ % values.length] };
}

function userError(fn: () => unknown): { code?: string; message: string } {
  try {
    fn();
  } catch (e) {
    return e as { code?: string; message: string };
  }
  throw new Error('expected an error');
}

describe('parseWorkload', () => {
  it('accepts w1..w5 and starve in any case', () => {
    expect(parseWorkload('W4').name).toBe('w4');
    expect(parseWorkload(' w1 ').name).toBe('w1');
    expect(parseWorkload('Starve').name).toBe('starve');
    expect(parseWorkload('w5').lengths[0]).toBe(1430);
  });

  it('takes an integer as a fixed length (mean N, every draw N; below 12 the floor applies)', () => {
    const w = parseWorkload('100');
    expect(w.name).toBe('100');
    expect(w.meanBytes).toBe(100);
    const rng = new Rng(1);
    for (let i = 0; i < 100; i++) expect(w.sample(rng)).toBe(100);
    expect(parseWorkload('5').sample(rng)).toBe(12);
    expect(parseWorkload('1000000').sample(rng)).toBe(1_000_000);
  });

  it('rejects unknown names and out-of-range lengths with EINVALIDOPT naming --workload', () => {
    for (const bad of ['w6', 'w0', 'abc', '', '0', '1000001', '-5', '1.5', '1e3']) {
      const e = userError(() => parseWorkload(bad));
      expect(e.code).toBe('EINVALIDOPT');
      expect(e.message).toContain('--workload');
      expect(e.message).toContain('w1..w5');
      expect(e.message).toContain('1..1000000');
      expect(e.message).toContain(JSON.stringify(bad));
    }
  });
});

describe('Workload tables', () => {
  const expectedMeans: Record<string, number> = { w1: 192.8, w2: 440.8, w3: 2567.7, w4: 61008.1, w5: 386161.4 };

  it('computes cp_node mean from the table, equal to the stored mean and the reference figures', () => {
    const stored = workloadData().workloads;
    for (const name of ['w1', 'w2', 'w3', 'w4', 'w5', 'starve'] as const) {
      const w = parseWorkload(name);
      expect(Math.abs(w.meanBytes / stored[name].mean_bytes.cp_node - 1)).toBeLessThan(1e-12);
      expect(w.maxBytes).toBe(stored[name].max_length_sampled_by_cp_node);
      expect(w.cumFrac[w.cumFrac.length - 1]).toBe(1);
    }
    for (const [name, mean] of Object.entries(expectedMeans)) {
      expect(Math.abs(parseWorkload(name).meanBytes - mean)).toBeLessThan(0.05);
    }
    // The mean of what is sent, after the 12-byte floor (W1 lengths 8..11 become 12).
    expect(parseWorkload('w1').meanSampledBytes).toBeCloseTo(194.1818925244267, 9);
    expect(parseWorkload('w4').meanSampledBytes).toBe(parseWorkload('w4').meanBytes);
  });

  it('has W1 largest length 83,912 and W4/W5 capped at 1,000,000', () => {
    expect(parseWorkload('w1').maxBytes).toBe(83_912);
    expect(parseWorkload('w4').maxBytes).toBe(1_000_000);
    // 30% of W5 and 2.79% of W4 messages are exactly 1,000,000 bytes.
    expect(1 - parseWorkload('w5').fracUnder(1_000_000)).toBeCloseTo(0.3, 12);
    expect(1 - parseWorkload('w4').fracUnder(1_000_000)).toBeCloseTo(0.0279, 12);
  });
});

describe('Workload.sample', () => {
  const table = new Workload('t', Int32Array.of(100, 200, 300), Float64Array.of(0.25, 0.5, 1));

  it('is a step inverse CDF: the first point with cumFrac >= u, never interpolated', () => {
    const us = [0, 0.1, 0.25, 0.25000001, 0.4, 0.5, 0.5000001, 0.99999];
    const rng = fixedU(...us);
    expect(us.map(() => table.sample(rng))).toEqual([100, 100, 100, 200, 200, 200, 300, 300]);
  });

  it('returns exactly the binary-search answer (guide table and scan), also at cell edges', () => {
    for (const name of ['w1', 'w3', 'w4', 'w5']) {
      const w = parseWorkload(name);
      const us: number[] = [0, 1 - 2 ** -53];
      for (let k = 1; k < 1024; k++) us.push(k / 1024, k / 1024 - 2 ** -40);
      for (let i = 0; i < w.cumFrac.length; i++) us.push(w.cumFrac[i], Math.max(0, w.cumFrac[i] - 1e-15));
      const rng = new Rng(12);
      for (let i = 0; i < 5000; i++) us.push(rng.nextFloat());
      const valid = us.filter((u) => u < 1);
      const src = fixedU(...valid);
      const mismatches = valid.filter((u) => w.sample(src) !== clampLength(w.lengths[w.indexFor(u)]));
      expect(mismatches, name).toEqual([]);
    }
  });

  it('raises short lengths to 12 and caps long ones at 1,000,000', () => {
    const w = new Workload('c', Int32Array.of(8, 2_000_000), Float64Array.of(0.5, 1));
    const rng = fixedU(0.3, 0.7);
    expect(w.sample(rng)).toBe(12);
    expect(w.sample(rng)).toBe(1_000_000);
    expect(w.meanBytes).toBe(1_000_004); // the table's mean, before the clamp
    expect(w.meanSampledBytes).toBe(500_006);
    expect(w.maxBytes).toBe(1_000_000);
    expect(clampLength(11)).toBe(12);
    expect(clampLength(12)).toBe(12);
    expect(clampLength(1_000_001)).toBe(1_000_000);
  });

  it('W1: 1,000,000 draws never go below 12, and 12 has the mass of lengths 8..11', () => {
    const w = parseWorkload('w1');
    const rng = Rng.derive(11, 1);
    const n = 1_000_000;
    let min = Infinity;
    let twelves = 0;
    for (let i = 0; i < n; i++) {
      const len = w.sample(rng);
      if (len < min) min = len;
      if (len === 12) twelves++;
    }
    expect(min).toBe(12);
    const p = 0.41757000000041733; // W1 cumulative fraction at 11 bytes
    expect(Math.abs(twelves / n - p)).toBeLessThan(5 * Math.sqrt(p * (1 - p) / n));
  });

  it('matches each table: mean within 1% (and 5 SE) and CDF within 5 binomial SE', () => {
    for (const name of ['w1', 'w2', 'w3', 'w4', 'w5']) {
      const w = parseWorkload(name);
      // The table's own standard deviation of a draw (after the clamp).
      let sq = 0;
      let prev = 0;
      for (let i = 0; i < w.lengths.length; i++) {
        sq += clampLength(w.lengths[i]) ** 2 * (w.cumFrac[i] - prev);
        prev = w.cumFrac[i];
      }
      const sd = Math.sqrt(sq - w.meanSampledBytes ** 2);
      // 1,000,000 draws, or more where the tail is heavy: W2 and W3 have a coefficient of
      // variation of ~11 and ~10 (rare messages up to 1 MB), so 1M draws give a standard error of
      // the mean of ~1.1%; draw enough that 1% is at least 4 standard errors (~20M and ~17M).
      const cv = sd / w.meanSampledBytes;
      const n = Math.max(1_000_000, Math.ceil((4 * cv / 0.01) ** 2));
      // CDF check points (over the first 1M draws): the first point, the quarter positions of
      // the table, and the next-to-last point.
      const k = w.lengths.length;
      const checkAt = [w.lengths[0], w.lengths[k >> 2], w.lengths[k >> 1], w.lengths[(3 * k) >> 2], w.lengths[k - 2]]
        .map(clampLength);
      const atMost = new Float64Array(checkAt.length);
      const rng = Rng.derive(2026, name.charCodeAt(1));
      const nCdf = 1_000_000;
      let sum = 0;
      for (let i = 0; i < nCdf; i++) {
        const len = w.sample(rng);
        sum += len;
        for (let j = 0; j < checkAt.length; j++) if (len <= checkAt[j]) atMost[j]++;
      }
      for (let i = nCdf; i < n; i++) sum += w.sample(rng);
      const mean = sum / n;
      expect(Math.abs(mean / w.meanSampledBytes - 1), name).toBeLessThan(0.01);
      expect(Math.abs(mean - w.meanSampledBytes), name).toBeLessThan(5 * sd / Math.sqrt(n));
      for (let j = 0; j < checkAt.length; j++) {
        // Each count is Binomial(n, F(L)): its fraction has SE sqrt(F(1-F)/n) <= 0.0005; 5 SE
        // is a false-alarm rate below 1e-6 per check.
        const f = w.fracAtMost(checkAt[j]);
        const se = Math.sqrt(f * (1 - f) / nCdf);
        expect(Math.abs(atMost[j] / nCdf - f), `${name} at ${checkAt[j]}`).toBeLessThanOrEqual(5 * se + 1e-12);
      }
    }
  });
});

describe('Workload.fracUnder and medianBytes', () => {
  it('counts messages as sent (after the clamp), strictly below the bound', () => {
    const w1 = parseWorkload('w1');
    expect(w1.fracUnder(12)).toBe(0);
    expect(w1.fracUnder(13)).toBe(0.41757000000041733);
    expect(w1.fracAtMost(13)).toBe(0.4217500000004215);
    expect(w1.fracUnder(1e9)).toBe(1);
    const t = new Workload('t', Int32Array.of(100, 200, 300), Float64Array.of(0.25, 0.5, 1));
    expect(t.fracUnder(100)).toBe(0);
    expect(t.fracUnder(101)).toBe(0.25);
    expect(t.fracUnder(300)).toBe(0.5);
    expect(t.medianBytes).toBe(200);
    expect(new Workload('m', Int32Array.of(100, 200), Float64Array.of(0.6, 1)).medianBytes).toBe(100);
  });

  it('rejects malformed tables', () => {
    expect(() => new Workload('x', Int32Array.of(100, 100), Float64Array.of(0.5, 1))).toThrow(RangeError);
    expect(() => new Workload('x', Int32Array.of(100, 200), Float64Array.of(0.6, 0.5))).toThrow(RangeError);
    expect(() => new Workload('x', Int32Array.of(100, 200), Float64Array.of(0.5, 0.9))).toThrow(RangeError);
  });
});

describe('workloadInfo', () => {
  it('gives one row per workload with cp_node mean, median, share under 1 KB, max and cperf gbps', () => {
    const rows = workloadInfo();
    expect(rows.map((r) => r.name)).toEqual(['w1', 'w2', 'w3', 'w4', 'w5']);
    const w4 = rows[3];
    expect(w4.meanBytes).toBeCloseTo(61008.14718999805, 6);
    expect(w4.maxBytes).toBe(1_000_000);
    expect(w4.cperfDefaultGbps).toBe(20);
    expect(w4.fracUnder1KB).toBe(parseWorkload('w4').fracUnder(1000));
    expect(w4.description).toMatch(/Hadoop/);
    expect(rows[0].maxBytes).toBe(83_912);
    expect(rows[0].cperfDefaultGbps).toBe(1.4);
    expect(rows[4].fracUnder1KB).toBe(0); // W5 starts at 1,430 bytes
    const fixed = workloadInfo(['300'])[0];
    expect(fixed).toMatchObject({ name: '300', meanBytes: 300, medianBytes: 300, fracUnder1KB: 1, maxBytes: 300, cperfDefaultGbps: null });
    expect(() => workloadInfo(['w9'])).toThrow(/--workload/);
  });
});
