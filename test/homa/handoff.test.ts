import { describe, expect, it } from 'vitest';
import { Role } from '../../src/cpu/context.js';
import { ns32 } from '../../src/shm/clock.js';
import { H, HEADER_WORDS } from '../../src/wire/packet.js';
import { Harness } from './harness.js';
import { SERVERS_ONLY, dataPkt } from './util.js';

describe('hand-off latency histograms', () => {
  it('GRO->SoftIRQ is now - T_GRO per packet and SoftIRQ->app is pick-up - hand-off, in emulated ns', async () => {
    const h = await Harness.create({ apps: SERVERS_ONLY, cfg: { clock: 'wall', dilation: 2 } });
    const core = h.cores[2]!; // host 1, core 0: its SoftIRQ and its echo server thread
    const hm = core.homa;
    const now = h.clock.now() + 100_000;
    // A two-packet batch (two one-packet requests) that GRO stamped 4,000 and 6,000 wall ns ago.
    const a = dataPkt(hm, 0, 100, 500, 0);
    const b = dataPkt(hm, 0, 102, 500, 0);
    hm.pktHdr[a * HEADER_WORDS + H.T_GRO] = ns32(now - 4000);
    hm.pktHdr[b * HEADER_WORDS + H.T_GRO] = ns32(now - 6000);
    hm.pktHdr[a * HEADER_WORDS + H.NEXT] = b;
    expect(hm.softirqRings[0]!.push(a)).toBe(true);
    const softirq = core.contexts.find((c) => c.role === Role.SOFTIRQ)!;
    expect(softirq.run(now, h.acct)).toBe(2);
    const g2s = hm.handoff.groToSoftirq;
    expect([g2s.totalCount, g2s.minNonZeroValue, g2s.maxValue]).toEqual([2, 2000, 3000]);
    // Nobody waited: both requests went to the ready list at `now`; the server picks one up 10,000 ns later.
    expect(hm.handoff.softirqToApp.totalCount).toBe(0);
    const server = core.servers[0]!;
    server.step(now + 10_000, 20_000);
    const s2a = hm.handoff.softirqToApp;
    expect([s2a.totalCount, s2a.maxValue]).toEqual([1, 5000]);
    // Other cores recorded nothing.
    expect(h.cores.filter((c) => c !== core).map((c) => c.homa.handoff.groToSoftirq.totalCount + c.homa.handoff.softirqToApp.totalCount))
      .toEqual([0, 0, 0]);
  });

  it('one GRO->SoftIRQ entry per packet through a backlog and one SoftIRQ->app entry per hand-off picked up', async () => {
    const lengths = [100, 3000, 20000, 150000, 700, 60000];
    const h = await Harness.create({
      apps: {
        servers: [{ host: 0, port: 1000, threads: 2 }, { host: 1, port: 1000, threads: 2 }],
        clients: [
          { host: 0, core: 0, port: 40000, dstHost: 1, dstPort: 1000, lengths },
          { host: 1, core: 1, port: 40000, dstHost: 0, dstPort: 1000, lengths },
        ],
      },
      cfg: { maxGroSkbs: 4 },
    });
    expect(h.runUntil(() => h.appsDone(), 400_000)).toBe(true);
    expect(h.runUntil(() => h.rpcsInUse() === 0, 200_000)).toBe(true);
    const r = h.stop();
    expect(h.clientResults().filter((x) => !x.ok)).toEqual([]);
    const sum = (name: string): number => r.hosts.reduce((a, x) => a + x.metrics[name]!, 0);
    const g2s = h.cores.reduce((a, c) => a + c.homa.handoff.groToSoftirq.totalCount, 0);
    const s2a = h.cores.reduce((a, c) => a + c.homa.handoff.softirqToApp.totalCount, 0);
    expect(g2s).toBe(sum('gro_batch_packets') - sum('softirq_ring_full_drops'));
    expect(g2s).toBeGreaterThan(0);
    expect(s2a).toBe(sum('handoffs_thread_waiting') + sum('ready_list_adds'));
    // Every message handed off at least once: 12 requests + 12 responses.
    expect(s2a).toBeGreaterThanOrEqual(24);
  });
});
