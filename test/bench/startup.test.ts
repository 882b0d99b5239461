import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastStartup, runStartup, startupSizes } from '../../bench/startup.js';

// A benchmark runs the build as shipped: the workers it starts run without the assertions that
// are on in tests (src/util/assert.ts), which would also slow a wall-clock run below its figures.
const assertBefore = process.env['HOMA_EMU_ASSERT'];
beforeAll(() => { process.env['HOMA_EMU_ASSERT'] = '0'; });
afterAll(() => {
  if (assertBefore === undefined) delete process.env['HOMA_EMU_ASSERT'];
  else process.env['HOMA_EMU_ASSERT'] = assertBefore;
});

describe('startup bench', () => {
  it('measures 32 and 255 cores at full scale', () => {
    expect(startupSizes(1).map(([h, c]) => h * c)).toEqual([32, 255]);
    expect(startupSizes(0.5).map(([h, c]) => h * c)).toEqual([32]);
  });

  it('runs at a tiny scale: every phase measured, each remedy beside its baseline', async () => {
    const r = await runStartup({ scale: 0.01 });
    expect(r).toHaveLength(6);
    const f = lastStartup[0]!;
    expect(f.workers).toBe(5);
    for (const x of [f.prepMs, f.bareMs, f.modulesMs, f.bundleMs, f.readyModulesMs, f.readyMs, f.twoStartsMs, f.sharedMs, f.sabMB, f.peakRssMB, f.peakRssModulesMB]) {
      expect(x).toBeGreaterThan(0);
    }
    for (const x of r) expect(Number.isFinite(x.ratio)).toBe(true);
  }, 180_000);
});
