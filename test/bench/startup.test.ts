import { describe, expect, it } from 'vitest';
import { lastStartup, runStartup, startupSizes } from '../../bench/startup.js';


describe('startup bench', () => {
  it('measures 32 and 255 cores at full scale', () => {
    expect(startupSizes(1).map(([h, c]) => h * c)).toEqual([32, 255]);
  });

  it('runs at a tiny scale: every phase measured, start-up at least as long as bare threads', async () => {
    const r = await runStartup({ scale: 0.01 });
    expect(r).toHaveLength(5);
    const f = lastStartup[0]!;
    expect(f.workers).toBe(5);
    for (const x of [f.prepMs, f.bareMs, f.importMs, f.worldMs, f.readyMs, f.totalMs, f.sabMB, f.peakRssMB]) expect(x).toBeGreaterThan(0);
    expect(f.totalMs).toBeGreaterThanOrEqual(f.readyMs);
    for (const x of r) expect(Number.isFinite(x.ratio)).toBe(true);
  }, 120_000);
});
