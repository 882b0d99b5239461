import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatCompare, lastPolicies, runPolicies } from '../../bench/policies.js';

// A benchmark runs the build as shipped: the workers it starts run without the assertions that
// are on in tests (src/util/assert.ts), which would also slow a wall-clock run below its figures.
const assertBefore = process.env['HOMA_EMU_ASSERT'];
beforeAll(() => { process.env['HOMA_EMU_ASSERT'] = '0'; });
afterAll(() => {
  if (assertBefore === undefined) delete process.env['HOMA_EMU_ASSERT'];
  else process.env['HOMA_EMU_ASSERT'] = assertBefore;
});

describe('runPolicies', () => {
  it('at a tiny scale: every variant of both comparisons has finite figures beside the first variant', async () => {
    const results = await runPolicies({ scale: 0.05, print: false });
    const titles = Object.keys(lastPolicies);
    expect(titles).toEqual(['steering w3@0.1', 'pacer flood 1000 B@0.5']);
    expect(lastPolicies[titles[0]!]!.variants.map((v) => v.label)).toEqual(['steering=same-core', 'steering=gen2', 'steering=gen3']);
    expect(lastPolicies[titles[1]!]!.variants.map((v) => v.label)).toEqual([
      'pacer=nic-short throttle-insert=front', 'pacer=nic-short throttle-insert=heap',
      'pacer=pacer-only throttle-insert=front', 'pacer=pacer-only throttle-insert=heap',
      'pacer=qdisc throttle-insert=front', 'pacer=qdisc throttle-insert=heap',
    ]);
    // RPCs/s of every one of the 9 variants, at least.
    expect(results.filter((r) => r.unit === 'RPCs/s').length).toBe(9);
    for (const r of results) {
      for (const v of [r.value, r.baselineValue, r.ratio]) expect(Number.isFinite(v), r.name).toBe(true);
    }
    for (const r of results.filter((x) => x.unit === 'RPCs/s')) expect(r.value, r.name).toBeGreaterThan(0);
    const table = formatCompare(lastPolicies[titles[0]!]!);
    expect(table).toMatch(/figure\s+│ steering=same-core\s+│ steering=gen2\s+│ steering=gen3/);
  }, 90_000);
});
