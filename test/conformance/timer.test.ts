/**
 * Conformance with HomaModule's test/unit_homa_timer.c: the timer's per-RPC check
 * (homa_timer_check_rpc: NEED_ACK timing, when silent_ticks resets, RESEND and timeout) and the
 * tick (homa_timer: silent_ticks bumped before the check, IN_SERVICE RPCs only reset), with the
 * kernel fixture's knobs (resend_ticks 2, timer_ticks 100, unsched_bytes and window 10000,
 * DONT_THROTTLE), through our timerCheckRpc and TimerContext.tick.
 */
import { describe, expect, it } from 'vitest';
import { HomaErr, RpcState, type Homa } from '../../src/homa/homa.js';
import { addPacket, msgInInit } from '../../src/homa/incoming.js';
import { M } from '../../src/homa/metrics.js';
import { xmitData } from '../../src/homa/outgoing.js';
import { TimerContext, timerCheckRpc } from '../../src/homa/timer.js';
import { dataPkt } from '../homa/util.js';
import { MTU_1400, inServiceRpc, kernelHost, metric, outRpc, startResponse, withRpcLock, type Kernel } from './kernel.js';

/** The unit_homa_timer fixture; `hm` is host 0's timer core (its timer_ticks start at 100). */
async function fixture(cfg: Record<string, unknown> = {}): Promise<Kernel & { timer: TimerContext }> {
  const k = await kernelHost({ mtu: MTU_1400, resendTicks: 2, unschedBytes: 10000, window: 10000, flags: 4, ...cfg });
  const core = k.h.cfg.cores - 1;
  const timer = k.h.cores[core]!.contexts.find((c) => c instanceof TimerContext) as TimerContext;
  const hm = k.h.homa(0, core);
  hm.timerTicks = 100;
  return { ...k, hm, timer };
}

/**
 * UNIT_RCVD_ONE_PKT: a client RPC whose `reqLen`-byte request went out in full and whose
 * `respLen`-byte response has its first packet (1400 bytes) in.
 */
function rcvdOnePkt(hm: Homa, reqLen: number, respLen: number): number {
  const g = outRpc(hm, 1, reqLen);
  hm.rOutNext[g] = reqLen;
  hm.rState[g] = RpcState.INCOMING;
  withRpcLock(hm, g, () => {
    if (!msgInInit(hm, g, respLen, hm.unschedBytes, 0)) throw new Error('no pages');
    addPacket(hm, g, dataPkt(hm, 1, hm.rId[g]! ^ 1, respLen, 0, false));
  });
  return g;
}

const check = (hm: Homa, g: number): void => withRpcLock(hm, g, (lk) => timerCheckRpc(hm, g, lk, 0));

