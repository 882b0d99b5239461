/**
 * Conformance with HomaModule's test/unit_homa_incoming.c: message init, RESEND requests
 * (homa_request_retrans), reassembly with gaps (homa_add_packet), dispatch of each packet type
 * (DATA, GRANT, RESEND, RPC_UNKNOWN, NEED_ACK, ACK, CUTOFFS) to existing and unknown RPCs, with
 * the kernel fixture's knobs (unsched_bytes and window 10000, num_priorities 1, DONT_THROTTLE,
 * FIFO grants off), through our msgInInit, requestRetrans, addPacket and dispatchPkts. Host 0
 * is the kernel under test, peer 1 its client or server.
 */
import { describe, expect, it } from 'vitest';
import { ACK_IDS, H, HEADER_WORDS, PktType } from '../../src/wire/packet.js';
import { RpcFlag, RpcState, type Homa } from '../../src/homa/homa.js';
import { registerInterest, rpcHandoff } from '../../src/homa/interest.js';
import { readyListed, sockLookup } from '../../src/homa/sock.js';
import { addPacket, msgInInit, requestRetrans } from '../../src/homa/incoming.js';
import { HOMA_MAX_GAPS } from '../../src/homa/layout.js';
import { M } from '../../src/homa/metrics.js';
import { xmitData } from '../../src/homa/outgoing.js';
import { lastOfType } from '../homa/util.js';
import { grantables } from './kernel.js';
import {
  MTU_1400, SERVER_PORT, ctrlPkt, dataSeg, dispatch, gaps, inRpc, inServiceRpc, kernelHost, metric, outRpc, queued, startResponse,
  withRpcLock, type Kernel,
} from './kernel.js';

async function fixture(cfg: Record<string, unknown> = {}): Promise<Kernel> {
  return kernelHost({ mtu: MTU_1400, unschedBytes: 10000, window: 10000, numPriorities: 1, flags: 4, grantFifoFraction: 0, ...cfg });
}

const ID = 1234;
const send = (hm: Homa, g: number): void => { withRpcLock(hm, g, () => xmitData(hm, g, false, 0)); };
/** A server RPC whose `len`-byte request has its first 1400 bytes in (UNIT_RCVD_ONE_PKT). */
function serverRcvdOne(hm: Homa, len: number): number {
  const g = inRpc(hm, 1, ID, len, 0, 10000);
  withRpcLock(hm, g, () => addPacket(hm, g, dataSeg(hm, 1, ID, true, len, 0, Math.min(1400, len))));
  return g;
}
/** A client RPC whose request went out in full; its response has `got` bytes in (0: none yet). */
function clientWaiting(k: Kernel, reqLen: number, respLen: number, got: number): number {
  const { hm } = k;
  const g = outRpc(hm, 1, reqLen);
  send(hm, g);
  k.xmit();
  const id = hm.rId[g]!;
  for (let off = 0; off < got; off += 1400) dispatch(hm, dataSeg(hm, 1, id, false, respLen, off, Math.min(1400, got - off)));
  return g;
}
/** A server RPC sending a `respLen`-byte response (UNIT_OUTGOING), nothing sent yet. */
function serverOutgoing(hm: Homa, id: number, reqLen: number, respLen: number): number {
  const g = inServiceRpc(hm, 1, id, reqLen);
  startResponse(hm, g, respLen);
  return g;
}
/** An empty incoming 10000-byte message for add_packet scenarios, and a packet adder. */
function msg(hm: Homa): { g: number; add: (off: number, n: number) => boolean } {
  const g = inRpc(hm, 1, ID, 10000);
  return { g, add: (off, n) => withRpcLock(hm, g, () => addPacket(hm, g, dataSeg(hm, 1, ID, true, 10000, off, n))) };
}
/** Fills every gap slot of RPC g (the analogue of the kernel's failed gap allocation). */
function fillGaps(hm: Homa, g: number, from: number): void {
  for (let i = hm.rInNumGaps[g]!; i < HOMA_MAX_GAPS; i++) {
    hm.rGapStart[g * HOMA_MAX_GAPS + i] = from + 10 * i;
    hm.rGapEnd[g * HOMA_MAX_GAPS + i] = from + 10 * i + 5;
  }
  hm.rInNumGaps[g] = HOMA_MAX_GAPS;
}

