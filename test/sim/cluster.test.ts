/**
 * Whole-cluster tests of the Homa world on REAL worker threads (2 hosts x 2 cores + the fabric
 * worker, through `runWorld` as a user run would go): 1,000 echo RPCs of 1 B .. 1,000,000 B over
 * eight client threads on both hosts must all complete byte-exact, without loss and with 2 %
 * random loss (which RESEND must repair), and at the end every packet slot, RPC slot and buffer
 * page must be free again and the network's packet balance must hold, drop by drop. The error
 * paths (no listener: ENOTCONN; a message one byte too long: EMSGSIZE) must end RPCs with the
 * error instead of hanging them. The runs end when every client is done and the cluster is
 * quiet (fixtures/quiesce.mjs: server RPCs live until the client's ACK arrives, so "the end" is
 * after the last ACK). Nothing here depends on timing; the time limits only bound a broken run.
 */
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { resolveConfig } from '../../src/config/config.js';
import { runWorld } from '../../src/cluster/worlds.js';
import { maxSegBytes } from '../../src/wire/packet.js';
import type { collectHoma } from '../../src/cluster/homa-world.js';
import { Harness } from '../homa/harness.js';
import { SIM_RPCS, MAX_LEN, edgeLengths, simLengths, splitLengths } from './fixtures/sim-lengths.mjs';
import { errorApps } from './fixtures/errors-world.mjs';

type HomaResult = ReturnType<typeof collectHoma>;

const simWorld = fileURLToPath(new URL('./fixtures/sim-world.mjs', import.meta.url));
const abruptWorld = fileURLToPath(new URL('./fixtures/sim-world-abrupt.mjs', import.meta.url));
const errorsWorld = fileURLToPath(new URL('./fixtures/errors-world.mjs', import.meta.url));

/** 2 hosts x 2 cores, 4 client threads per host, 2 server threads per host; a broken run is bounded. */
function simConfig(extra: Record<string, unknown>) {
  return resolveConfig({
    hosts: 2, cores: 2, ports: 4, portThreads: 2, seed: 7, warmupMs: 0, durationMs: 80_000, watchdogMs: 20_000,
    maxRpcsPerHost: 256, bpagesPerHost: 512, ringSlots: 1024,
    // A worker descheduled for tens of ms on a loaded 2-core machine is silence to its peers:
    // abort only after 5,000 ticks (1 s at 200 us, 5 s at the default 1 ms), not 100.
    timeoutTicks: 5000, ...extra,
  });
}

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

/** Every slot free again and the network's books balanced, reason by reason. */
function expectCleanEnd(r: HomaResult): void {
  expect(r.leaks).toEqual({ packetSlots: 0, packetDuplicates: 0, rpcSlots: 0, pages: 0 });
  expect(r.packets).toEqual({ total: r.packets.total, inUse: 0, queuedOnRpcs: 0, inSoftirqBacklogs: 0, inRxChannels: 0 });
  expect(r.hosts.map((h) => [h.rpcsInUse, h.pagesInUse])).toEqual(r.hosts.map(() => [0, 0]));
  const t = r.net.totals;
  expect(t.xmitPkts).toBeGreaterThan(0);
  expect(t.droppedPkts).toBe(sum(Object.values(t.drops)));
  expect(t.xmitPkts).toBe(t.rcvdPkts + t.droppedPkts);
  expect(t.balanced).toBe(true);
  // Per host: what the host's cores sent is what the fabric took in; the totals are the hosts' sums.
  expect(sum(r.net.hosts.map((h) => h.xmitPkts))).toBe(t.xmitPkts);
  expect(sum(r.net.hosts.map((h) => h.rcvdPkts))).toBe(t.rcvdPkts);
}

