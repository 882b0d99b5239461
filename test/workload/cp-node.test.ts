import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/config.js';
import { collectCpNodeOf, type HomaResult } from '../../src/cluster/homa-world.js';
import { RpcState } from '../../src/homa/homa.js';
import { AppState } from '../../src/cpu/context.js';
import { runWorld } from '../../src/cluster/worlds.js';
import {
  CP_CLIENT_FIRST_PORT, CP_SERVER_FIRST_PORT, cpNodeSpec, planCpNode, portCap,
  type CpNodeAppsSpec, type CpNodeSender, type CpNodeSpec,
} from '../../src/workload/cp-node.js';
import { parseWorkload } from '../../src/workload/dist.js';
import { PoissonSchedule, portRate } from '../../src/workload/poisson.js';
import { Rng } from '../../src/util/rng.js';
import { Harness } from '../homa/harness.js';

/** Base harness config (the harness adds its own small pools). */
const BASE = { hosts: 2, cores: 2, seed: 11 };

/** A harness running cp_node with host 0 as the only client and host 1 as the only server. */
async function cpHarness(cfgOver: Record<string, unknown>, specOver: Partial<CpNodeSpec>) {
  const cfg = resolveConfig({ ...BASE, ...cfgOver });
  const spec: CpNodeSpec = { ...cpNodeSpec(cfg), clientHosts: [0], serverHosts: [1], ...specOver };
  const apps: CpNodeAppsSpec = { clients: [], servers: [], cpNode: spec };
  const h = await Harness.create({ cfg: { ...BASE, ...cfgOver }, apps });
  const senders = h.cores.flatMap((c) => c.cpNode.senders);
  return { h, spec, apps, sender: senders[0]! };
}

function measureStart(h: Harness): void {
  const now = h.clock.now();
  for (const c of h.cores) c.onMeasureStart?.(now);
}

/** Stops every core (their onStop data) and merges the cp_node results. */
function finish(h: Harness, apps: CpNodeAppsSpec) {
  const now = h.clock.now();
  const perCore = h.cores.map((c) => c.onStop?.(now));
  return collectCpNodeOf(h.cfg, h.sab, h.desc, apps, perCore);
}

/** Live client RPCs (even ids, not yet ended) on host 0. */
function liveClientRpcs(h: Harness): number {
  const hm = h.homa(0);
  let n = 0;
  for (let g = hm.rpcBase; g < hm.rpcBase + hm.rpcsPerHost; g++) {
    const st = hm.rState[g];
    if (st !== RpcState.FREE && st !== RpcState.DEAD && (hm.rId[g]! & 1) === 0) n++;
  }
  return n;
}

function hostMetric(h: Harness, host: number, name: string): number {
  const r = h.stop();
  return r.hosts[host]!.metrics[name]!;
}

describe('planCpNode / cpNodeSpec', () => {
  it('places senders, then receivers, then servers, round robin over the cores (the same plan every time)', () => {
    const cfg = resolveConfig({ hosts: 2, cores: 2, ports: 2, portReceivers: 1, serverPorts: 1, portThreads: 2 });
    const plan = planCpNode(cfg, cpNodeSpec(cfg));
    expect(plan.filter((a) => a.host === 0).map((a) => [a.kind, a.t, a.core, a.port])).toEqual([
      ['sender', 0, 0, CP_CLIENT_FIRST_PORT], ['sender', 1, 1, CP_CLIENT_FIRST_PORT + 1],
      ['receiver', 2, 0, CP_CLIENT_FIRST_PORT], ['receiver', 3, 1, CP_CLIENT_FIRST_PORT + 1],
      ['server', 4, 0, CP_SERVER_FIRST_PORT], ['server', 5, 1, CP_SERVER_FIRST_PORT],
    ]);
    expect(planCpNode(cfg, cpNodeSpec(cfg))).toEqual(plan);
    // After 3 threads and a port of other apps, numbering continues.
    expect(planCpNode(cfg, cpNodeSpec(cfg), [3, 0], [new Set([1000]), new Set()])[0]).toEqual(
      { kind: 'sender', host: 0, core: 1, port: CP_CLIENT_FIRST_PORT, portIndex: 0, t: 3 });
  });

  it("roles 'split': the first half of the hosts are clients, the rest servers", () => {
    const spec = cpNodeSpec(resolveConfig({ hosts: 5, roles: 'split' }));
    expect([spec.clientHosts, spec.serverHosts]).toEqual([[0, 1], [2, 3, 4]]);
    expect(portCap(200, 3)).toBe(66);
    expect(portCap(2, 5)).toBe(1);
  });

  it('refuses what does not fit with coded errors naming the options', () => {
    const threads = resolveConfig({ ports: 8, portReceivers: 7 });
    expect(() => planCpNode(threads, cpNodeSpec(threads))).toThrow(expect.objectContaining({
      code: 'ESIZING', message: expect.stringContaining('host 0 needs 66 app threads; accepted: at most 64 per host; got --ports 8, --port-receivers 7') }));
    const sockets = resolveConfig({ ports: 16, portReceivers: 0, serverPorts: 1 });
    expect(() => planCpNode(sockets, cpNodeSpec(sockets))).toThrow(expect.objectContaining({
      code: 'ESIZING', message: expect.stringContaining('--ports / --server-ports: host 0 would bind 17 ports') }));
    const one = resolveConfig({ hosts: 1 });
    expect(() => planCpNode(one, cpNodeSpec(one))).toThrow(expect.objectContaining({
      code: 'EINVALIDOPT', message: expect.stringContaining('--hosts') }));
    const wl = resolveConfig({ workload: 'w9' });
    expect(() => planCpNode(wl, cpNodeSpec(wl))).toThrow(expect.objectContaining({ code: 'EINVALIDOPT', message: expect.stringContaining('--workload') }));
  });
});