describe('unit_homa_timer.c', () => {
  it('homa_timer_check_rpc__request_ack', async () => {
    const k = await fixture({ requestAckTicks: 2 });
    const { hm } = k;
    const g = inServiceRpc(hm, 1, 100, 100);
    startResponse(hm, g, 100);
    check(hm, g); // response not fully transmitted
    expect(hm.rDoneTicks[g]).toBe(0);
    withRpcLock(hm, g, () => xmitData(hm, g, false, 0));
    k.xmit();
    check(hm, g); // sets done_timer_ticks
    expect(hm.rDoneTicks[g]).toBe(100);
    expect(k.xmit()).toBe('');
    hm.timerTicks++;
    check(hm, g); // request_ack_ticks not reached yet
    expect(hm.rDoneTicks[g]).toBe(100);
    expect(k.xmit()).toBe('');
    hm.timerTicks++;
    check(hm, g);
    expect(hm.rDoneTicks[g]).toBe(100);
    expect(k.xmit()).toBe('NEED_ACK');
  });

  it('homa_timer_check_rpc__all_granted_bytes_received', async () => {
    const k = await fixture();
    const { hm } = k;
    const g = rcvdOnePkt(hm, 100, 5000);
    k.xmit();
    hm.rInGranted[g] = 1400;
    hm.rSilent[g] = 10;
    check(hm, g);
    expect(hm.rSilent[g]).toBe(0);
    expect(k.xmit()).toBe('');
  });

  it('homa_timer_check_rpc__server_has_received_request', async () => {
    const k = await fixture();
    const { hm } = k;
    const g = inServiceRpc(hm, 1, 100, 100);
    hm.rSilent[g] = 10;
    check(hm, g);
    expect(hm.rSilent[g]).toBe(0);
    expect(k.xmit()).toBe('');
  });

  it('homa_timer_check_rpc__granted_bytes_not_sent', async () => {
    const k = await fixture();
    const { hm } = k;
    const g = outRpc(hm, 1, 5000);
    hm.rOutNext[g] = 0;
    hm.rSilent[g] = 10;
    check(hm, g);
    expect(hm.rSilent[g]).toBe(0);
    expect(k.xmit()).toBe('');
  });

  it('homa_timer_check_rpc__timeout', async () => {
    const k = await fixture();
    const { h, hm } = k;
    const g = rcvdOnePkt(hm, 200, 10000);
    hm.rSilent[g] = hm.cfg.timeoutTicks - 1;
    check(hm, g);
    expect(metric(h, M.rpc_timeouts)).toBe(0);
    expect(hm.rError[g]).toBe(0);
    hm.rSilent[g] = hm.cfg.timeoutTicks;
    check(hm, g);
    expect(metric(h, M.rpc_timeouts)).toBe(1);
    expect(hm.rError[g]).toBe(HomaErr.ETIMEDOUT);
  });

  it('homa_timer_check_rpc__request_retransmission', async () => {
    const k = await fixture({ resendTicks: 3, resendInterval: 2 });
    const { hm } = k;
    const g = rcvdOnePkt(hm, 200, 10000);
    k.xmit();
    hm.rInGranted[g] = 5000;
    hm.rOutGranted[g] = 0;
    hm.rSilent[g] = 2; // resend_ticks - 1
    check(hm, g);
    expect(k.xmit()).toBe('');
    hm.rSilent[g] = 3; // resend_ticks
    check(hm, g);
    expect(k.xmit()).toBe('RESEND 1400-4999@7');
    hm.rSilent[g] = 4; // not yet time for the next one
    check(hm, g);
    expect(k.xmit()).toBe('');
    hm.rSilent[g] = 5;
    check(hm, g);
    expect(k.xmit()).toBe('RESEND 1400-4999@7');
  });

  it('homa_timer__basics', async () => {
    const k = await fixture({ timeoutTicks: 5, resendTicks: 3, resendInterval: 2 });
    const { h, hm, timer } = k;
    const g = rcvdOnePkt(hm, 200, 5000);
    k.xmit();
    hm.rSilent[g] = 1;
    timer.tick(0);
    expect(hm.rSilent[g]).toBe(2);
    expect(k.xmit()).toBe('');
    timer.tick(0); // RESEND
    expect(hm.rSilent[g]).toBe(3);
    expect(k.xmit()).toBe('RESEND 1400-4999@7');
    timer.tick(0); // resend_interval not reached
    expect(hm.rSilent[g]).toBe(4);
    expect(k.xmit()).toBe('');
    timer.tick(0); // timeout
    expect(metric(h, M.rpc_timeouts)).toBe(1);
    expect(hm.rError[g]).toBe(HomaErr.ETIMEDOUT);
  });

  it('homa_timer__rpc_in_service', async () => {
    const k = await fixture();
    const { hm, timer } = k;
    const g = inServiceRpc(hm, 1, 100, 5000);
    hm.rSilent[g] = 3;
    k.xmit();
    timer.tick(0);
    expect(hm.rSilent[g]).toBe(0);
    expect(k.xmit()).toBe('');
  });
});