/** The 1,000 echoes all completed byte-exact, each host's share and bytes as dealt. */
function expectAllEchoed(r: HomaResult, seed: number, ports: number): void {
  const cfg = simConfig({ seed });
  const lengths = simLengths(SIM_RPCS, seed, maxSegBytes(cfg.mtu), cfg.unschedBytes);
  const per = splitLengths(lengths, 2 * ports);
  const hostLens = [per.slice(0, ports).flat(), per.slice(ports).flat()];
  expect(r.hosts.map((h) => h.app['mismatches'])).toEqual([0, 0]);
  const errs = (h: HomaResult['hosts'][number]) => ['errors', 'err_enotconn', 'err_etimedout', 'err_emsgsize', 'err_enomem'].map((k) => h.app[k]);
  expect(r.hosts.map(errs)).toEqual([[0, 0, 0, 0, 0], [0, 0, 0, 0, 0]]);
  expect(r.hosts.map((h) => h.app['completed'])).toEqual(hostLens.map((l) => l.length));
  expect(r.hosts.map((h) => h.app['bytes'])).toEqual(hostLens.map((l) => sum(l)));
  // Each host's server answered the other host's clients. Homa RPCs are at-least-once: a
  // retransmitted request packet that arrives after the server ended the RPC (acked) starts it
  // again (homa_dispatch_pkts creates a server RPC for any DATA of an unknown id), so a server
  // may serve a few requests twice — never fewer than were completed, and each extra execution
  // needs at least one retransmitted packet from the client host.
  for (const [srv, cli] of [[0, 1], [1, 0]] as const) {
    const served = r.hosts[srv]!.app['served']!;
    expect(served).toBeGreaterThanOrEqual(hostLens[cli]!.length);
    expect(served - hostLens[cli]!.length).toBeLessThanOrEqual(r.hosts[cli]!.metrics['resent_packets']!);
  }
}

describe('simLengths (the fixture)', () => {
  it('1,000 lengths in [1, 1,000,000] including 1, 1,000,000 and the segment / unscheduled / page edges', () => {
    const seg = maxSegBytes(1500);
    const lengths = simLengths(SIM_RPCS, 7, seg, 40000);
    expect(lengths.length).toBe(1000);
    expect(Math.min(...lengths)).toBe(1);
    expect(Math.max(...lengths)).toBe(MAX_LEN);
    for (const e of [1, seg - 1, seg, seg + 1, 2 * seg, 39_999, 40_000, 40_001, 65_536, 1_000_000]) expect(lengths).toContain(e);
    expect(edgeLengths(seg, 40000).every((e) => lengths.includes(e))).toBe(true);
    for (const n of lengths) expect(Number.isInteger(n) && n >= 1 && n <= MAX_LEN).toBe(true);
    // Log-uniform: about a sixth of the draws in each decade (loose bounds; 986 random draws).
    const decade = (lo: number, hi: number) => lengths.filter((n) => n >= lo && n < hi).length;
    for (const [lo, hi] of [[10, 100], [1000, 10000], [100_000, 1_000_000]] as const) {
      expect(decade(lo, hi)).toBeGreaterThan(100);
      expect(decade(lo, hi)).toBeLessThan(240);
    }
    expect(simLengths(SIM_RPCS, 7, seg, 40000)).toEqual(lengths);
    expect(simLengths(SIM_RPCS, 8, seg, 40000)).not.toEqual(lengths);
  });
});

