/**
 * Conformance with HomaModule's test/unit_homa_pacer.c: the NIC queue estimate
 * (homa_pacer_check_nic_q), the pacer's transmit pass (homa_pacer_xmit: SRPT head, FIFO picks,
 * stop when the NIC queue is full), the throttled list (homa_pacer_manage_rpc /
 * unmanage_rpc) and the link time per byte (update_sysctl_deps), with the fixture's knobs:
 * 1 ns of link per byte (the kernel's cycles_per_mbyte 1000000: link_mbps 8080 with its 1%
 * margin), defer_min_bytes 0, pacer FIFO off. Wire bytes here include our headers and framing,
 * so the backlog limits are the kernel's; the packet sequences match.
 */
import { describe, expect, it } from 'vitest';
import { checkNicQ } from '../../src/homa/outgoing.js';
import { pacerXmit, throttleAdd, throttleRemove, throttledCount, throttledList } from '../../src/homa/pacer.js';
import { M } from '../../src/homa/metrics.js';
import type { Homa } from '../../src/homa/homa.js';
import { MTU_1400, kernelHost, knobs, metric, outRpc, withRpcLock, type Kernel } from './kernel.js';

async function fixture(cfg: Record<string, unknown> = {}): Promise<Kernel> {
  const k = await kernelHost({ mtu: MTU_1400, linkMbps: 8080, deferMinBytes: 0, pacerFifoFraction: 0, unschedBytes: 60000, ...cfg });
  expect(k.hm.nsPerMbyte).toBe(1_000_000);
  return k;
}

const setIdle = (hm: Homa, ns: number): void => { Atomics.store(hm.pLinkIdle, hm.host * 16, ns); };
const idle = (hm: Homa): number => Atomics.load(hm.pLinkIdle, hm.host * 16);
const manage = (hm: Homa, g: number): void => withRpcLock(hm, g, () => throttleAdd(hm, g));
/** unit_log_throttled: each throttled RPC with its next_xmit_offset, in pick order. */
const throttled = (hm: Homa): number[][] => throttledList(hm).map((g) => [g, hm.rOutNext[g]!]);

