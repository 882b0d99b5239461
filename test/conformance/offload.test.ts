/**
 * Conformance with HomaModule's test/unit_homa_offload.c: the GRO-side decisions — FAST_GRANTS
 * bypass of a GRANT when GRO is not busy (gro_busy_usecs), batches pushed at max_gro_skbs — and
 * SHORT_BYPASS of a one-packet message, SoftIRQ steering, IDLE (the least recently active of the
 * next 4 cores), Gen2 (first idle core of the next 4, else rotate softirq_offset) and Gen3
 * (first static candidate whose app is idle, else the first), with the kernel's time stamps,
 * through our NapiContext (host 0, core 0) and the gen2/gen3 steering policies.
 */
import { describe, expect, it } from 'vitest';
import { PktType } from '../../src/wire/packet.js';
import { NapiContext } from '../../src/homa/offload.js';
import { M } from '../../src/homa/metrics.js';
import { subLayout } from '../../src/shm/layout.js';
import { SpscRing, ringContents } from '../../src/shm/ring.js';
import { HOMA_GRO_FAST_GRANTS, HOMA_GRO_SHORT_BYPASS, parseGroPolicy } from '../../src/policy/gro-policy.js';
import { createOffloadState } from '../../src/policy/offload.js';
import { createSteeringPolicy } from '../../src/policy/steering.js';
import { withRpcLock } from './kernel.js';
import { xmitData } from '../../src/homa/outgoing.js';
import { MTU_1400, ctrlPkt, dataSeg, inServiceRpc, kernelHost, knobs, metric, startResponse } from './kernel.js';

