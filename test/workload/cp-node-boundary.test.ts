import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/config.js';
import { collectCpNodeOf } from '../../src/cluster/homa-world.js';
import { emulate } from '../../src/cluster/emulate.js';
import { formatReport } from '../../src/cluster/report.js';
import { cpNodeSpec, type CpNodeAppsSpec, type CpNodeSpec } from '../../src/workload/cp-node.js';
import { Harness } from '../homa/harness.js';

/**
 * The measured window's RPC balance (issue 11 item 8): RPCs in flight when the window starts are
 * reported as `outstandingStart`, so sent - completed - mismatched - aborted equals outstanding
 * at the end minus outstanding at the start, exactly, also under packet loss and timeouts.
 */

describe('cp_node RPC counters at the measure boundary', () => {
  it('harness: the RPCs in flight when the window starts are its outstandingStart, and the balance is exact', async () => {
    // Host 0 is the client (2 ports, 1 receiver each), host 1 the server.
    const cfgIn = { hosts: 2, cores: 2, seed: 3, gbps: 0, clientMax: 16, ports: 2, portReceivers: 1, serverPorts: 1, portThreads: 1, workload: 'w3' };
    const cfg = resolveConfig(cfgIn);
    const spec: CpNodeSpec = { ...cpNodeSpec(cfg), clientHosts: [0], serverHosts: [1] };
    const apps: CpNodeAppsSpec = { clients: [], servers: [], cpNode: spec };
    const h = await Harness.create({ cfg: cfgIn, apps });
    const senders = h.cores.flatMap((c) => c.cpNode.senders);
    const receivers = h.cores.flatMap((c) => c.cpNode.receivers);
    expect(senders).toHaveLength(2);
    // Each sender sends `limit` requests (counted over the whole run, so across the reset).
    let limit = 12;
    const total = new Map<object, number>();
    for (const s of senders) {
      const step = s.step.bind(s);
      total.set(s, 0);
      s.step = (now: number, slice: number): number => {
        if (total.get(s)! >= limit) return 0;
        const before = s.sent;
        const w = step(now, slice);
        total.set(s, total.get(s)! + s.sent - before);
        return w;
      };
    }
    const sentAll = (): number => [...total.values()].reduce((a, x) => a + x, 0);
    const doneAll = (): number => receivers.reduce((a, r) => a + r.recorder.completed, 0);
    // Run until every request is sent and some, not all, have their response.
    expect(h.runUntil(() => sentAll() === 2 * limit && doneAll() > 0, 1_000_000)).toBe(true);
    // The window starts now, on every core at once (single thread): what is in flight is counted
    // independently here, from the sends and completions before it.
    const inFlight = sentAll() - doneAll();
    expect(inFlight).toBeGreaterThan(0);
    const now0 = h.clock.now();
    for (const c of h.cores) c.onMeasureStart?.(now0);
    // Then 7 more per sender, and every response.
    limit += 7;
    expect(h.runUntil(() => sentAll() === 2 * limit && receivers.reduce((a, r) => a + r.recorder.completed, 0) === 14 + inFlight, 2_000_000)).toBe(true);
    const now = h.clock.now();
    const perCore = h.cores.map((c) => c.onStop?.(now));
    const cp = collectCpNodeOf(h.cfg, h.sab, h.desc, apps, perCore);
    const sum = (k: 'sent' | 'completed' | 'outstanding' | 'outstandingStart' | 'mismatches'): number => cp.clients.reduce((a, x) => a + x[k], 0);
    expect(sum('outstandingStart')).toBe(inFlight);
    expect(sum('sent')).toBe(14);
    expect(sum('completed')).toBe(14 + inFlight);
    expect(sum('outstanding')).toBe(0);
    expect(sum('mismatches')).toBe(0);
    // Per port too: each port's own start count balances its own window.
    for (const c of cp.clients) expect(c.sent - c.completed - (c.outstanding - c.outstandingStart)).toBe(0);
  }, 60_000);

  it('virtual time, 10% loss and short timeouts: outstanding at the start > 0, RPCs aborted, the balance exactly 0 (JSON and report)', async () => {
    const cfg = resolveConfig({
      hosts: 2, cores: 2, seed: 11, workload: 'w3', gbps: 2, lossRate: 0.1, tickUsecs: 100, timeoutTicks: 4, resendTicks: 2,
      warmupMs: 0.5, durationMs: 1.5, baseRttUsecs: 15,
    });
    const r = await emulate(cfg);
    const b = r.rpcs;
    expect(b.aborted).toBeGreaterThan(0);
    expect(b.outstandingStart).toBeGreaterThan(0);
    expect(b.outstandingStart).toBeLessThanOrEqual(cfg.clientMax * cfg.hosts);
    expect(b.sent - b.completed - b.mismatched - b.aborted).toBe(b.outstanding - b.outstandingStart);
    expect(formatReport(r)).toContain(`RPCs of the window: outstanding at its start ${b.outstandingStart} + sent ${b.sent} - completed ${b.completed}`
      + ` - mismatched ${b.mismatched} - aborted ${b.aborted} = outstanding at its end ${b.outstanding}: ok`);
  }, 120_000);

  it('wall time, loss and short timeouts: the balance is exact too (each core counts on both sides of its own switch)', async () => {
    const cfg = resolveConfig({
      clock: 'wall', dilation: 20, hosts: 2, cores: 1, seed: 4, workload: 'w3', gbps: 0.5, lossRate: 0.1, tickUsecs: 100, timeoutTicks: 4,
      resendTicks: 2, warmupMs: 30, durationMs: 150, baseRttUsecs: 15,
    });
    const b = (await emulate(cfg)).rpcs;
    expect(b.sent).toBeGreaterThan(0);
    expect(b.sent - b.completed - b.mismatched - b.aborted).toBe(b.outstanding - b.outstandingStart);
  }, 120_000);

  it('no warm-up: nothing is outstanding at the window start', async () => {
    const cfg = resolveConfig({ hosts: 2, cores: 1, seed: 2, workload: 'w2', gbps: 1, lossRate: 0.05, warmupMs: 0, durationMs: 0.5, baseRttUsecs: 15 });
    const r = await emulate(cfg);
    expect(r.rpcs.sent).toBeGreaterThan(0);
    expect(r.rpcs.outstandingStart).toBe(0);
    expect(r.rpcs.sent - r.rpcs.completed - r.rpcs.mismatched - r.rpcs.aborted).toBe(r.rpcs.outstanding);
  }, 120_000);
});
