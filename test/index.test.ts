import { describe, expect, it } from 'vitest';
import { compare, emulate, jsonReport, resolveConfig, runFigures, SCHEMA_VERSION } from '../src/index.js';

const SMALL = { hosts: 2, cores: 2, gbps: 0.5, durationMs: 1, warmupMs: 0.2, baseRttUsecs: 15 };

describe('library API (what the README example does)', () => {
  it('compare runs every variant with emulate and returns the figure table and every typed result', async () => {
    const r = await compare(SMALL, ['max-gro-skbs=5,20']);
    expect(r.variants.map((v) => v.label)).toEqual(['max-gro-skbs=5', 'max-gro-skbs=20']);
    expect(r.runs.map((x) => [x.label, x.config.maxGroSkbs, x.results.length])).toEqual([['max-gro-skbs=5', 5, 1], ['max-gro-skbs=20', 20, 1]]);
    for (const [i, run] of r.runs.entries()) {
      const res = run.results[0]!;
      expect(res.latency.digest.count).toBeGreaterThan(0);
      // The table's figures are the figures of the kept results.
      expect(r.variants[i]!.figures['RPCs/s']!.median).toBe(runFigures(res)['RPCs/s']);
      expect(jsonReport(run.config, res)['schemaVersion']).toBe(SCHEMA_VERSION);
    }
  }, 60_000);

  it('emulate is the same entry the CLI uses', () => {
    expect(typeof emulate).toBe('function');
    expect(resolveConfig({ cpuKhz: 3_000_000 }).cpuKhz).toBe(3_000_000);
  });
});
