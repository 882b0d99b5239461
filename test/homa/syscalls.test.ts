/**
 * src/homa/syscalls.ts, the calls an app makes: sendmsg refuses bad lengths and reports a full
 * RPC table; a reply to an RPC that is not being serviced ends it with EINVAL; recvmsg returns a
 * complete request (now in service), and homaRpcDone ends a client RPC and buffers its ack for
 * the server's host.
 */
import { describe, expect, it } from 'vitest';
import { HomaErr, RpcState } from '../../src/homa/homa.js';
import { PEER_ACKS } from '../../src/homa/layout.js';
import { dispatchPkts } from '../../src/homa/incoming.js';
import { M } from '../../src/homa/metrics.js';
import { sockLookup } from '../../src/homa/sock.js';
import { RecvState, checkMsgLength, homaRecv, homaReply, homaRpcDone, homaSendRequest, wakeReadyNs, wakeThread } from '../../src/homa/syscalls.js';
import { Harness } from './harness.js';
import { dataPkt, serverRpc } from './util.js';

const APPS = { clients: [{ host: 0, port: 40000, dstHost: 1, dstPort: 1000, lengths: [] }], servers: [{ host: 1, port: 1000 }] };
const src = { fill(): void { /* zeros */ } };

describe('homaSendRequest', () => {
  it('refuses lengths outside [1, 1000000] and reports ENOMEM when the RPC table is full', async () => {
    const h = await Harness.create({ apps: APPS, cfg: { maxRpcsPerHost: 16 } });
    const hm = h.homa(0);
    const sockG = sockLookup(hm, 40000);
    expect(checkMsgLength(0)).toBe(-HomaErr.EINVAL);
    expect(checkMsgLength(1_000_001)).toBe(-HomaErr.EMSGSIZE);
    expect(homaSendRequest(hm, sockG, 1, 1000, 0, src, 1000)).toBe(-HomaErr.EINVAL);
    const made: number[] = [];
    for (;;) {
      const g = homaSendRequest(hm, sockG, 1, 1000, 100, src, 1000);
      if (g < 0) { expect(g).toBe(-HomaErr.ENOMEM); break; }
      made.push(g);
    }
    expect(made.length).toBe(16);
    expect(hm.metrics[hm.mrow + M.client_requests_started]).toBe(16);
    expect(hm.metrics[hm.mrow + M.rpc_alloc_failures]).toBe(1);
  });
});

describe('homaRecv / homaReply / homaRpcDone', () => {
  it('recvmsg returns a complete request in service; a reply sends it; a reply to an RPC not in service is EINVAL', async () => {
    const h = await Harness.create({ apps: APPS });
    const hm = h.homa(1, 1);
    const sockG = sockLookup(hm, 1000);
    const rs = new RecvState(sockG, hm.threadIndex(7), 1);
    dispatchPkts(hm, dataPkt(hm, 0, 2, 100, 0), 1000);
    const g = homaRecv(hm, rs, 2000);
    expect(g).toBeGreaterThanOrEqual(0);
    expect(hm.rState[g]).toBe(RpcState.IN_SERVICE);
    expect(hm.metrics[hm.mrow + M.server_requests_done]).toBe(1);
    expect(homaReply(hm, g, 100, src, 3000)).toBe(0);
    expect(hm.rState[g]).toBe(RpcState.OUTGOING);
    expect(hm.metrics[hm.mrow + M.server_responses_started]).toBe(1);
    const other = serverRpc(hm, 0, 4, 100, 0, 4000);
    expect(homaReply(hm, other, 100, src, 5000)).toBe(-HomaErr.EINVAL);
    expect(hm.rState[other]).toBe(RpcState.FREE);
  });

  it('homaRpcDone ends a client RPC and buffers the ack for its server host', async () => {
    const h = await Harness.create({ apps: APPS });
    const hm = h.homa(0);
    const g = homaSendRequest(hm, sockLookup(hm, 40000), 1, 1000, 100, src, 1000);
    expect(g).toBeGreaterThanOrEqual(0);
    const id = hm.rId[g]!;
    homaRpcDone(hm, g, 2000);
    expect(hm.rState[g]).toBe(RpcState.FREE);
    expect(hm.peerNumAcks[0 * 2 + 1]).toBe(1);
    expect(hm.peerAckIds[(0 * 2 + 1) * PEER_ACKS]).toBe(id);
  });
});

describe('wakeThread / wakeReadyNs (virtual time)', () => {
  it('a woken thread may not run before its waker\'s clock; without a wake-up never', async () => {
    const h = await Harness.create({ apps: APPS });
    const hm = h.homa(1);
    const at = (t: number): typeof hm => Object.create(hm, { vc: { value: { virtual: true, t, costs: hm.vc.costs } } }) as typeof hm;
    const t = hm.threadIndex(0);
    expect(wakeReadyNs(hm, t, 1000)).toBe(Infinity);
    wakeThread(at(5000), t, hm.host * hm.cores);
    expect(hm.tWakeNs[t]).toBe(5000);
    expect(wakeReadyNs(hm, t, 1000)).toBe(5000);
    expect(wakeReadyNs(hm, t, 6000)).toBe(6000);
  });
});
