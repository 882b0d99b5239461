/**
 * src/cluster/emulate.ts on one small virtual run: the figures it derives agree with each other
 * (the RPC balance of the window, per-host rates adding up to the total, every core's window
 * shares summing to one), the header says what ran (clock, profile, W, given base RTT), the
 * steering, pacer and thread lines name the policies in force (from cfg.policies), and the JSON report carries its schema version but
 * neither the raw samples nor the raw columns. `liveRpcsDone` (the CLI's progress count) sums
 * the completion counter over cores.
 */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/config.js';
import { emulate, jsonReport, liveRpcsDone, SCHEMA_VERSION } from '../../src/cluster/emulate.js';
import { M, NUM_METRICS } from '../../src/homa/metrics.js';
import { LayoutBuilder, allocate, column } from '../../src/shm/layout.js';

describe('emulate', () => {
  it('derives figures that agree with each other from one virtual run', async () => {
    const cfg = resolveConfig({ hosts: 2, cores: 2, workload: 'w3', gbps: 0.5, warmupMs: 0.2, durationMs: 1, baseRttUsecs: 15, seed: 4 });
    const r = await emulate(cfg);
    const h = r.header;
    expect([h.clock, h.costProfile, h.syncWindowNs, h.baseRttUs, h.baseRttSource]).toEqual(['virtual', 'xl170', 1000, 15, 'given']);
    expect(h.emulatedSec).toBeCloseTo(0.001, 9);
    const k = r.rpcs;
    expect(k.completed).toBeGreaterThan(10);
    expect(k.outstandingStart + k.sent - k.completed - k.mismatched - k.aborted).toBe(k.outstanding);
    const perHost = r.throughput.perHost.reduce((a, x) => a + x.rpcsPerSec, 0);
    expect(perHost).toBeCloseTo(r.throughput.rpcsPerSec, 6);
    expect(r.throughput.rpcsPerSec * h.emulatedSec).toBeCloseTo(k.completed, 6);
    for (const c of r.cores.filter((x) => x.label !== 'fabric')) {
      const sum = Object.values(c.share).reduce((a, x) => a + x, 0);
      expect(sum, c.label).toBeCloseTo(1, 6);
    }
    // The policies in force, as resolveConfig chose them.
    expect(r.gro.steering).toBe('gen2 (default of --gro-policy 0x72)');
    expect([r.pacer.policy, r.pacer.throttleInsert, r.threads.threadChoice, r.threads.waitMode, r.threads.placement])
      .toEqual(['nic-short', 'front', 'idle-core', 'poll-then-block', 'stay']);
    const j = jsonReport(cfg, r);
    // The JSON's config is the option values alone (a valid --config file), without the derived choices.
    expect(j['config']).not.toHaveProperty('policies');
    expect(resolveConfig(j['config'] as Record<string, unknown>)).toEqual(cfg);
    expect(j['schemaVersion']).toBe(SCHEMA_VERSION);
    expect(j).not.toHaveProperty('samples');
    expect(j).not.toHaveProperty('detail');
    expect(r.samples.rttNs.length).toBe(k.completed);
  }, 120_000);
});

describe('liveRpcsDone', () => {
  it('sums client_responses_done over every core row of the world', () => {
    const desc = new LayoutBuilder().add('ctl', 'i32', 16).add('world.metrics', 'f64', 3 * NUM_METRICS).build();
    const sab = allocate(desc);
    const m = column(sab, desc, 'world.metrics', 'f64');
    for (let c = 0; c < 3; c++) m[c * NUM_METRICS + M.client_responses_done] = c + 1;
    m[M.grants] = 100; // another counter is not counted
    expect(liveRpcsDone(sab, desc)).toBe(6);
  });
});