describe('Homa cluster on real workers (2 hosts x 2 cores + fabric)', () => {
  it('1,000 echo RPCs of 1 B .. 1 MB over 8 client threads complete byte-exact; nothing leaks; packets balance', async () => {
    const cfg = simConfig({ idleMode: 'hybrid', seed: 7 });
    const run = await runWorld(simWorld, cfg, { stopWhenAppsDone: true });
    const r = run.worldResult as HomaResult;
    expect(run.endedEarly).toBe(true);
    expectAllEchoed(r, 7, 4);
    expectCleanEnd(r);
    expect(r.net.totals.drops.loss).toBe(0);
    expect(sum(r.hosts.map((h) => h.app['err_etimedout']!))).toBe(0);
  }, 60_000);

  it('the same with 2% loss: RESEND recovers every message (resent packets > 0); every drop is counted under its reason', async () => {
    const cfg = simConfig({ idleMode: 'park', seed: 11, lossRate: 0.02, tickUsecs: 200 });
    const run = await runWorld(simWorld, cfg, { stopWhenAppsDone: true });
    const r = run.worldResult as HomaResult;
    expect(run.endedEarly).toBe(true);
    expectAllEchoed(r, 11, 4);
    expectCleanEnd(r);
    const t = r.net.totals;
    expect(t.drops.loss).toBeGreaterThan(0);
    // 2 % of the packets, give or take (binomial; tens of thousands of packets).
    expect(t.drops.loss / t.xmitPkts).toBeGreaterThan(0.01);
    expect(t.drops.loss / t.xmitPkts).toBeLessThan(0.03);
    expect(sum(r.hosts.map((h) => h.metrics['resent_packets']!))).toBeGreaterThan(0);
  }, 60_000);

  // Regression: the fabric stops after every core, so its last pass can still deliver packets
  // into RX channels whose NAPI owner is gone. Fabric.stop takes them back out, frees them and
  // counts them as stopped_in_flight. A run that stops with packets in flight (at the last
  // response: sim-world-abrupt.mjs) must end with nothing left in an RX channel and nothing
  // unaccounted for. (The race hit 2 of ~40 runs before the fix; a few runs keep it honest.)
  it('a run stopped with packets in flight leaves nothing in RX channels and leaks nothing', async () => {
    for (let i = 0; i < 3; i++) {
      const run = await runWorld(abruptWorld, simConfig({ idleMode: 'park', seed: 11 + i, lossRate: 0.02, tickUsecs: 200 }), { stopWhenAppsDone: true });
      const r = run.worldResult as HomaResult;
      expect(r.packets.inRxChannels).toBe(0);
      expect(r.leaks).toEqual({ packetSlots: 0, packetDuplicates: 0, rpcSlots: 0, pages: 0 });
      expect(r.net.totals.balanced).toBe(true);
    }
  }, 120_000);

  it('an RPC to a port nobody listens on ends with ENOTCONN and a 1,000,001-byte request with EMSGSIZE', async () => {
    const cfg = simConfig({ idleMode: 'hybrid', durationMs: 30_000, tickUsecs: 200 });
    const run = await runWorld(errorsWorld, cfg, { stopWhenAppsDone: true });
    const r = run.worldResult as HomaResult;
    expect(run.endedEarly).toBe(true);
    const h0 = r.hosts[0]!.app;
    expect([h0['err_enotconn'], h0['err_emsgsize'], h0['errors']]).toEqual([2, 1, 3]);
    expect([h0['completed'], h0['mismatches'], h0['bytes']]).toEqual([1, 0, 100]);
    expect(r.hosts[1]!.app['served']).toBe(1);
    expectCleanEnd(r);
  }, 40_000);
});

describe('error results as the client records them (single-threaded harness, same apps)', () => {
  it('ENOTCONN and EMSGSIZE carry messages naming the cause, the limit and the value', async () => {
    const h = await Harness.create({ apps: errorApps() });
    expect(h.runUntil(() => h.appsDone(), 200_000)).toBe(true);
    const res = h.clientResults();
    const byErr = (code: string) => res.filter((x) => x.error === code);
    expect(byErr('ENOTCONN').map((x) => [x.length, x.message])).toEqual([
      [100, 'no socket listens on the destination port'],
      [5000, 'no socket listens on the destination port'],
    ]);
    expect(byErr('EMSGSIZE').map((x) => [x.length, x.message])).toEqual([
      [1_000_001, 'message length 1000001 exceeds HOMA_MAX_MESSAGE_LENGTH (1000000 bytes)'],
    ]);
    expect(res.filter((x) => x.ok).map((x) => x.length)).toEqual([100]);
  });
});