describe('unit_homa_offload.c', () => {
  it('homa_gro_receive__fast_grant_optimization', async () => {
    const k = await kernelHost({ mtu: MTU_1400, unschedBytes: 10000, flags: 4 });
    const { h, hm } = k;
    const napi = h.cores[0]!.contexts.find((c) => c instanceof NapiContext) as NapiContext;
    const rx = new SpscRing(h.sab, subLayout(subLayout(h.desc, 'net'), 'rx.0.0'));
    const g = inServiceRpc(hm, 1, 1234, 100);
    startResponse(hm, g, 20000);
    withRpcLock(hm, g, () => xmitData(hm, g, false, 0));
    k.xmit();
    knobs(hm, { groBusyNs: 500 });
    const grant = (): number => ctrlPkt(hm, PktType.GRANT, 1, 1234, true, { offset: 11000, prio: 3 });
    // FAST_GRANTS off: the GRANT is batched for SoftIRQ.
    hm.gro = parseGroPolicy(0);
    hm.off.lastGroNs[0] = 400;
    rx.push(grant());
    napi.run(1000, h.acct);
    expect(metric(h, M.gro_grant_bypasses)).toBe(0);
    expect(k.xmit()).toBe('');
    // FAST_GRANTS on, GRO idle for 600 ns >= gro_busy: processed inline, the data goes out.
    hm.gro = parseGroPolicy(HOMA_GRO_FAST_GRANTS);
    hm.off.lastGroNs[0] = 400;
    rx.push(grant());
    napi.run(1000, h.acct);
    expect(metric(h, M.gro_grant_bypasses)).toBe(1);
    expect(k.xmit()).toContain('DATA 1400@10000');
    // GRO busy (last GRO 400 ns ago): no bypass.
    hm.off.lastGroNs[0] = 600;
    rx.push(grant());
    napi.run(1000, h.acct);
    expect(metric(h, M.gro_grant_bypasses)).toBe(1);
  });

  it('homa_gro_receive__HOMA_GRO_SHORT_BYPASS', async () => {
    const { h, hm } = await kernelHost({ mtu: MTU_1400, unschedBytes: 10000, flags: 4 });
    const napi = h.cores[0]!.contexts.find((c) => c instanceof NapiContext) as NapiContext;
    const rx = new SpscRing(h.sab, subLayout(subLayout(h.desc, 'net'), 'rx.0.0'));
    knobs(hm, { groBusyNs: 500 });
    const bypasses = (): number => metric(h, M.gro_data_bypasses);
    // SHORT_BYPASS off.
    hm.gro = parseGroPolicy(0);
    hm.off.lastGroNs[0] = 400;
    rx.push(dataSeg(hm, 1, 1234, true, 10000, 2000, 1400));
    napi.run(1000, h.acct);
    expect(bypasses()).toBe(0);
    // On, but the message is longer than one packet.
    hm.gro = parseGroPolicy(HOMA_GRO_SHORT_BYPASS);
    hm.off.lastGroNs[0] = 400;
    rx.push(dataSeg(hm, 1, 1234, true, 10000, 2000, 1400));
    napi.run(1000, h.acct);
    expect(bypasses()).toBe(0);
    // A whole 1400-byte message: bypassed.
    hm.off.lastGroNs[0] = 400;
    rx.push(dataSeg(hm, 1, 1236, true, 1400, 0, 1400));
    napi.run(1000, h.acct);
    expect(bypasses()).toBe(1);
    // GRO busy: no bypass.
    hm.off.lastGroNs[0] = 600;
    rx.push(dataSeg(hm, 1, 1238, true, 1400, 0, 1400));
    napi.run(1000, h.acct);
    expect(bypasses()).toBe(1);
  });

  it('homa_gro_complete__GRO_IDLE', () => {
    const st = createOffloadState(8);
    const idle = createSteeringPolicy('idle');
    [[6, 30], [7, 25], [0, 20], [1, 15], [2, 10]].forEach(([c, t]) => { st.lastActiveNs[c!] = t!; });
    expect(idle.chooseSoftirqCore(5, 2, 0, 1000, st, 0)).toBe(1);
    st.lastActiveNs[6] = 5;
    expect(idle.chooseSoftirqCore(5, 2, 0, 1000, st, 0)).toBe(6);
    expect(idle.chooseSoftirqCore(6, 2, 0, 1000, st, 0)).toBe(2);
  });

  it('homa_gro_receive__max_gro_skbs', async () => {
    const { h, hm } = await kernelHost({ mtu: MTU_1400, maxGroSkbs: 3, steering: 'next' });
    const napi = h.cores[0]!.contexts.find((c) => c instanceof NapiContext) as NapiContext;
    const rx = new SpscRing(h.sab, subLayout(subLayout(h.desc, 'net'), 'rx.0.0'));
    for (let i = 0; i < 3; i++) rx.push(dataSeg(hm, 1, 1000 + 2 * i, true, 10000, 2000, 1400));
    napi.run(1_000_000, h.acct);
    // The third packet reached max_gro_skbs: one batch of 3 went to SoftIRQ.
    const batches = Array.from(ringContents(h.sab, subLayout(h.desc, 'softirq.1'), 'mpsc'));
    expect(batches.length).toBe(1);
    expect(metric(h, M.gro_batch_packets)).toBe(3);
  });

  it('homa_gro_gen2', () => {
    const st = createOffloadState(8);
    const gen2 = createSteeringPolicy('gen2');
    const now = 1000;
    const busy = 100;
    const setBacklog = (c: number, n: number): void => { for (let i = 0; i < n; i++) st.addBacklog(c); };
    setBacklog(6, 1); st.lastGroNs[6] = 0;
    st.lastGroNs[7] = 901;
    setBacklog(0, 2); st.lastGroNs[0] = 0;
    st.lastGroNs[1] = 899;
    st.lastGroNs[2] = 0;
    const pick = (): number => gen2.chooseSoftirqCore(5, 2, 0, now, st, busy);
    expect(pick()).toBe(1); // avoid busy cores
    expect(st.backlog(1)).toBe(1);
    expect(pick()).toBe(6); // all busy: rotate
    expect(pick()).toBe(7);
    expect(st.softirqOffset[5]).toBe(2);
    expect(pick()).toBe(0);
    expect(pick()).toBe(1);
    expect(pick()).toBe(6);
    expect(st.softirqOffset[5]).toBe(1);
  });

  const gen3 = (cands: number[], appActive: Record<number, number>) => {
    const st = createOffloadState(8);
    cands.forEach((c, i) => { st.gen3SoftirqCores[0 * 3 + i] = c; });
    for (const [c, t] of Object.entries(appActive)) st.lastAppActiveNs[Number(c)] = t;
    const before = Float64Array.from(st.lastActiveNs);
    const chosen = createSteeringPolicy('gen3').chooseSoftirqCore(0, 2, 0, 5000, st, 1000);
    return { st, chosen, before };
  };

  it('homa_gro_gen3__basics', () => {
    const { st, chosen, before } = gen3([3, 7, 5], { 3: 4100, 7: 3900, 5: 2000 });
    expect(chosen).toBe(7);
    expect(st.lastActiveNs[3]).toBe(before[3]);
    expect(st.lastActiveNs[7]).toBe(5000);
  });

  it('homa_gro_gen3__stop_on_negative_core_id', () => {
    const { st, chosen } = gen3([3, -1, 5], { 3: 4100, 5: 2000 });
    expect(chosen).toBe(3);
    expect(st.lastActiveNs[3]).toBe(5000);
  });

  it('homa_gro_gen3__all_cores_busy_so_pick_first', () => {
    const { st, chosen } = gen3([3, 7, 5], { 3: 4100, 7: 4001, 5: 4500 });
    expect(chosen).toBe(3);
    expect(st.lastActiveNs[3]).toBe(5000);
  });
});