describe('cp_node apps (harness, manual clock)', () => {
  it('closed loop (gbps 0) with cap 3 keeps exactly 3 RPCs outstanding; every response verified', async () => {
    const { h, apps, sender } = await cpHarness({ workload: 'w2', gbps: 0, clientMax: 3, ports: 1, portReceivers: 1 }, {});
    measureStart(h);
    const after: number[] = [];
    const step = sender.step.bind(sender);
    sender.step = (now: number, slice: number): number => { const w = step(now, slice); after.push(sender.outstanding); return w; };
    let maxLive = 0;
    let asleep = 0;
    expect(h.runUntil(() => {
      maxLive = Math.max(maxLive, liveClientRpcs(h));
      if (sender.state === AppState.BLOCKED) asleep++;
      return sender.sent >= 300;
    }, 400_000)).toBe(true);
    // At the cap the sender sleeps; completions wake it.
    expect(asleep).toBeGreaterThan(0);
    expect(after.slice(0, 3)).toEqual([1, 2, 3]);
    expect(after.slice(3).filter((n) => n !== 3)).toEqual([]);
    expect(maxLive).toBe(3);
    const r = finish(h, apps);
    const port = r.clients[0]!;
    expect(port.sent).toBe(sender.sent);
    expect(port.completed).toBe(port.sent - 3);
    expect([port.mismatches, port.errors, port.outstanding]).toEqual([0, {}, 3]);
    expect(r.rtts.lengths.length).toBe(port.completed);
    expect(r.rtts.lengths.reduce((a, b) => a + b, 0)).toBe(port.bytesIn);
    expect(r.rtts.rttNs.every((x) => x > 0)).toBe(true);
    expect(r.workload).toEqual({ name: 'w2', meanBytes: parseWorkload('w2').meanBytes });
    expect(r.servers.reduce((a, s) => a + s.requests, 0)).toBeGreaterThanOrEqual(port.completed);
  }, 60_000);

  it('open loop sends what the Poisson schedule says at the configured gbps; lag stays small', async () => {
    const gbps = 0.16;
    const { h, apps, sender, spec } = await cpHarness({ workload: '100', gbps, clientMax: 200, ports: 1, portReceivers: 1 }, {});
    measureStart(h);
    let last = 0;
    const step = sender.step.bind(sender);
    sender.step = (now: number, slice: number): number => { last = now; return step(now, slice); };
    const t0 = h.clock.now();
    const durNs = 10e6;
    h.runUntil(() => h.clock.now() >= t0 + durNs, 1_000_000);
    // Replay the port's stream: sends scheduled at or before the sender's last step.
    const rate = portRate(gbps, 100, 1);
    const replay = new PoissonSchedule(rate, Rng.derive(spec.seed, 0, CP_CLIENT_FIRST_PORT), t0);
    let expected = 0;
    while (replay.nextStartNs <= last) { replay.started(replay.nextStartNs); expected++; }
    const r = finish(h, apps);
    const port = r.clients[0]!;
    expect(Math.abs(port.sent - expected)).toBeLessThanOrEqual(2);
    const mean = rate * durNs / 1e9;
    expect(Math.abs(port.sent - mean) / mean).toBeLessThan(0.05);
    expect(port.maxLagNs).toBeLessThan(20_000);
    expect(port.mismatches).toBe(0);
    expect(port.completed).toBeGreaterThan(port.sent - 10);
  }, 60_000);

  it('a slowed server makes the open-loop client hit its cap and lag behind its schedule', async () => {
    const gbps = 0.16;
    const { h, apps } = await cpHarness({ workload: '100', gbps, clientMax: 8, ports: 1, portReceivers: 1, portThreads: 1, serviceUsecs: 20 }, {});
    measureStart(h);
    const t0 = h.clock.now();
    const durNs = 10e6;
    h.runUntil(() => h.clock.now() >= t0 + durNs, 1_000_000);
    const r = finish(h, apps);
    const port = r.clients[0]!;
    const mean = portRate(gbps, 100, 1) * durNs / 1e9;
    // One 20 us server thread serves at most 500 requests in 10 ms; 2,000 were due.
    expect(port.completed).toBeLessThanOrEqual(501);
    expect(port.sent).toBeLessThan(mean / 2);
    expect(port.outstanding).toBe(8);
    expect(port.maxLagNs).toBeGreaterThan(5e6);
    expect(port.lagNs).toBeGreaterThan(1e6);
    expect(port.mismatches).toBe(0);
  }, 60_000);

  it('one-way responses are min(len, 100) bytes, recorded with the response length; port-receivers 0 keeps one in flight', async () => {
    const { h, apps, sender, spec } = await cpHarness({ workload: 'w3', gbps: 0, clientMax: 10, ports: 1, portReceivers: 0, oneWay: true }, {});
    measureStart(h);
    let maxOut = 0;
    let maxLive = 0;
    expect(h.runUntil(() => {
      maxOut = Math.max(maxOut, sender.outstanding);
      maxLive = Math.max(maxLive, liveClientRpcs(h));
      return (sender.recorder?.completed ?? 0) >= 150;
    }, 1_000_000)).toBe(true);
    expect([maxOut, maxLive]).toEqual([1, 1]);
    const r = finish(h, apps);
    const port = r.clients[0]!;
    // The request lengths, replayed from the port's length stream; responses come back in order.
    const w = parseWorkload('w3');
    const rng = Rng.derive(spec.seed, 0, CP_CLIENT_FIRST_PORT, 1);
    const req = Array.from({ length: port.completed }, () => w.sample(rng));
    expect(r.rtts.lengths).toEqual(req.map((l) => Math.min(l, 100)));
    expect(req.some((l) => l > 100) && req.some((l) => l < 100)).toBe(true);
    expect(port.bytesOut).toBe(req.reduce((a, b) => a + b, 0));
    expect(port.bytesIn).toBe(r.rtts.lengths.reduce((a, b) => a + b, 0));
    expect(port.mismatches).toBe(0);
    // The server saw every completed request (and at most the one in flight).
    expect(r.servers.map((x) => [x.host, x.port])).toEqual([[1, CP_SERVER_FIRST_PORT]]);
    expect(r.servers[0]!.requests - port.completed).toBeGreaterThanOrEqual(0);
    expect(r.servers[0]!.requests - port.completed).toBeLessThanOrEqual(1);
  }, 60_000);

  it('records RTTs in emulated ns: wall time from send to completion divided by the dilation', async () => {
    const { h, apps, sender } = await cpHarness({ workload: 'w2', gbps: 0, clientMax: 1, ports: 1, portReceivers: 0, clock: 'wall', dilation: 4 }, {});
    measureStart(h);
    const wall: number[] = [];
    let sentAt = 0;
    const step = sender.step.bind(sender);
    sender.step = (now: number, slice: number): number => {
      const sent = sender.sent;
      const done = sender.recorder!.completed;
      const w = step(now, slice);
      if (sender.sent > sent) sentAt = now;
      if (sender.recorder!.completed > done) wall.push(now - sentAt);
      return w;
    };
    expect(h.runUntil(() => sender.recorder!.completed >= 20, 400_000)).toBe(true);
    const r = finish(h, apps);
    expect(r.rtts.rttNs).toEqual(wall.map((x) => x / 4));
    expect(Math.min(...wall)).toBeGreaterThan(0);
  }, 60_000);

  it('counts a response whose bytes differ from the request as a mismatch, not a sample', async () => {
    const { h, apps, sender } = await cpHarness({ workload: '3000', gbps: 0, clientMax: 1, ports: 1, portReceivers: 1, portThreads: 1 }, {});
    measureStart(h);
    const server = h.cores.flatMap((c) => c.cpNode.servers)[0]!;
    const step = sender.step.bind(sender);
    sender.step = (now: number, slice: number): number => (sender.sent >= 12 ? 0 : step(now, slice));
    const fill = server.fill.bind(server);
    let replies = 0;
    server.fill = (dst: Uint8Array, dstOff: number, msgOff: number, n: number, g: number): void => {
      fill(dst, dstOff, msgOff, n, g);
      if (msgOff === 0) replies++;
      if (replies === 5 && msgOff <= 2000 && msgOff + n > 2000) dst[dstOff + 2000 - msgOff] ^= 0x5a;
    };
    expect(h.runUntil(() => sender.sent >= 12 && sender.outstanding === 0, 400_000)).toBe(true);
    const port = finish(h, apps).clients[0]!;
    expect([port.sent, port.completed, port.mismatches]).toEqual([12, 11, 1]);
  }, 60_000);

  it('samples and counters cover only the measured window', async () => {
    const { h, apps, sender } = await cpHarness({ workload: 'w1', gbps: 0, clientMax: 4, ports: 1, portReceivers: 1 }, {});
    expect(h.runUntil(() => sender.sent >= 100, 400_000)).toBe(true);
    const before = sender.outstanding;
    measureStart(h);
    expect(sender.sent).toBe(0);
    expect(h.runUntil(() => sender.sent >= 200, 400_000)).toBe(true);
    const r = finish(h, apps);
    const port = r.clients[0]!;
    const done = hostMetric(h, 0, 'client_responses_done');
    expect(port.sent).toBe(200);
    expect(r.rtts.lengths.length).toBe(port.completed);
    expect(port.completed).toBe(done);
    // What was outstanding at the start completes inside the window.
    expect(port.completed).toBe(200 + before - port.outstanding);
    expect(before).toBeGreaterThan(0);
  }, 60_000);
});


