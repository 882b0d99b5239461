import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { lastStartup, runStartup, startupSizes } from '../../bench/startup.js';

const built = existsSync(fileURLToPath(new URL('../../dist/bench/startup.js', import.meta.url)));

describe('startup bench', () => {
  it('measures 32 and 255 cores at full scale', () => {
    expect(startupSizes(1).map(([h, c]) => h * c)).toEqual([32, 255]);
    expect(startupSizes(0.5).map(([h, c]) => h * c)).toEqual([32]);
  });

  it.skipIf(!built)('runs at a tiny scale: every phase measured, each remedy beside its baseline', async () => {
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
