import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';

function firstU32(rng: Rng, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(rng.nextU32());
  return out;
}

describe('Rng.nextU32', () => {
  it('is xoshiro128**: the reference outputs for state (1, 2, 3, 4)', () => {
    // Published reference sequence of xoshiro128** from state {1, 2, 3, 4}.
    expect(firstU32(Rng.fromState(1, 2, 3, 4), 6)).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
  });

  it('gives the same pinned sequence for seed 1 on every run and platform', () => {
    expect(firstU32(new Rng(1), 3)).toEqual([4065649393, 1428307882, 3213527904]);
  });

  it('gives different sequences for different seeds (including 0)', () => {
    const a = firstU32(new Rng(0), 4);
    const b = firstU32(new Rng(1), 4);
    const c = firstU32(new Rng(2 ** 40 + 1), 4);
    expect(a).not.toEqual(b);
    expect(c).not.toEqual(b);
  });

  it('rejects a non-integer seed and an all-zero state', () => {
    expect(() => new Rng(1.5)).toThrow(RangeError);
    expect(() => Rng.fromState(0, 0, 0, 0)).toThrow(RangeError);
  });
});

describe('Rng.derive', () => {
  it('is deterministic and separates streams by id list', () => {
    expect(firstU32(Rng.derive(7, 1, 2), 4)).toEqual(firstU32(Rng.derive(7, 1, 2), 4));
    const streams = [Rng.derive(7, 1, 2), Rng.derive(7, 2, 1), Rng.derive(7, 1), Rng.derive(7, 1, 2, 0), Rng.derive(8, 1, 2)];
    const seqs = streams.map((r) => firstU32(r, 4).join(','));
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('with no ids is the plain seeded stream; with id 0 it is not', () => {
    expect(firstU32(Rng.derive(9), 4)).toEqual(firstU32(new Rng(9), 4));
    expect(firstU32(Rng.derive(9, 0), 4)).not.toEqual(firstU32(new Rng(9), 4));
  });

  it('gives 1,000 (host, port) streams whose first draws are all distinct', () => {
    const firsts = new Set<number>();
    for (let host = 0; host < 100; host++) for (let port = 0; port < 10; port++) firsts.add(Rng.derive(1, host, port).nextU32());
    // Birthday bound for 1,000 uniform uint32 values: P(any collision) ~ 1e-4.
    expect(firsts.size).toBe(1000);
  });
});

describe('Rng.nextFloat', () => {
  it('stays in [0, 1) with mean 1/2 and variance 1/12', () => {
    const rng = new Rng(3);
    const n = 200_000;
    let sum = 0;
    let sumSq = 0;
    let min = 1;
    let max = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.nextFloat();
      sum += u;
      sumSq += u * u;
      if (u < min) min = u;
      if (u > max) max = u;
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    const mean = sum / n;
    // Standard error of the mean: sqrt(1/12/n) = 0.00065; allow 5 SE.
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.0033);
    expect(Math.abs(sumSq / n - mean * mean - 1 / 12)).toBeLessThan(0.002);
  });
});

describe('Rng.nextExp', () => {
  it('has mean 1/rate, P(X > mean) = e^-1, and rate 0 gives Infinity', () => {
    const rng = new Rng(4);
    const n = 200_000;
    const rate = 250;
    let sum = 0;
    let above = 0;
    let min = Infinity;
    for (let i = 0; i < n; i++) {
      const x = rng.nextExp(rate);
      if (x < min) min = x;
      sum += x;
      if (x > 1 / rate) above++;
    }
    expect(min).toBeGreaterThanOrEqual(0);
    // SE of the mean is (1/rate)/sqrt(n) = 0.22%: allow 1%. SE of the fraction: 0.0011.
    expect(Math.abs(sum / n * rate - 1)).toBeLessThan(0.01);
    expect(Math.abs(above / n - Math.exp(-1))).toBeLessThan(0.006);
    expect(rng.nextExp(0)).toBe(Infinity);
  });
});

describe('Rng.nextBelow', () => {
  it('is uniform over [0, n) (chi-square, 6 cells)', () => {
    const rng = new Rng(5);
    const n = 60_000;
    const cells = new Array<number>(6).fill(0);
    for (let i = 0; i < n; i++) cells[rng.nextBelow(6)]++;
    const expected = n / 6;
    const chi2 = cells.reduce((a, c) => a + ((c - expected) ** 2) / expected, 0);
    // 5 degrees of freedom: P(chi2 > 20.5) = 0.001.
    expect(chi2).toBeLessThan(20.5);
  });

  it('handles the edges and rejects bad bounds', () => {
    const rng = new Rng(6);
    expect(rng.nextBelow(1)).toBe(0);
    const big = rng.nextBelow(2 ** 32);
    expect(big).toBeGreaterThanOrEqual(0);
    expect(big).toBeLessThan(2 ** 32);
    expect(() => rng.nextBelow(0)).toThrow(RangeError);
    expect(() => rng.nextBelow(2.5)).toThrow(RangeError);
  });
});
