/**
 * Conformance with HomaModule's test/unit_homa_outgoing.c: message segmentation and the
 * unscheduled grant at fill time (homa_message_out_fill), homa_xmit_data (stop at the grant,
 * defer_min_bytes, force, throttling against the NIC estimate), homa_resend_data (the segments
 * overlapping a range, at the requested priority, "incoming" set to the range's end) and
 * homa_rpc_tx_end, with the fixture's knobs (1 ns of link per byte, unsched_bytes and window
 * 10000, DONT_THROTTLE unless a scenario clears it, FIFO grants off), through checkMsgLength,
 * msgOutInit, xmitData and resendData.
 */
import { describe, expect, it } from 'vitest';
import { H, HEADER_WORDS } from '../../src/wire/packet.js';
import { HomaErr, type Homa } from '../../src/homa/homa.js';
import { checkMsgLength } from '../../src/homa/syscalls.js';
import { resendData, xmitData } from '../../src/homa/outgoing.js';
import { throttledList } from '../../src/homa/pacer.js';
import { txPackets } from '../homa/util.js';
import { MTU_1400, inServiceRpc, kernelHost, knobs, outRpc, startResponse, withRpcLock, type Kernel } from './kernel.js';

async function fixture(cfg: Record<string, unknown> = {}): Promise<Kernel> {
  return kernelHost({ mtu: MTU_1400, linkMbps: 8080, flags: 4, unschedBytes: 10000, window: 10000, grantFifoFraction: 0, ...cfg });
}
const xmit = (hm: Homa, g: number, force = false, now = 10000): number => withRpcLock(hm, g, () => xmitData(hm, g, force, now));
const setIdle = (hm: Homa, ns: number): void => { Atomics.store(hm.pLinkIdle, hm.host * 16, ns); };
/** Throttling on (the scenarios that clear HOMA_FLAG_DONT_THROTTLE). */
const throttleOn = (hm: Homa, backlogNs: number): void => knobs(hm, { dontThrottle: false, maxNicBacklogNs: backlogNs });
const throttled = (hm: Homa): number[][] => throttledList(hm).map((g) => [g, hm.rOutNext[g]!]);
const word = (hm: Homa, slot: number, w: number): number => hm.pktHdr[slot * HEADER_WORDS + w]!;

describe('unit_homa_outgoing.c', () => {
  it('homa_message_out_fill__basics', async () => {
    const k = await fixture();
    const { h, hm } = k;
    const g = outRpc(hm, 1, 3000);
    expect(hm.rOutGranted[g]).toBe(3000);
    xmit(hm, g);
    expect(k.xmit()).toBe('DATA 1400@0; DATA 1400@1400; DATA 200@2800');
    for (const s of txPackets(h, 0)) {
      expect(word(hm, s, H.MSG_LEN)).toBe(3000);
      expect(word(hm, s, H.INCOMING_OR_LENGTH)).toBe(3000);
    }
  });

  it('homa_message_out_fill__zero_length_message', () => {
    expect(checkMsgLength(0)).toBe(-HomaErr.EINVAL);
  });

  it('homa_xmit_data__stop_because_no_more_granted', async () => {
    const k = await fixture();
    const g = outRpc(k.hm, 1, 6000);
    k.hm.rOutGranted[g] = 1000;
    xmit(k.hm, g);
    expect(k.xmit()).toBe('DATA 1400@0');
    expect(throttled(k.hm)).toEqual([]);
  });

  it('homa_xmit_data__below_throttle_min', async () => {
    const k = await fixture();
    const { hm } = k;
    const g = outRpc(hm, 1, 200);
    setIdle(hm, 11000);
    throttleOn(hm, 500);
    knobs(hm, { deferMinBytes: 250 });
    xmit(hm, g);
    expect(k.xmit()).toBe('DATA 200@0');
    expect(throttled(hm)).toEqual([]);
  });

  it('homa_xmit_data__force', async () => {
    const k = await fixture();
    const { hm } = k;
    const c1 = outRpc(hm, 1, 6000);
    const c2 = outRpc(hm, 1, 5000);
    setIdle(hm, 11000);
    throttleOn(hm, 3000);
    xmit(hm, c1);
    expect(throttled(hm)).toEqual([[c1, 2800]]);
    k.xmit();
    xmit(hm, c2, true);
    expect(k.xmit()).toBe('DATA 1400@0');
    expect(throttled(hm)).toEqual([[c1, 2800], [c2, 1400]]);
  });

  it('homa_xmit_data__throttle', async () => {
    const k = await fixture();
    const { hm } = k;
    const g = outRpc(hm, 1, 6000);
    setIdle(hm, 11000);
    throttleOn(hm, 3000);
    xmit(hm, g);
    expect(k.xmit()).toBe('DATA 1400@0; DATA 1400@1400');
    expect(throttled(hm)).toEqual([[g, 2800]]);
  });

  it('homa_resend_data__basics', async () => {
    const k = await fixture({ maxGsoSize: 5000 });
    const { hm } = k;
    const g = outRpc(hm, 1, 16000);
    hm.rOutNext[g] = 16000; // every segment was handed to the NIC once
    const resend = (start: number, end: number, prio: number): string => {
      withRpcLock(hm, g, () => resendData(hm, g, start, end, prio, 0));
      return k.xmit();
    };
    const prios = (): number[] => txPackets(k.h, 0).map((s) => word(hm, s, H.PRIORITY));
    expect(resend(7000, 10000, 2)).toBe('DATA retrans 1400@7000; DATA retrans 1400@8400; DATA retrans 200@9800');
    expect(prios()).toEqual([2, 2, 2]);
    for (const s of txPackets(k.h, 0)) expect(word(hm, s, H.INCOMING_OR_LENGTH)).toBe(10000);
    expect(resend(1500, 1500, 3)).toBe('');
    expect(resend(2800, 4200, 3)).toBe('DATA retrans 1400@2800');
    expect(prios().slice(-1)).toEqual([3]);
    expect(resend(4199, 4201, 7)).toBe('DATA retrans 1400@2800; DATA retrans 1400@4200');
    expect(prios().slice(-2)).toEqual([7, 7]);
    expect(resend(16000, 17000, 7)).toBe('');
  });

  it('homa_resend_data__set_incoming', async () => {
    const k = await fixture({ maxGsoSize: 5000 });
    const { hm } = k;
    const g = outRpc(hm, 1, 16000);
    expect(hm.rOutGranted[g]).toBe(10000);
    hm.rOutNext[g] = 16000;
    withRpcLock(hm, g, () => resendData(hm, g, 8400, 8800, 2, 0));
    const s = txPackets(k.h, 0).slice(-1)[0]!;
    expect(word(hm, s, H.INCOMING_OR_LENGTH)).toBe(8800);
  });

  it('homa_rpc_tx_end', async () => {
    const { hm } = await fixture();
    const g = inServiceRpc(hm, 1, 1111, 10000);
    startResponse(hm, g, 10000);
    expect(hm.rOutNext[g]).toBe(0);
    hm.rOutGranted[g] = 5000;
    xmit(hm, g, true);
    expect(hm.rOutNext[g]).toBe(5600);
  });
});
