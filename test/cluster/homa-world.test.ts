import { describe, expect, it } from 'vitest';
import { Harness } from '../homa/harness.js';
import type { HomaAppsSpec } from '../../src/workload/echo.js';

/** 200 lengths, log-spaced from 1 B to 1,000,000 B (both ends included). */
function lengths200(): number[] {
  const out: number[] = [];
  for (let i = 0; i < 200; i++) out.push(Math.round(10 ** ((6 * i) / 199)));
  return out;
}

function spec200(): HomaAppsSpec {
  const all = lengths200();
  const clients = [];
  for (let k = 0; k < 4; k++) {
    const host = k < 2 ? 0 : 1;
    clients.push({ host, core: k % 2, port: 40000 + k, dstHost: 1 - host, dstPort: 1000, lengths: all.filter((_, i) => i % 4 === k) });
  }
  return { clients, servers: [{ host: 0, port: 1000, threads: 2 }, { host: 1, port: 1000, threads: 2 }] };
}

describe('homa world (2 hosts x 2 cores, harness)', () => {
  for (const lossRate of [0, 0.02]) {
    it(`200 echo RPCs from 1 B to 1,000,000 B complete byte-exact with loss ${lossRate}`, async () => {
      const h = await Harness.create({ apps: spec200(), cfg: { lossRate, tickUsecs: 100, seed: 7 } });
      const t0 = Date.now();
      expect(h.runUntil(() => h.appsDone(), 2_000_000)).toBe(true);
      const results = h.clientResults();
      expect(results.length).toBe(200);
      expect(results.filter((r) => !r.ok)).toEqual([]);
      expect(results.map((r) => r.length).sort((a, b) => a - b)).toEqual(lengths200().sort((a, b) => a - b));
      expect(h.runUntil(() => h.rpcsInUse() === 0, 500_000)).toBe(true);
      const r = h.stop();
      console.log(lossRate, h.rounds, h.clock.now(), Date.now() - t0, 'ms', JSON.stringify(r.net.totals));
      expect(r.leaks).toEqual({ packetSlots: 0, packetDuplicates: 0, rpcSlots: 0, pages: 0 });
      expect(r.packets.inUse).toBe(0);
      expect(r.hosts.map((x) => [x.rpcsInUse, x.pagesInUse])).toEqual([[0, 0], [0, 0]]);
      expect(r.net.totals.balanced).toBe(true);
      expect(r.net.totals.xmitPkts).toBe(r.net.totals.rcvdPkts + r.net.totals.droppedPkts);
      const sent = r.hosts.reduce((s, x) => s + Object.entries(x.metrics).filter(([k]) => k.startsWith('packets_sent_')).reduce((a, [, v]) => a + v, 0), 0);
      const rcvd = r.hosts.reduce((s, x) => s + Object.entries(x.metrics).filter(([k]) => k.startsWith('packets_rcvd_')).reduce((a, [, v]) => a + v, 0), 0);
      expect(sent).toBe(r.net.totals.xmitPkts);
      expect(rcvd).toBe(r.net.totals.rcvdPkts);
      if (lossRate > 0) {
        expect(r.net.totals.drops.loss).toBeGreaterThan(0);
        expect(r.hosts.reduce((s, x) => s + x.metrics['resent_packets']!, 0)).toBeGreaterThan(0);
      } else {
        expect(r.net.totals.droppedPkts).toBe(0);
      }
    }, 120_000);
  }

  it('an RPC to a port nobody listens on completes with ENOTCONN; a 1,000,001-byte message is refused with EMSGSIZE', async () => {
    const h = await Harness.create({
      apps: {
        servers: [{ host: 1, port: 1000 }],
        clients: [
          { host: 0, port: 40000, dstHost: 1, dstPort: 999, lengths: [100, 50000] },
          { host: 0, core: 1, port: 40001, dstHost: 1, dstPort: 1000, lengths: [1_000_001, 1_000_000] },
        ],
      },
    });
    expect(h.runUntil(() => h.appsDone(), 200_000)).toBe(true);
    const [c0, c1] = h.cores[0]!.clients.concat(h.cores[1]!.clients);
    expect(c0!.results.map((r) => r.error)).toEqual(['ENOTCONN', 'ENOTCONN']);
    expect(c0!.results[0]!.message).toBe('no socket listens on the destination port');
    expect(c1!.results[0]).toEqual({ length: 1_000_001, ok: false, error: 'EMSGSIZE',
      message: 'message length 1000001 exceeds HOMA_MAX_MESSAGE_LENGTH (1000000 bytes)' });
    expect(c1!.results[1]!.ok).toBe(true);
    expect(h.runUntil(() => h.rpcsInUse() === 0, 100_000)).toBe(true);
    const r = h.stop();
    expect(r.leaks).toEqual({ packetSlots: 0, packetDuplicates: 0, rpcSlots: 0, pages: 0 });
    expect(r.hosts[0]!.metrics['aborts_enotconn']).toBe(2);
    expect(r.hosts[0]!.app['err_enotconn']).toBe(2);
    expect(r.hosts[0]!.app['err_emsgsize']).toBe(1);
    expect(r.hosts[1]!.metrics['packets_sent_RPC_UNKNOWN']).toBe(2);
  });

  const variants: Array<Record<string, unknown>> = [
    { groPolicy: 'gen3', coreLayout: 'gen3', cores: 4 },
    { pacer: 'pacer-only', throttleInsert: 'back' },
    { waitMode: 'block', sockLockOnArrival: 'once', threadChoice: 'first', waiterQueue: 'fifo' },
    { waitMode: 'poll', steering: 'rps-ports', rss: 'ip-ports', hosts: 3, maxGroSkbs: 4 },
    { unschedBytes: 5000, maxIncoming: 30000, maxOvercommit: 2, lossRate: 0.05, tickUsecs: 50 },
    { clock: 'wall', dilation: 3, mtu: 9000, window: 30000, pacerCore: 0, timerCore: 0 },
    { maxGsoSize: 10000, unschedBytes: 60000, maxIncoming: 480000, lossRate: 0.02 },
  ];
  for (const v of variants) {
    it(`40 echo RPCs complete byte-exact with ${JSON.stringify(v)}`, async () => {
      const hosts = (v['hosts'] as number | undefined) ?? 2;
      const all = lengths200().filter((_, i) => i % 5 === 0);
      const clients = [];
      for (let k = 0; k < 4; k++) {
        const host = k % hosts;
        clients.push({ host, core: k % 2, port: 40000 + k, dstHost: (host + 1) % hosts, dstPort: 1000, lengths: all.filter((_, i) => i % 4 === k) });
      }
      const servers = [];
      for (let host = 0; host < hosts; host++) servers.push({ host, port: 1000, threads: 2 });
      const h = await Harness.create({ apps: { clients, servers }, cfg: { tickUsecs: 100, ...v } });
      expect(h.runUntil(() => h.appsDone(), 2_000_000)).toBe(true);
      const results = h.clientResults();
      expect(results.length).toBe(40);
      expect(results.filter((r) => !r.ok)).toEqual([]);
      expect(h.runUntil(() => h.rpcsInUse() === 0, 500_000)).toBe(true);
      const r = h.stop();
      expect(r.leaks).toEqual({ packetSlots: 0, packetDuplicates: 0, rpcSlots: 0, pages: 0 });
      expect(r.packets.inUse).toBe(0);
      expect(r.net.totals.balanced).toBe(true);
    }, 120_000);
  }
});

describe('homaWorld.layout', () => {
  it('refuses unknown policies and oversized configs with coded errors naming the option', async () => {
    const { resolveConfig } = await import('../../src/config/config.js');
    const { homaWorld } = await import('../../src/cluster/homa-world.js');
    expect(() => homaWorld.layout(resolveConfig({ pacer: 'fast' }))).toThrow(expect.objectContaining({
      code: 'EINVALIDOPT', message: expect.stringContaining('--pacer') }));
    expect(() => homaWorld.layout(resolveConfig({ bpagesPerHost: 1 << 20, hosts: 64 }))).toThrow(expect.objectContaining({
      code: 'ESIZING', message: expect.stringContaining('--bpages-per-host') }));
    expect(homaWorld.lockClasses(resolveConfig({})).classes).toEqual(['client', 'server', 'socket', 'grant', 'throttle', 'peer_ack', 'pacer']);
  });
});
