import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2E_CLIENTS_PER_HOST, E2E_IDLE_MODES, e2eApps, lastE2e, runE2e, spscCrossThreadRate } from '../../bench/e2e.js';

// A benchmark runs the build as shipped: the workers it starts run without the assertions that
// are on in tests (src/util/assert.ts), which would also slow a wall-clock run below its figures.
const assertBefore = process.env['HOMA_EMU_ASSERT'];
beforeAll(() => { process.env['HOMA_EMU_ASSERT'] = '0'; });
afterAll(() => {
  if (assertBefore === undefined) delete process.env['HOMA_EMU_ASSERT'];
  else process.env['HOMA_EMU_ASSERT'] = assertBefore;
});

describe('e2eApps', () => {
  it('2 servers of 2 threads and 4 looping 100 B clients per host, each aimed at the other host', () => {
    const s = e2eApps();
    expect(s.servers).toEqual([
      { host: 0, port: 1000, threads: 2, serviceUsecs: 0 },
      { host: 1, port: 1000, threads: 2, serviceUsecs: 0 },
    ]);
    expect(s.clients.length).toBe(2 * E2E_CLIENTS_PER_HOST);
    for (const c of s.clients) {
      expect(c.dstHost).toBe(1 - c.host);
      expect(c.lengths).toEqual([100]);
      expect(c.loop).toBe(true);
    }
  });
});

describe('spscCrossThreadRate', () => {
  it('moves every item to the worker (checksum) at a finite positive rate', async () => {
    const rate = await spscCrossThreadRate(50_000);
    expect(Number.isFinite(rate)).toBe(true);
    expect(rate).toBeGreaterThan(0);
  });
});

describe('runE2e', () => {
  it('at a tiny scale: RPCs/s per idle mode beside the ring baseline; RPCs completed, none wrong', async () => {
    const results = await runE2e({ scale: 0.02 });
    expect(results.length).toBe(E2E_IDLE_MODES.length);
    for (const r of results) {
      expect(r.unit).toBe('ops/s');
      for (const v of [r.value, r.baselineValue, r.ratio]) {
        expect(Number.isFinite(v)).toBe(true);
        expect(v).toBeGreaterThan(0);
      }
      expect(r.ratio).toBeCloseTo(r.value / r.baselineValue, 9);
    }
    for (const m of E2E_IDLE_MODES) {
      expect(lastE2e[m]!.rpcs).toBeGreaterThan(0);
      expect([lastE2e[m]!.mismatches, lastE2e[m]!.errors]).toEqual([0, 0]);
    }
  }, 60_000);
});
