import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/shm/clock.js';
import { parseWorkload } from '../../src/workload/dist.js';
import { overloadLagFraction, PoissonSchedule, portRate } from '../../src/workload/poisson.js';
import { Rng } from '../../src/util/rng.js';

describe('portRate', () => {
  it('is gbps*1e9/8 / (mean * ports) messages/s', () => {
    // 10 Gbps = 1.25e9 B/s; W4 mean 61,008.147 B; 5 ports: 1.25e9 / 305,040.736 = 4,097.81/s.
    expect(portRate(10, parseWorkload('w4').meanBytes, 5)).toBeCloseTo(4097.813349771522, 9);
    // 8 Gbps of 1,000-byte messages on 2 ports: 1e9 / 2,000 = 500,000/s each.
    expect(portRate(8, 1000, 2)).toBe(500_000);
    expect(portRate(0, 1000, 3)).toBe(0);
    expect(() => portRate(-1, 1000, 1)).toThrow(RangeError);
    expect(() => portRate(1, 0, 1)).toThrow(RangeError);
    expect(() => portRate(1, 100, 0)).toThrow(RangeError);
  });
});

describe('PoissonSchedule', () => {
  it('starts at startNs, then spaces starts by Exp gaps: mean rate within 1%, CV of gaps ~1 (200,000 gaps)', () => {
    const rate = 100_000; // 10 us mean gap
    const clock = new ManualClock(5_000);
    const s = new PoissonSchedule(rate, Rng.derive(1, 0, 0), clock.now());
    expect(s.due(clock.now())).toBe(true);
    expect(s.due(clock.now() - 1)).toBe(false);
    const n = 200_000;
    let sum = 0;
    let sumSq = 0;
    let maxLag = 0;
    let notDue = 0;
    for (let i = 0; i < n; i++) {
      clock.t = s.nextStartNs; // the sender is exactly on time
      if (!s.due(clock.t)) notDue++;
      const before = s.nextStartNs;
      s.started(clock.t);
      if (s.lagNs > maxLag) maxLag = s.lagNs;
      const gap = s.nextStartNs - before;
      sum += gap;
      sumSq += gap * gap;
    }
    expect(notDue).toBe(0);
    expect(maxLag).toBe(0);
    expect(s.startedCount).toBe(n);
    const meanGap = sum / n;
    // SE of the mean gap is 1/sqrt(n) = 0.22% of it: 1% is 4.5 SE.
    expect(Math.abs(meanGap / s.meanGapNs - 1)).toBeLessThan(0.01);
    expect(Math.abs((n * 1e9) / (s.nextStartNs - 5_000) / rate - 1)).toBeLessThan(0.01);
    // The sample CV of exponential gaps has SE ~ sqrt(8/(4n)) = 0.003: allow 0.02.
    const cv = Math.sqrt(sumSq / n - meanGap * meanGap) / meanGap;
    expect(Math.abs(cv - 1)).toBeLessThan(0.02);
  });

  it('is not due before the scheduled time', () => {
    const s = new PoissonSchedule(1000, new Rng(2), 0);
    s.started(0);
    const next = s.nextStartNs;
    expect(next).toBeGreaterThan(0);
    expect(s.due(next - 1e-3)).toBe(false);
    expect(s.due(next)).toBe(true);
  });

  it('adds gaps to the scheduled time: a late sender catches up back to back, lag shrinking', () => {
    const rate = 1_000_000; // 1 us mean gap
    const s = new PoissonSchedule(rate, Rng.derive(3, 1), 0);
    const now = 1_000_000; // the sender was busy for 1 ms
    const lags: number[] = [];
    while (s.due(now)) {
      s.started(now);
      lags.push(s.lagNs);
    }
    // Starts scheduled in [0, 1 ms] is 1 + Poisson(1000): SD 32, allow 5 SD.
    expect(Math.abs(lags.length - 1001)).toBeLessThan(160);
    expect(lags[0]).toBe(1_000_000);
    expect(s.maxLagNs).toBe(1_000_000);
    expect(lags.filter((lag, i) => i > 0 && !(lag < lags[i - 1]))).toEqual([]);
    expect(lags[lags.length - 1]).toBeGreaterThanOrEqual(0);
    // Caught up: the next scheduled start is in the future, less than a few gaps away.
    expect(s.nextStartNs).toBeGreaterThan(now);
    expect(s.nextStartNs - now).toBeLessThan(20_000);
    // The schedule did not jump to `now`: the latest lag is what is left of the backlog.
    expect(s.lagNs).toBe(lags[lags.length - 1]);
  });

  it('with rate 0 is closed loop: always due, no lag, schedule unchanged', () => {
    const s = new PoissonSchedule(0, new Rng(4), 123);
    expect(s.closedLoop).toBe(true);
    expect(s.meanGapNs).toBe(Infinity);
    for (const t of [0, 123, 1e12]) {
      expect(s.due(t)).toBe(true);
      s.started(t);
    }
    expect(s.lagNs).toBe(0);
    expect(s.maxLagNs).toBe(0);
    expect(s.nextStartNs).toBe(123);
    expect(s.startedCount).toBe(3);
  });

  it('rejects a negative or infinite rate', () => {
    expect(() => new PoissonSchedule(-1, new Rng(5), 0)).toThrow(RangeError);
    expect(() => new PoissonSchedule(Infinity, new Rng(5), 0)).toThrow(RangeError);
  });
});

describe('overloadLagFraction', () => {
  it('is the increase of summed lag per elapsed time per port', () => {
    // Lag sum went from 1 ms to 41 ms over 1 s with 2 ports: 40 ms / 1 s / 2 = 0.02.
    expect(overloadLagFraction(41e6, 1e6, 1e9, 2)).toBeCloseTo(0.02, 15);
    expect(overloadLagFraction(1e6, 41e6, 1e9, 4)).toBeCloseTo(-0.01, 15);
    expect(overloadLagFraction(5, 0, 0, 1)).toBe(0);
  });
});