describe('unit_homa_incoming.c', () => {
  it('homa_message_in_init__basics', async () => {
    const { hm } = await fixture();
    const a = inRpc(hm, 1, 100, 127, 200, 100);
    expect(hm.rInGranted[a]).toBe(100);
    expect(hm.rBirthNs[a]).toBe(200);
    const b = inRpc(hm, 1, 102, 128, 200, 500);
    expect(hm.rInGranted[b]).toBe(128);
    expect(hm.rInPages[b * 16]).toBeGreaterThanOrEqual(0);
    expect(hm.rInPages[b * 16 + 1]).toBe(-1); // one buffer page
  });

  it('homa_request_retrans__request_gaps', async () => {
    const k = await fixture({ numPriorities: 8 });
    const { hm } = k;
    const g = serverRcvdOne(hm, 10000);
    const gs = [[1000, 2000], [4000, 6000], [7000, 8000]];
    gs.forEach(([s, e], i) => { hm.rGapStart[g * HOMA_MAX_GAPS + i] = s!; hm.rGapEnd[g * HOMA_MAX_GAPS + i] = e!; });
    hm.rInNumGaps[g] = 3;
    hm.rInGranted[g] = hm.rInRecvEnd[g]!;
    k.xmit();
    requestRetrans(hm, g, 0);
    expect(k.xmit()).toBe('RESEND 1000-1999@7; RESEND 4000-5999@7; RESEND 7000-7999@7');
  });

  it('homa_request_retrans__no_granted_but_not_received_data', async () => {
    const k = await fixture();
    const g = serverRcvdOne(k.hm, 10000);
    expect(k.hm.rInRecvEnd[g]).toBe(1400);
    k.hm.rInGranted[g] = 1400;
    k.xmit();
    requestRetrans(k.hm, g, 0);
    expect(k.xmit()).toBe('');
  });

  it('homa_request_retrans__granted_data_after_last_gap', async () => {
    const k = await fixture();
    const g = serverRcvdOne(k.hm, 10000);
    k.hm.rInGranted[g] = 3000;
    k.xmit();
    requestRetrans(k.hm, g, 0);
    expect(k.xmit()).toBe('RESEND 1400-2999@0');
  });

  it('homa_request_retrans__no_data_received_yet', async () => {
    const k = await fixture();
    const g = outRpc(k.hm, 1, 1000);
    expect(k.hm.rInLen[g]).toBe(-1);
    requestRetrans(k.hm, g, 0);
    expect(k.xmit()).toBe('RESEND 0--2@0');
  });

  it('homa_add_packet__basics', async () => {
    const { hm } = await fixture();
    const { g, add } = msg(hm);
    add(1400, 1400);
    add(4200, 800);
    expect(gaps(hm, g)).toBe('start 0, end 1400; start 2800, end 4200');
    add(0, 1400);
    expect(gaps(hm, g)).toBe('start 2800, end 4200');
    expect(hm.rInRemaining[g]).toBe(6400);
    add(2800, 1400);
    expect(gaps(hm, g)).toBe('');
    expect(queued(hm, g)).toBe(4);
  });

  it('homa_add_packet__packet_beyond_message_end', async () => {
    const { hm } = await fixture();
    const { g, add } = msg(hm);
    add(0x7ffffff0, 1400);
    expect(queued(hm, g)).toBe(0);
  });

  it('homa_add_packet__packet_overlaps_message_end', async () => {
    const { hm } = await fixture();
    const { g, add } = msg(hm);
    add(9000, 1400);
    expect(queued(hm, g)).toBe(0);
  });

  it('homa_add_packet__sequential_packets', async () => {
    const { hm } = await fixture();
    const { g, add } = msg(hm);
    add(0, 1400);
    add(1400, 1400);
    add(2800, 1400);
    expect(gaps(hm, g)).toBe('');
    expect(hm.rInRecvEnd[g]).toBe(4200);
    expect(queued(hm, g)).toBe(3);
  });

  it('homa_add_packet__new_gap', async () => {
    const { hm } = await fixture();
    const { g, add } = msg(hm);
    add(0, 1400);
    add(4200, 1400);
    expect(gaps(hm, g)).toBe('start 1400, end 4200');
    expect(hm.rInRecvEnd[g]).toBe(5600);
    expect(queued(hm, g)).toBe(2);
  });

  it('homa_add_packet__no_memory_for_new_gap', async () => {
    const { h, hm } = await fixture();
    const { g, add } = msg(hm);
    add(0, 1400);
    // Ours: no gap slot left (a fixed table of HOMA_MAX_GAPS) instead of a failed kmalloc.
    fillGaps(hm, g, 0);
    add(4200, 1400);
    expect(hm.rInRecvEnd[g]).toBe(1400);
    expect(queued(hm, g)).toBe(1);
    expect(metric(h, M.data_dropped_gaps_full)).toBe(1);
  });

  for (const [name, off, n, q, after] of [
    ['homa_add_packet__packet_before_gap', 0, 1400, 2, 'start 1400, end 4200'],
    ['homa_add_packet__packet_straddles_start_of_gap', 1000, 1400, 2, 'start 1400, end 4200'],
    ['homa_add_packet__packet_at_start_of_gap', 1400, 1400, 3, 'start 2800, end 4200'],
    ['homa_add_packet__packet_beyond_end_of_gap', 5000, 1400, 2, 'start 1400, end 4200'],
    ['homa_add_packet__packet_straddles_end_of_gap', 4000, 1400, 2, 'start 1400, end 4200'],
    ['homa_add_packet__packet_at_end_of_gap', 2800, 1400, 3, 'start 1400, end 2800'],
    ['homa_add_packet__packet_in_middle_of_gap', 2000, 1400, 3, 'start 1400, end 2000; start 3400, end 4200'],
  ] as const) {
    it(name, async () => {
      const { hm } = await fixture();
      const { g, add } = msg(hm);
      add(0, 1400);
      add(4200, 1400);
      expect(gaps(hm, g)).toBe('start 1400, end 4200');
      add(off, n);
      expect(queued(hm, g)).toBe(q);
      expect(gaps(hm, g)).toBe(after);
    });
  }

  it('homa_add_packet__packet_extends_past_gap', async () => {
    const { hm } = await fixture();
    const { g, add } = msg(hm);
    add(0, 1400);
    add(2000, 1400);
    expect(gaps(hm, g)).toBe('start 1400, end 2000');
    add(1400, 1400);
    expect(queued(hm, g)).toBe(2);
  });

  it('homa_add_packet__packet_covers_entire_gap', async () => {
    const { hm } = await fixture();
    const { g, add } = msg(hm);
    add(0, 1400);
    add(2800, 1400);
    expect(gaps(hm, g)).toBe('start 1400, end 2800');
    add(1400, 1400);
    expect(queued(hm, g)).toBe(3);
    expect(gaps(hm, g)).toBe('');
  });

  it('homa_add_packet__kmalloc_failure_while_splitting_gap', async () => {
    const { hm } = await fixture();
    const { g, add } = msg(hm);
    add(0, 1400);
    add(4200, 1400);
    fillGaps(hm, g, 6000); // ours: splitting needs a gap slot and none is left
    const before = gaps(hm, g);
    add(2000, 1400);
    expect(queued(hm, g)).toBe(2);
    expect(gaps(hm, g)).toBe(before);
  });

  it('homa_add_packet__scan_multiple_gaps', async () => {
    const { hm } = await fixture();
    const { g, add } = msg(hm);
    add(1400, 1400);
    add(4200, 1400);
    expect(gaps(hm, g)).toBe('start 0, end 1400; start 2800, end 4200');
    add(2800, 1400);
    expect(queued(hm, g)).toBe(3);
    expect(gaps(hm, g)).toBe('start 0, end 1400');
  });

  it('homa_dispatch_pkts__new_server_rpc', async () => {
    const { hm } = await fixture();
    const before = Array.from(hm.rState).filter((s) => s !== 0).length;
    dispatch(hm, dataSeg(hm, 1, ID, true, 10000, 0, 1400));
    expect(Array.from(hm.rState).filter((s) => s !== 0).length).toBe(before + 1);
  });

  it('homa_dispatch_pkts__existing_server_rpc', async () => {
    const { hm } = await fixture();
    const g = serverRcvdOne(hm, 10000);
    expect(hm.rInRemaining[g]).toBe(8600);
    dispatch(hm, dataSeg(hm, 1, ID, true, 10000, 1400, 1400));
    expect(hm.rInRemaining[g]).toBe(7200);
  });

  it('homa_dispatch_pkts__existing_client_rpc', async () => {
    const k = await fixture();
    const g = clientWaiting(k, 20000, 1600, 0);
    expect(k.hm.rState[g]).toBe(RpcState.OUTGOING);
    k.hm.rOutNext[g] = k.hm.rOutLen[g]!;
    dispatch(k.hm, dataSeg(k.hm, 1, k.hm.rId[g]!, false, 1600, 0, 1400));
    expect(k.hm.rState[g]).toBe(RpcState.INCOMING);
    expect(k.hm.rInRemaining[g]).toBe(200);
  });

  it('homa_dispatch_pkts__unknown_client_rpc', async () => {
    const { h, hm } = await fixture();
    dispatch(hm, ctrlPkt(hm, PktType.RPC_UNKNOWN, 1, 99990, false));
    expect(metric(h, M.unknown_rpcs)).toBe(1);
  });

  it('homa_dispatch_pkts__unknown_server_rpc', async () => {
    const { h, hm } = await fixture();
    dispatch(hm, ctrlPkt(hm, PktType.GRANT, 1, 99990, true));
    expect(metric(h, M.unknown_rpcs)).toBe(0);
  });

  it('homa_dispatch_pkts__resend_for_unknown_server_rpc', async () => {
    const k = await fixture();
    dispatch(k.hm, ctrlPkt(k.hm, PktType.RESEND, 1, 99990, true, { offset: 100, length: 200 }));
    expect(k.xmit()).toBe('RPC_UNKNOWN');
  });

  it('homa_dispatch_pkts__reset_counters', async () => {
    const k = await fixture();
    const { hm } = k;
    const g = outRpc(hm, 1, 20000);
    expect(hm.rOutGranted[g]).toBe(10000);
    hm.rSilent[g] = 5;
    dispatch(hm, ctrlPkt(hm, PktType.GRANT, 1, hm.rId[g]!, false, { offset: 12600, prio: 3 }));
    expect(hm.rSilent[g]).toBe(0);
    hm.rSilent[g] = 5; // not reset by CUTOFFS
    dispatch(hm, ctrlPkt(hm, PktType.CUTOFFS, 1, hm.rId[g]!, false));
    expect(hm.rSilent[g]).toBe(5);
  });

  it('homa_dispatch_pkts__dont_reset_silent_ticks_on_NEED_ACK', async () => {
    const { hm } = await fixture();
    const g = outRpc(hm, 1, 20000);
    hm.rSilent[g] = 2;
    dispatch(hm, ctrlPkt(hm, PktType.NEED_ACK, 1, hm.rId[g]!, false));
    expect(hm.rSilent[g]).toBe(2);
  });

  it('homa_dispatch_pkts__invoke_homa_grant_check_rpc', async () => {
    const { hm } = await fixture();
    dispatch(hm, dataSeg(hm, 1, ID, true, 20000, 0, 1000, 1000));
    expect(grantables(hm)).toContain(`id ${ID}`);
  });

  it('homa_data_pkt__basics', async () => {
    const k = await fixture();
    const { hm } = k;
    const g = clientWaiting(k, 1000, 1600, 0);
    dispatch(hm, dataSeg(hm, 1, hm.rId[g]!, false, 1600, 0, 1400));
    expect(hm.rState[g]).toBe(RpcState.INCOMING);
    expect(hm.rInRemaining[g]).toBe(200);
    expect(queued(hm, g)).toBe(1);
    expect(hm.rInGranted[g]).toBe(1600);
  });

  it('homa_data_pkt__initialize_msgin', async () => {
    const k = await fixture();
    const g = clientWaiting(k, 1000, 1600, 0);
    dispatch(k.hm, dataSeg(k.hm, 1, k.hm.rId[g]!, false, 1600, 0, 1400));
    expect(k.hm.rInRemaining[g]).toBe(200);
    expect(k.hm.rInGranted[g]).toBe(1600);
  });

  it('homa_data_pkt__wrong_server_rpc_state', async () => {
    const { hm } = await fixture();
    const g = serverOutgoing(hm, ID, 1400, 5000);
    dispatch(hm, dataSeg(hm, 1, ID, true, 1400, 0, 1400));
    expect(queued(hm, g)).toBe(0); // ours: the request's packets were consumed when it was read
    expect(hm.rState[g]).toBe(RpcState.OUTGOING);
  });

  it('homa_grant_pkt__basics', async () => {
    const k = await fixture();
    const { hm } = k;
    const g = serverOutgoing(hm, ID, 100, 20000);
    send(hm, g);
    k.xmit();
    dispatch(hm, ctrlPkt(hm, PktType.GRANT, 1, ID, true, { offset: 11000, prio: 3 }));
    expect(hm.rOutGranted[g]).toBe(11000);
    expect(k.xmit()).toBe('DATA 1400@10000');
    dispatch(hm, ctrlPkt(hm, PktType.GRANT, 1, ID, true, { offset: 10000, prio: 3 })); // never backwards
    expect(hm.rOutGranted[g]).toBe(11000);
    expect(k.xmit()).toBe('');
    hm.rState[g] = RpcState.INCOMING; // wrong state
    dispatch(hm, ctrlPkt(hm, PktType.GRANT, 1, ID, true, { offset: 20000, prio: 3 }));
    expect(hm.rOutGranted[g]).toBe(11000);
    expect(k.xmit()).toBe('');
    hm.rState[g] = RpcState.OUTGOING;
  });

  it('homa_grant_pkt__grant_past_end_of_message', async () => {
    const { hm } = await fixture();
    const g = outRpc(hm, 1, 20000);
    dispatch(hm, ctrlPkt(hm, PktType.GRANT, 1, hm.rId[g]!, false, { offset: 25000, prio: 3 }));
    expect(hm.rOutGranted[g]).toBe(20000);
  });

  it('homa_resend_pkt__unknown_rpc', async () => {
    const k = await fixture();
    dispatch(k.hm, ctrlPkt(k.hm, PktType.RESEND, 1, ID, true, { offset: 100, length: 200 }));
    expect(k.xmit()).toBe('RPC_UNKNOWN');
  });

  it('homa_resend_pkt__rpc_in_service_server_sends_busy', async () => {
    const k = await fixture();
    inServiceRpc(k.hm, 1, ID, 2000);
    dispatch(k.hm, ctrlPkt(k.hm, PktType.RESEND, 1, ID, true, { offset: 0, length: 200 }));
    expect(k.xmit()).toBe('BUSY');
  });

  it('homa_resend_pkt__rpc_incoming_server_sends_busy', async () => {
    const k = await fixture();
    const g = serverRcvdOne(k.hm, 2000);
    k.hm.rInGranted[g] = 1400;
    k.xmit();
    dispatch(k.hm, ctrlPkt(k.hm, PktType.RESEND, 1, ID, true, { offset: 1400, length: 200 }));
    expect(k.xmit()).toContain('BUSY');
  });

  it('homa_resend_pkt__negative_length_in_resend', async () => {
    const k = await fixture();
    const { hm } = k;
    const g = serverOutgoing(hm, ID, 2000, 20000);
    hm.rOutNext[g] = 2000;
    dispatch(hm, ctrlPkt(hm, PktType.RESEND, 1, ID, true, { offset: 0, length: -1 }));
    expect(k.xmit()).toBe('DATA retrans 1400@0; DATA retrans 1400@1400');
  });

  it('homa_resend_pkt__client_not_outgoing', async () => {
    // The response has started (the request's pages are kept until the RPC ends): a RESEND
    // for the request is still answered.
    const k = await fixture();
    const { hm } = k;
    const g = clientWaiting(k, 2000, 3000, 1400);
    expect(hm.rState[g]).toBe(RpcState.INCOMING);
    k.xmit();
    dispatch(hm, ctrlPkt(hm, PktType.RESEND, 1, hm.rId[g]!, false, { offset: 100, length: 200 }));
    expect(k.xmit()).toBe('DATA retrans 1400@0');
  });

  it('homa_resend_pkt__clip_range_to_tx_end', async () => {
    const k = await fixture();
    const { hm } = k;
    const g = outRpc(hm, 1, 5000);
    hm.rOutNext[g] = 1400;
    hm.rOutGranted[g] = 5000;
    dispatch(hm, ctrlPkt(hm, PktType.RESEND, 1, hm.rId[g]!, false, { offset: 100, length: 2000 }));
    expect(k.xmit()).toBe('DATA retrans 1400@0');
  });

  it('homa_resend_pkt__no_need_to_clip_range', async () => {
    const k = await fixture();
    const { hm } = k;
    const g = outRpc(hm, 1, 5000);
    hm.rOutGranted[g] = 2800;
    hm.rOutNext[g] = 2800;
    dispatch(hm, ctrlPkt(hm, PktType.RESEND, 1, hm.rId[g]!, false, { offset: 100, length: 300 }));
    expect(k.xmit()).toBe('DATA retrans 1400@0');
  });

  it('homa_resend_pkt__update_granted_and_xmit', async () => {
    const { hm } = await fixture();
    const g = outRpc(hm, 1, 5000);
    hm.rOutGranted[g] = 1400;
    send(hm, g);
    expect(hm.rOutNext[g]).toBe(1400);
    dispatch(hm, ctrlPkt(hm, PktType.RESEND, 1, hm.rId[g]!, false, { offset: 1400, length: 2000 }));
    expect(hm.rOutGranted[g]).toBe(3400);
    expect(hm.rOutNext[g]).toBe(4200);
  });

  it('homa_resend_pkt__clip_granted_to_message_length', async () => {
    const { hm } = await fixture();
    const g = outRpc(hm, 1, 5000);
    dispatch(hm, ctrlPkt(hm, PktType.RESEND, 1, hm.rId[g]!, false, { offset: 1400, length: 6000 }));
    expect(hm.rOutGranted[g]).toBe(5000);
  });

  it('homa_resend_pkt__requested_data_hasnt_been_sent_yet', async () => {
    const k = await fixture();
    const g = outRpc(k.hm, 1, 2000);
    dispatch(k.hm, ctrlPkt(k.hm, PktType.RESEND, 1, k.hm.rId[g]!, false, { offset: 100, length: 200 }));
    expect(k.xmit()).toContain('BUSY');
  });

  it('homa_unknown_pkt__client_resend_all', async () => {
    const k = await fixture();
    const { hm } = k;
    const g = outRpc(hm, 1, 2000);
    send(hm, g);
    k.xmit();
    dispatch(hm, ctrlPkt(hm, PktType.RPC_UNKNOWN, 1, hm.rId[g]!, false));
    const sent = k.xmit();
    expect(sent).toBe('DATA retrans 1400@0; DATA retrans 600@1400');
    expect(hm.rInLen[g]).toBe(-1);
  });

  it('homa_unknown_pkt__client_resend_part', async () => {
    const k = await fixture();
    const { hm } = k;
    const g = outRpc(hm, 1, 2000);
    hm.rOutGranted[g] = 1400;
    send(hm, g);
    k.xmit();
    dispatch(hm, ctrlPkt(hm, PktType.RPC_UNKNOWN, 1, hm.rId[g]!, false));
    expect(k.xmit()).toBe('DATA retrans 1400@0');
    expect(hm.rInLen[g]).toBe(-1);
  });

  it('homa_unknown_pkt__free_server_rpc', async () => {
    const { hm } = await fixture();
    const g = serverOutgoing(hm, ID, 100, 20000);
    dispatch(hm, ctrlPkt(hm, PktType.RPC_UNKNOWN, 1, ID, true));
    expect(hm.rState[g]).toBe(RpcState.FREE); // ended (ours frees at once: no reaper)
  });

  it('homa_need_ack_pkt__rpc_response_fully_received', async () => {
    const k = await fixture();
    const { h, hm } = k;
    const g = clientWaiting(k, 100, 3000, 3000);
    k.xmit();
    dispatch(hm, ctrlPkt(hm, PktType.NEED_ACK, 1, hm.rId[g]!, false));
    expect(k.xmit()).toBe('ACK');
    expect(metric(h, M.PKTS_RCVD + PktType.NEED_ACK - PktType.DATA)).toBe(1);
  });

  it('homa_need_ack_pkt__rpc_response_not_fully_received', async () => {
    const k = await fixture();
    const { h, hm } = k;
    const g = clientWaiting(k, 100, 3000, 1400);
    k.xmit();
    dispatch(hm, ctrlPkt(hm, PktType.NEED_ACK, 1, hm.rId[g]!, false));
    expect(k.xmit()).toBe('RESEND 1400-2999@0');
    expect(metric(h, M.PKTS_RCVD + PktType.NEED_ACK - PktType.DATA)).toBe(1);
  });

  it('homa_need_ack_pkt__rpc_not_incoming', async () => {
    const k = await fixture();
    const { hm } = k;
    const g = outRpc(hm, 1, 100);
    dispatch(hm, ctrlPkt(hm, PktType.NEED_ACK, 1, hm.rId[g]!, false));
    expect(k.xmit()).toBe('RESEND 0--2@0');
  });

  it('homa_need_ack_pkt__rpc_doesnt_exist', async () => {
    const k = await fixture();
    dispatch(k.hm, ctrlPkt(k.hm, PktType.NEED_ACK, 1, ID, false));
    expect(k.xmit()).toBe('ACK');
    const slot = lastOfType(k.h, 0, PktType.ACK);
    expect(k.hm.pktHdr[slot * HEADER_WORDS + ACK_IDS]).toBe(ID);
  });

  it('homa_ack_pkt__target_rpc_exists_no_extras', async () => {
    const { h, hm } = await fixture();
    const g = serverOutgoing(hm, ID, 100, 5000);
    dispatch(hm, ackPkt(hm, [ID]));
    expect(hm.rState[g]).toBe(RpcState.FREE);
    expect(metric(h, M.PKTS_RCVD + PktType.ACK - PktType.DATA)).toBe(1);
  });

  it('homa_ack_pkt__target_rpc_exists_plus_extras', async () => {
    const { hm } = await fixture();
    const rpcs = [ID, ID + 2, ID + 4].map((id) => serverOutgoing(hm, id, 100, 5000));
    dispatch(hm, ackPkt(hm, [ID, ID + 2, ID + 4]));
    for (const g of rpcs) expect(hm.rState[g]).toBe(RpcState.FREE);
  });

  it('homa_ack_pkt__target_rpc_doesnt_exist', async () => {
    const { hm } = await fixture();
    const r1 = serverOutgoing(hm, ID, 100, 5000);
    const r2 = serverOutgoing(hm, ID + 2, 100, 5000);
    dispatch(hm, ackPkt(hm, [ID + 10, ID + 2]));
    expect(hm.rState[r1]).toBe(RpcState.OUTGOING);
    expect(hm.rState[r2]).toBe(RpcState.FREE);
  });

  it('homa_data_pkt__no_buffers', async () => {
    const k = await fixture({ bpagesPerHost: 16 });
    const { h, hm } = k;
    const g = clientWaiting(k, 1000, 5000, 0);
    const held: number[] = [];
    for (let p = hm.pagePool.alloc(); p >= 0; p = hm.pagePool.alloc()) held.push(p); // no free pages
    dispatch(hm, dataSeg(hm, 1, hm.rId[g]!, false, 5000, 0, 1400));
    expect(metric(h, M.data_dropped_no_bufs)).toBe(1); // ours counts packets (the kernel, bytes: 1400)
    expect(queued(hm, g)).toBe(0);
    for (const p of held) hm.pagePool.free(p);
  });

  it('homa_data_pkt__handoff', async () => {
    const k = await fixture();
    const { h, hm } = k;
    const g = clientWaiting(k, 1000, 3000, 0);
    dispatch(hm, dataSeg(hm, 1, hm.rId[g]!, false, 3000, 1400, 1400));
    expect(readyListed(hm, g)).toBe(true);
    expect(hm.rFlags[g]! & RpcFlag.PKTS_READY).not.toBe(0);
    expect(hm.rInRemaining[g]).toBe(1600);
    expect(queued(hm, g)).toBe(1);
    expect(metric(h, M.ready_list_adds)).toBe(1);
    // A second packet does not hand off again: one is pending.
    dispatch(hm, dataSeg(hm, 1, hm.rId[g]!, false, 3000, 2800, 200));
    expect(metric(h, M.ready_list_adds)).toBe(1);
  });

  it('homa_cutoffs_pkt_basics', async () => {
    const { hm } = await fixture();
    const g = outRpc(hm, 1, 20000);
    expect(hm.rOutGranted[g]).toBe(10000);
    const p = ctrlPkt(hm, PktType.CUTOFFS, 1, hm.rId[g]!, false);
    hm.pktHdr[p * HEADER_WORDS + H.CUTOFF_VERSION] = 400;
    dispatch(hm, p);
    expect(hm.peerCutoffVersion[hm.host * hm.hosts + 1]).toBe(400); // ours: CUTOFFS carries the version only
  });

  it('homa_dispatch_pkts__cutoffs_for_unknown_client_rpc', async () => {
    const { hm } = await fixture();
    const p = ctrlPkt(hm, PktType.CUTOFFS, 1, 99990, false);
    hm.pktHdr[p * HEADER_WORDS + H.CUTOFF_VERSION] = 400;
    dispatch(hm, p);
    expect(hm.peerCutoffVersion[hm.host * hm.hosts + 1]).toBe(400);
  });

  it('homa_rpc_handoff__handoff_to_shared_interest', async () => {
    const { h, hm } = await fixture();
    const g = inRpc(hm, 1, ID, 1600, 0, 1600);
    const sockG = sockLookup(hm, SERVER_PORT);
    withSocketLock(hm, sockG, () => { registerInterest(hm, sockG, 0, 0); registerInterest(hm, sockG, 1, 0); });
    withRpcLock(hm, g, () => rpcHandoff(hm, g, 0));
    expect(hm.sNumWaiters[sockG]).toBe(1);
    expect(Atomics.load(hm.tWake, 0 * 16)).toBe(0);
    expect(Atomics.load(hm.tWake, 1 * 16)).toBe(1);
    expect(Atomics.load(hm.tRpc, 1)).toBe(g);
    expect(metric(h, M.handoffs_thread_waiting)).toBe(1);
  });

  it('homa_rpc_handoff__queue_rpc_on_socket', async () => {
    const { h, hm } = await fixture();
    const g = inRpc(hm, 1, ID, 1600, 0, 1600);
    withRpcLock(hm, g, () => rpcHandoff(hm, g, 0));
    expect(readyListed(hm, g)).toBe(true);
    expect(metric(h, M.ready_list_adds)).toBe(1);
  });
});

function withSocketLock(hm: Homa, sockG: number, fn: () => void): void {
  const sl = hm.socketLock(sockG);
  hm.locks.lock(sl);
  try { fn(); } finally { hm.locks.unlock(sl); }
}

/** An ACK from peer 1's client port carrying acks for client ids `ids` (ours: the target is in the list). */
function ackPkt(hm: Homa, ids: number[]): number {
  const slot = ctrlPkt(hm, PktType.ACK, 1, ids[0]!, true);
  const b = slot * HEADER_WORDS;
  hm.pktHdr[b + H.EXTRA] = ids.length;
  ids.forEach((id, i) => { hm.pktHdr[b + ACK_IDS + 2 * i] = id; hm.pktHdr[b + ACK_IDS + 2 * i + 1] = 1000; });
  return slot;
}