describe('unit_homa_pacer.c', () => {
  for (const [name, now, force, ok, after] of [
    ['homa_pacer_check_nic_q__success', 8000, false, true, 9500],
    ['homa_pacer_check_nic_q__queue_full', 7999, false, false, 9000],
    ['homa_pacer_check_nic_q__queue_full_but_force', 7999, true, true, 9500],
    ['homa_pacer_check_nic_q__queue_empty', 10000, true, true, 10500],
  ] as const) {
    it(name, async () => {
      const { hm } = await fixture();
      knobs(hm, { maxNicBacklogNs: 1000 });
      setIdle(hm, 9000);
      expect(checkNicQ(hm, 500, now, force)).toBe(ok);
      expect(idle(hm)).toBe(after);
    });
  }

  it('homa_pacer_xmit__basics', async () => {
    const k = await fixture();
    const { hm } = k;
    const [c1, c2, c3] = [5000, 10000, 150000].map((len) => outRpc(hm, 1, len));
    for (const g of [c1!, c2!, c3!]) manage(hm, g);
    knobs(hm, { maxNicBacklogNs: 2000 });
    pacerXmit(hm, 0);
    expect(k.xmit()).toBe('DATA 1400@0; DATA 1400@1400');
    expect(throttled(hm)).toEqual([[c1, 2800], [c2, 0], [c3, 0]]);
  });

  it('homa_pacer_xmit__pacer_already_active', async () => {
    const k = await fixture();
    const { h, hm } = k;
    const g = outRpc(hm, 1, 10000);
    manage(hm, g);
    knobs(hm, { maxNicBacklogNs: 2000 });
    const other = h.homa(0, 1); // another core holds the pacer lock: the trylock fails
    other.locks.lock(other.pacerLock);
    pacerXmit(hm, 0);
    other.locks.unlock(other.pacerLock);
    expect(k.xmit()).toBe('');
    expect(throttled(hm)).toEqual([[g, 0]]);
  });

  it('homa_pacer_xmit__nic_queue_fills', async () => {
    const k = await fixture();
    const { hm } = k;
    const g = outRpc(hm, 1, 10000);
    manage(hm, g);
    knobs(hm, { maxNicBacklogNs: 2001 });
    setIdle(hm, 12000);
    pacerXmit(hm, 10000);
    expect(k.xmit()).toBe('DATA 1400@0'); // just room for one packet
    expect(throttled(hm)).toEqual([[g, 1400]]);
  });

  it('homa_pacer_xmit__queue_empty', async () => {
    const k = await fixture();
    knobs(k.hm, { maxNicBacklogNs: 2000 });
    expect(pacerXmit(k.hm, 0)).toBe(0);
    expect(throttled(k.hm)).toEqual([]);
  });

  it('homa_pacer_xmit__xmit_fifo', async () => {
    const k = await fixture();
    const { hm } = k;
    const c2 = outRpc(hm, 1, 20000, 10000);
    const c4 = outRpc(hm, 1, 10000, 11000);
    const c6 = outRpc(hm, 1, 30000, 12000);
    for (const g of [c2, c4, c6]) manage(hm, g);
    // First pass: fifo_count does not reach zero.
    knobs(hm, { maxNicBacklogNs: 1300, pacerFifoFraction: 150 });
    hm.pFifoCount[hm.host] = 200;
    setIdle(hm, 10000);
    pacerXmit(hm, 13000);
    expect(k.xmit()).toBe('DATA 1400@0');
    expect(throttled(hm)).toEqual([[c4, 1400], [c2, 0], [c6, 0]]);
    expect(hm.pFifoCount[hm.host]).toBe(50);
    // Second pass: it does, and the oldest message goes.
    setIdle(hm, 10000);
    pacerXmit(hm, 13000);
    expect(k.xmit()).toBe('DATA 1400@0');
    expect(hm.rOutNext[c2]).toBe(1400);
    expect(throttled(hm)).toEqual([[c4, 1400], [c2, 1400], [c6, 0]]);
    expect(hm.pFifoCount[hm.host]).toBe(900);
  });

  it('homa_pacer_xmit__remove_from_queue', async () => {
    const k = await fixture();
    const { hm } = k;
    const c2 = outRpc(hm, 1, 1000);
    const c4 = outRpc(hm, 1, 2000);
    manage(hm, c2);
    manage(hm, c4);
    knobs(hm, { maxNicBacklogNs: 2000 });
    pacerXmit(hm, 0); // completes c2; c4 stays throttled
    expect(k.xmit()).toBe('DATA 1000@0; DATA 1400@0');
    expect(throttled(hm)).toEqual([[c4, 1400]]);
    knobs(hm, { maxNicBacklogNs: 10000 });
    pacerXmit(hm, 0);
    expect(k.xmit()).toBe('DATA 600@1400');
    expect(throttled(hm)).toEqual([]);
  });

  it('homa_pacer_manage_rpc__basics', async () => {
    const { hm } = await fixture();
    const [c2, c4, c6, c8, c10] = [10000, 5000, 15000, 12000, 10000].map((len) => outRpc(hm, 1, len));
    manage(hm, c2!);
    expect(throttled(hm)).toEqual([[c2, 0]]);
    for (const g of [c4!, c6!, c8!, c10!]) manage(hm, g);
    const order = [[c4, 0], [c2, 0], [c10, 0], [c8, 0], [c6, 0]];
    expect(throttled(hm)).toEqual(order);
    manage(hm, c2!); // already present: not reinserted
    expect(throttled(hm)).toEqual(order);
  });

  it('homa_pacer_manage_rpc__inc_metrics', async () => {
    const { h, hm } = await fixture();
    const [c1, c2, c3] = [5000, 10000, 15000].map((len) => outRpc(hm, 1, len));
    const counts = (): number[] => [metric(h, M.throttle_list_adds), metric(h, M.throttle_list_checks)];
    manage(hm, c1!);
    expect(counts()).toEqual([1, 0]);
    manage(hm, c2!);
    expect(counts()).toEqual([2, 1]);
    manage(hm, c3!);
    expect(counts()).toEqual([3, 3]);
  });

  it('homa_pacer_unmanage_rpc__basics', async () => {
    const { hm } = await fixture();
    const g = outRpc(hm, 1, 5000);
    manage(hm, g);
    expect(throttledCount(hm)).toBe(1);
    throttleRemove(hm, g);
    expect(throttledCount(hm)).toBe(0);
    throttleRemove(hm, g); // nothing to do
    expect(throttledCount(hm)).toBe(0);
  });

  it('homa_pacer_update_sysctl_deps', async () => {
    for (const [mbps, nsPerMbyte] of [[10000, 808000], [1000, 8080000], [40000, 202000]] as const) {
      const { hm } = await kernelHost({ linkMbps: mbps });
      expect(hm.nsPerMbyte).toBe(nsPerMbyte);
    }
  });
});
