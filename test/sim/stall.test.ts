import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/config.js';
import { emulate } from '../../src/cluster/emulate.js';

// A stalled host does nothing for the stall's duration, so every RPC outstanding when the stall
// begins completes after it ends: the slowest RTT is at least (almost) the stall, whatever the
// host's speed. The stall is charged to the stall role of exactly the stalled cores. Virtual
// time: the stall lasts exactly its emulated duration, so its share of the window is exact.
describe('core stalls (--stall) on a whole-cluster run', () => {
  it('show up in the stalled cores\' table and in the latency tail', async () => {
    const cfg = resolveConfig({
      hosts: 2, cores: 2, workload: '500', gbps: 0, clientMax: 8, ports: 1, portThreads: 2, idleMode: 'park',
      warmupMs: 0.2, durationMs: 2, baseRttUsecs: 15, timeoutTicks: 5000,
      stall: 'core=0.0,ms=0.3,every=1,offset=0.5;core=0.1,ms=0.3,every=1,offset=0.5',
    });
    const r = await emulate(cfg);
    const byLabel = new Map(r.cores.map((c) => [c.label, c]));
    for (const label of ['h0.c0', 'h0.c1']) {
      expect(byLabel.get(label)!.stalls).toBeGreaterThanOrEqual(1);
      expect(byLabel.get(label)!.share['stall']).toBeGreaterThan(0);
    }
    for (const label of ['h1.c0', 'h1.c1']) {
      expect(byLabel.get(label)!.stalls).toBe(0);
      expect(byLabel.get(label)!.share['stall']).toBe(0);
    }
    expect(r.header.stalls).toHaveLength(2);
    expect(r.accounting.mismatches).toBe(0);
    // Stalls at 0.5 and 1.5 ms (both in the window, 0.3 ms each): exactly 30% of each stalled core's 2 ms.
    for (const label of ['h0.c0', 'h0.c1']) {
      expect(byLabel.get(label)!.stalls).toBe(2);
      expect(byLabel.get(label)!.share['stall']).toBeCloseTo(0.3, 2);
    }
    // The slowest RPC waited out a 0.3 ms stall of its server or client host.
    expect(r.latency.rtt.maxNs).toBeGreaterThan(0.25e6);
  }, 60_000);
});
