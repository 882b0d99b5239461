import { describe, expect, it } from 'vitest';
import { runMicro } from '../../bench/micro.js';
import { formatResults } from '../../bench/harness.js';

describe('runMicro', () => {
  it('at a tiny scale, every result is a finite positive number with a finite positive baseline', async () => {
    const results = await runMicro({ scale: 0.01 });
    expect(results.length).toBe(9); // 4 ring, 1 pool, 2 uncontended lock, 2 contended lock
    for (const r of results) {
      expect(r.name).not.toBe('');
      expect(r.baselineName).not.toBe('');
      expect(['items/s', 'ops/s', 'ns/op']).toContain(r.unit);
      for (const v of [r.value, r.baselineValue, r.ratio]) {
        expect(Number.isFinite(v)).toBe(true);
        expect(v).toBeGreaterThan(0);
      }
      expect(r.ratio).toBeCloseTo(r.value / r.baselineValue, 9);
    }
    const table = formatResults(results);
    for (const r of results) expect(table).toContain(r.name);
  });
});
