import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { resolveConfig } from '../../src/config/config.js';
import { runWorld } from '../../src/cluster/worlds.js';
import type { collectHoma } from '../../src/cluster/homa-world.js';

const worldFile = fileURLToPath(new URL('./fixtures/echo-world.mjs', import.meta.url));

describe('homa world on real worker threads (2 hosts x 2 cores + fabric)', () => {
  it('40 echo RPCs (1 B .. 1 MB) complete byte-exact with 1% loss; the run ends when the clients are done', async () => {
    const cfg = resolveConfig({ hosts: 2, cores: 2, durationMs: 120_000, warmupMs: 300, lossRate: 0.01, maxRpcsPerHost: 256,
      bpagesPerHost: 128, ringSlots: 1024, tickUsecs: 200, watchdogMs: 20_000 });
    const run = await runWorld(worldFile, cfg, { stopWhenAppsDone: true });
    const r = run.worldResult as ReturnType<typeof collectHoma>;
    const completed = r.hosts.reduce((s, h) => s + h.app['completed']!, 0);
    expect(r.hosts.map((h) => h.app['mismatches'])).toEqual([0, 0]);
    expect(r.hosts.map((h) => h.app['errors'])).toEqual([0, 0]);
    expect(completed).toBe(40);
    expect(r.leaks).toEqual({ packetSlots: 0, packetDuplicates: 0, rpcSlots: 0, pages: 0 });
    expect(r.net.totals.balanced).toBe(true);
    expect(run.endedEarly).toBe(true);
  }, 150_000);
});