describe("runWorld('homa') with cp_node on real worker threads", () => {
  it('W2, 2 hosts x 2 cores: RPCs complete, verified, no leaks; one sample per completed RPC', async () => {
    const cfg = resolveConfig({ hosts: 2, cores: 2, workload: 'w2', gbps: 0.2, clientMax: 20, warmupMs: 0.5, durationMs: 3, maxRpcsPerHost: 512,
      bpagesPerHost: 256, ringSlots: 1024, watchdogMs: 20_000, timeoutTicks: 2000 }); // a starved test host must not abort RPCs
    const run = await runWorld('homa', cfg);
    const r = run.worldResult as HomaResult;
    const cp = r.cpNode;
    const completed = cp.clients.reduce((a, c) => a + c.completed, 0);
    expect(completed).toBeGreaterThan(0);
    expect(cp.clients.map((c) => [c.host, c.port, c.mismatches, c.errors])).toEqual([
      [0, CP_CLIENT_FIRST_PORT, 0, {}], [0, CP_CLIENT_FIRST_PORT + 1, 0, {}],
      [1, CP_CLIENT_FIRST_PORT, 0, {}], [1, CP_CLIENT_FIRST_PORT + 1, 0, {}],
    ]);
    expect(cp.rtts.lengths.length).toBe(Math.min(completed, 4 * 500_000));
    expect(cp.rtts.rttNs.length).toBe(cp.rtts.lengths.length);
    expect(r.leaks).toEqual({ packetSlots: 0, packetDuplicates: 0, rpcSlots: 0, pages: 0 });
    expect(r.net.totals.balanced).toBe(true);
    expect(cp.handoff.groToSoftirq.length).toBe(4);
    expect(cp.rttHist).not.toBe('');
    expect(cp.servers.reduce((a, s) => a + s.requests, 0)).toBeGreaterThan(0);
  }, 120_000);
});

describe('cpNodeSpec roles', () => {
  it('incast: every host but the last is a client of the last; split: first half clients', async () => {
    const { resolveConfig } = await import('../../src/config/config.js');
    const { cpNodeSpec } = await import('../../src/workload/cp-node.js');
    const inc = cpNodeSpec(resolveConfig({ hosts: 4, roles: 'incast' }));
    expect([inc.clientHosts, inc.serverHosts]).toEqual([[0, 1, 2], [3]]);
    const split = cpNodeSpec(resolveConfig({ hosts: 4, roles: 'split' }));
    expect([split.clientHosts, split.serverHosts]).toEqual([[0, 1], [2, 3]]);
    const both = cpNodeSpec(resolveConfig({ hosts: 3 }));
    expect([both.clientHosts, both.serverHosts]).toEqual([[0, 1, 2], [0, 1, 2]]);
  });
});
