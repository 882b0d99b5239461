import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/config.js';
import { selftest } from '../../src/cluster/selftest.js';

describe('selftest', () => {
  it('moves items producer -> ring -> consumer on real workers with every invariant holding', async () => {
    const cfg = resolveConfig({ hosts: 1, cores: 3, warmupMs: 100, durationMs: 600, idleMode: 'hybrid', ringSlots: 1024 });
    const r = await selftest(cfg);
    expect(r.pipeline.producers).toBe(1);
    expect(r.pipeline.consumers).toBe(2);
    expect(r.pipeline.consumed).toBeGreaterThan(0);
    expect(r.pipeline.produced).toBe(r.pipeline.consumed + r.pipeline.queued);
    expect(r.pipeline.tableSum).toBe(r.pipeline.consumed);
    expect(r.pipeline.orderErrors).toBe(0);
    expect(r.ok).toBe(true);
    // Per core, the role shares add up to the whole window.
    for (const c of r.cores) {
      const sum = Object.values(c.share).reduce((a, b) => a + b, 0);
      expect(sum).toBeGreaterThan(0.999);
      expect(sum).toBeLessThan(1.001);
    }
    // The consumers' work shows up as SoftIRQ, the producer's as app time.
    expect(r.cores[1]!.share['softirq']).toBeGreaterThan(0);
    expect(r.cores[0]!.share['app']).toBeGreaterThan(0);
    // Lock stats add up: one acquisition per consumed item.
    const table = r.locks.find((l) => l.cls === 'table')!;
    expect(table.acquisitions).toBeGreaterThan(0);
    expect(table.misses).toBeLessThanOrEqual(table.acquisitions);
    expect(r.fidelity.workerThreads).toBe(3);
  });
});
