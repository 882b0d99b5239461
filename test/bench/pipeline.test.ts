import { describe, expect, it } from 'vitest';
import { PIPELINE_BURST, RxHost, lastPipeline, measureStages, runPipeline, spscNsPerItem } from '../../bench/pipeline.js';
import { formatResults } from '../../bench/harness.js';
import { collectHoma } from '../../src/cluster/homa-world.js';
import { countEvents, readTimetraceData } from '../../src/metrics/trace-files.js';

describe('RxHost (the pipeline bench rig)', () => {
  it('10 bursts: the app gets every request exactly once, nothing is transmitted, every slot is free again', async () => {
    const host = await RxHost.create();
    let got = 0;
    for (let i = 0; i < 10; i++) got += host.burst(1e9 + i * 1e5);
    expect(got).toBe(10 * PIPELINE_BURST);
    expect(host.received).toBe(10 * PIPELINE_BURST);
    expect(host.countTx()).toBe(0);
    const s = measureStages(host, 5);
    expect(s.packets).toBe(5 * PIPELINE_BURST);
    expect(host.received).toBe(15 * PIPELINE_BURST);
    for (const c of host.cores) c.onStop?.(2e9);
    const r = collectHoma(host.cfg, host.sab, host.desc, 0);
    expect(r.leaks).toEqual({ packetSlots: 0, packetDuplicates: 0, rpcSlots: 0, pages: 0 });
    expect(r.packets.inUse).toBe(0);
    expect(r.hosts.map((h) => [h.rpcsInUse, h.pagesInUse])).toEqual([[0, 0], [0, 0]]);
    // Every request was a new server RPC on host 1, ended by the app.
    expect(r.hosts[1]!.metrics['server_requests_done']).toBe(15 * PIPELINE_BURST);
    expect(r.hosts[1]!.metrics['rpcs_ended']).toBe(15 * PIPELINE_BURST);
    expect(r.hosts[1]!.metrics['packets_rcvd_DATA']).toBe(15 * PIPELINE_BURST);
  });
});

describe('RxHost with --tt recording', () => {
  it('records the receive path of every request: GRO, SoftIRQ, hand-off or queueing, recvmsg return', async () => {
    const host = await RxHost.create(1 << 12);
    let got = 0;
    for (let i = 0; i < 2; i++) got += host.burst(1e9 + i * 1e5);
    expect(got).toBe(2 * PIPELINE_BURST);
    for (const c of host.cores) c.homa.tt!.publish();
    const d = readTimetraceData(host.sab, host.desc, host.cfg)!;
    expect(countEvents(d, 'gro_data')).toBe(got);
    expect(countEvents(d, 'softirq_data')).toBe(got);
    expect(countEvents(d, 'rpc_handoff') + countEvents(d, 'rpc_queued')).toBe(got);
    expect(countEvents(d, 'recvmsg_done')).toBe(got);
  });
});

describe('spscNsPerItem', () => {
  it('is a finite positive cost', () => {
    const ns = spscNsPerItem(20_000);
    expect(Number.isFinite(ns)).toBe(true);
    expect(ns).toBeGreaterThan(0);
  });
});

describe('runPipeline', () => {
  it('at a tiny scale: four stage costs, their receive total, and the steady-state heap and GC figures', async () => {
    const results = await runPipeline({ scale: 0.005 });
    expect(results.length).toBe(8);
    const ns = results.filter((r) => r.unit === 'ns/op');
    expect(ns.length).toBe(6);
    expect(lastPipeline!.tracedNs).toBe(results.find((r) => r.name.includes('with --tt'))!.value);
    for (const r of ns) {
      for (const v of [r.value, r.baselineValue, r.ratio]) {
        expect(Number.isFinite(v)).toBe(true);
        expect(v).toBeGreaterThan(0);
      }
      expect(r.ratio).toBeCloseTo(r.value / r.baselineValue, 9);
    }
    const st = lastPipeline!.stages;
    expect(st.receiveNs).toBeCloseTo(st.napiGroNs + st.softirqNs + st.handoffNs, 6);
    expect(st.packets % PIPELINE_BURST).toBe(0);
    const steady = lastPipeline!.steady;
    expect(steady.packets).toBeGreaterThan(0);
    expect(steady.packets % PIPELINE_BURST).toBe(0);
    expect(Number.isInteger(steady.minorGcs) && steady.minorGcs >= 0).toBe(true);
    expect(Number.isFinite(steady.heapGrowthBytes)).toBe(true);
    expect(steady.heapStartBytes).toBeGreaterThan(0);
    const table = formatResults(results);
    for (const r of results) expect(table).toContain(r.name);
  }, 60_000);
});
