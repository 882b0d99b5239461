import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSync } from '../../bench/sync.js';

// A benchmark runs the build as shipped: the workers it starts run without the assertions that
// are on in tests (src/util/assert.ts), which would also slow a wall-clock run below its figures.
const assertBefore = process.env['HOMA_EMU_ASSERT'];
beforeAll(() => { process.env['HOMA_EMU_ASSERT'] = '0'; });
afterAll(() => {
  if (assertBefore === undefined) delete process.env['HOMA_EMU_ASSERT'];
  else process.env['HOMA_EMU_ASSERT'] = assertBefore;
});

describe('runSync', () => {
  it('at a tiny scale: units per wall second at each window and deterministic, beside the work alone', async () => {
    const r = await runSync({ scale: 0.002 });
    expect(r.map((x) => x.name)).toEqual(['9 busy cores, W=200 ns', '9 busy cores, W=1000 ns', '9 busy cores, W=5000 ns', '9 busy cores, deterministic']);
    for (const x of r) {
      expect(Number.isFinite(x.value) && x.value > 0, x.name).toBe(true);
      expect(x.baselineValue).toBeGreaterThan(0);
      expect(x.ratio).toBeCloseTo(x.value / x.baselineValue, 9);
    }
  }, 120_000);
});
