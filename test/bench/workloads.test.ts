import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKLOAD_CASES, lastWorkloads, runWorkloads } from '../../bench/workloads.js';

// A benchmark runs the build as shipped: the workers it starts run without the assertions that
// are on in tests (src/util/assert.ts), which would also slow a wall-clock run below its figures.
const assertBefore = process.env['HOMA_EMU_ASSERT'];
beforeAll(() => { process.env['HOMA_EMU_ASSERT'] = '0'; });
afterAll(() => {
  if (assertBefore === undefined) delete process.env['HOMA_EMU_ASSERT'];
  else process.env['HOMA_EMU_ASSERT'] = assertBefore;
});

describe('runWorkloads', () => {
  it('at a tiny scale: four figures per case, each finite beside a finite baseline; no wrong byte', async () => {
    const results = await runWorkloads({ scale: 0.05, print: false });
    expect(results.length).toBe(4 * WORKLOAD_CASES.length);
    expect(results.map((r) => r.unit)).toEqual(WORKLOAD_CASES.flatMap(() => ['RPCs/s', 'Gbps', 'slowdown', 'us/RPC']));
    for (const r of results) {
      for (const v of [r.value, r.baselineValue, r.ratio]) expect(Number.isFinite(v), r.name).toBe(true);
      expect(r.baselineValue, r.name).toBeGreaterThan(0);
      expect(r.ratio).toBeCloseTo(r.value / r.baselineValue, 9);
    }
    // The Gbps baseline is the offered load of both client hosts.
    expect(results[1]!.baselineValue).toBeCloseTo(2 * WORKLOAD_CASES[0]!.gbps, 12);
    expect(Object.keys(lastWorkloads)).toEqual(['unloaded', ...WORKLOAD_CASES.map((c) => `${c.workload}@${c.gbps}`)]);
    for (const w of Object.values(lastWorkloads)) {
      expect(w.rpcs, w.label).toBeGreaterThan(0);
      expect(w.mismatches, w.label).toBe(0);
    }
  }, 60_000);
});
