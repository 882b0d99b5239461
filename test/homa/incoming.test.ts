import { describe, expect, it } from 'vitest';
import { ACK_IDS, DATA_FLAG_RETRANSMIT, H, HEADER_WORDS, PktType, UNKNOWN_FLAG_NO_SOCKET, setCommonHeader } from '../../src/wire/packet.js';
import { HomaErr, RpcState, type Homa } from '../../src/homa/homa.js';
import { addPacket, dispatchPkts, copyOut, requestRetrans } from '../../src/homa/incoming.js';
import { xmitData } from '../../src/homa/outgoing.js';
import { sockLookup } from '../../src/homa/sock.js';
import { M } from '../../src/homa/metrics.js';
import { msgByteAddr } from '../../src/homa/pool.js';
import { Harness } from './harness.js';
import { SERVERS_ONLY, clientRpc, dataPkt, serverRpc, txPackets, word } from './util.js';

const SEG = 1424;

function gaps(hm: Homa, g: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < hm.rInNumGaps[g]!; i++) out.push([hm.rGapStart[g * 8 + i]!, hm.rGapEnd[g * 8 + i]!]);
  return out;
}

async function make(cfg: Record<string, unknown> = {}) {
  const h = await Harness.create({ apps: SERVERS_ONLY, cfg });
  return { h, hm: h.homa(1, 1) };
}

describe('addPacket', () => {
  it('reassembles out-of-order segments, tracking gaps and dropping duplicates', async () => {
    const { hm } = await make();
    const len = 10 * SEG;
    const g = serverRpc(hm, 0, 2, len, 0, 1000);
    const add = (seg: number): boolean => addPacket(hm, g, dataPkt(hm, 0, 2, len, seg * SEG, false));
    expect(add(0)).toBe(true);
    expect(add(3)).toBe(true);
    expect(gaps(hm, g)).toEqual([[SEG, 3 * SEG]]);
    expect(add(7)).toBe(true);
    expect(gaps(hm, g)).toEqual([[SEG, 3 * SEG], [4 * SEG, 7 * SEG]]);
    expect(add(5)).toBe(true); // splits the second gap
    expect(gaps(hm, g)).toEqual([[SEG, 3 * SEG], [4 * SEG, 5 * SEG], [6 * SEG, 7 * SEG]]);
    expect(add(3)).toBe(false); // duplicate
    expect(add(0)).toBe(false); // duplicate
    expect(add(2)).toBe(true); // end of the first gap
    expect(add(1)).toBe(true); // closes it
    expect(gaps(hm, g)).toEqual([[4 * SEG, 5 * SEG], [6 * SEG, 7 * SEG]]);
    expect(hm.rInRecvEnd[g]).toBe(8 * SEG);
    for (const s of [4, 6, 8, 9]) expect(add(s)).toBe(true);
    expect(add(9)).toBe(false);
    expect(gaps(hm, g)).toEqual([]);
    expect(hm.rInRemaining[g]).toBe(0);
    expect(hm.metrics[hm.mrow + M.data_dropped_duplicate]).toBe(3);
  });
});

describe('dispatchPkts (DATA)', () => {
  it('creates the server RPC, queues packets, hands it off, and copy-out yields the exact bytes', async () => {
    const { hm } = await make();
    const len = 3 * SEG + 100;
    for (const off of [2 * SEG, 0, 3 * SEG, 0, SEG]) dispatchPkts(hm, dataPkt(hm, 0, 2, len, off), 5000);
    const sockG = hm.host * 16;
    const g = hm.sReadyHead[sockG]!;
    expect(g).toBeGreaterThanOrEqual(0);
    expect(hm.rState[g]).toBe(RpcState.INCOMING);
    expect(hm.rInRemaining[g]).toBe(0);
    const lk = hm.rpcLock(g);
    hm.locks.lock(lk);
    expect(copyOut(hm, g, lk)).toBe(true);
    hm.locks.unlock(lk);
    for (let off = 0; off < len; off++) expect(hm.u8[msgByteAddr(hm, hm.rInPages, g, off)]).toBe(off & 255);
    expect(hm.metrics[hm.mrow + M.PKTS_RCVD]).toBe(5);
    expect(hm.metrics[hm.mrow + M.data_dropped_duplicate]).toBe(1);
  });
});

describe('ACK', () => {
  it('an ACK packet ends the acknowledged server RPC; a piggybacked ack on DATA does too', async () => {
    const { hm } = await make();
    const a = serverRpc(hm, 0, 2, 100, 100, 1000);
    const b = serverRpc(hm, 0, 4, 100, 100, 1000);
    hm.rState[a] = RpcState.OUTGOING;
    hm.rState[b] = RpcState.OUTGOING;
    const ack = hm.pktPool.alloc();
    setCommonHeader(hm.pktHdr, ack, PktType.ACK, 0, hm.host, 40000, 1000, 0, 7);
    hm.pktHdr[ack * HEADER_WORDS + H.EXTRA] = 1;
    hm.pktHdr[ack * HEADER_WORDS + ACK_IDS] = 2;
    hm.pktHdr[ack * HEADER_WORDS + ACK_IDS + 1] = 1000;
    dispatchPkts(hm, ack, 2000);
    expect(hm.rState[a]).toBe(RpcState.FREE);
    expect(hm.rState[b]).toBe(RpcState.OUTGOING);
    // A DATA packet of a new request from the same client carries the ack for b.
    const d = dataPkt(hm, 0, 6, 100, 0);
    hm.pktHdr[d * HEADER_WORDS + H.ACK_CLIENT_ID] = 4;
    hm.pktHdr[d * HEADER_WORDS + H.ACK_SERVER_PORT] = 1000;
    dispatchPkts(hm, d, 3000);
    expect(hm.rState[b]).toBe(RpcState.FREE);
    expect(hm.metrics[hm.mrow + M.acks_received]).toBe(2);
  });
});

/** Host 0 has a client port 40000 sending to host 1's server port 1000. */
const CLIENT_APPS = { clients: [{ host: 0, port: 40000, dstHost: 1, dstPort: 1000, lengths: [] }], servers: [{ host: 1, port: 1000 }] };

/** A control packet of `type` arriving at `hm`'s host from host `src` (sender id `senderId`). */
function ctrlPkt(hm: Homa, type: number, src: number, sport: number, dport: number, senderId: number,
  fields: Partial<Record<'OFFSET' | 'INCOMING_OR_LENGTH' | 'FLAGS_OR_PRIO', number>> = {}): number {
  const slot = hm.pktPool.alloc();
  setCommonHeader(hm.pktHdr, slot, type, src, hm.host, sport, dport, senderId, 7);
  const b = slot * HEADER_WORDS;
  hm.pktHdr[b + H.OFFSET] = fields.OFFSET ?? 0;
  hm.pktHdr[b + H.INCOMING_OR_LENGTH] = fields.INCOMING_OR_LENGTH ?? 0;
  hm.pktHdr[b + H.FLAGS_OR_PRIO] = fields.FLAGS_OR_PRIO ?? 0;
  hm.pktHdr[b + H.CUTOFF_VERSION] = 1;
  return slot;
}

/** [OFFSET, INCOMING_OR_LENGTH] of every packet of `type` in host's TX ring. */
function sent(h: Harness, host: number, type: number): Array<[number, number]> {
  const hm = h.homa(host);
  return txPackets(h, host).filter((s) => word(hm, s, H.TYPE) === type).map((s) => [word(hm, s, H.OFFSET), word(hm, s, H.INCOMING_OR_LENGTH)]);
}

describe('requestRetrans', () => {
  it('asks for each gap and for [recv_end, granted); with nothing received, for everything (0, -1)', async () => {
    const h = await Harness.create({ apps: SERVERS_ONLY });
    const hm = h.homa(1, 1);
    const len = 10 * SEG;
    const g = serverRpc(hm, 0, 2, len, 0, 1000);
    for (const seg of [0, 3]) addPacket(hm, g, dataPkt(hm, 0, 2, len, seg * SEG, false));
    hm.rInGranted[g] = 6 * SEG;
    requestRetrans(hm, g, 2000);
    expect(sent(h, 1, PktType.RESEND)).toEqual([[SEG, 2 * SEG], [4 * SEG, 2 * SEG]]);
    // A client whose response has not started: RESEND 0, -1.
    const h2 = await Harness.create({ apps: CLIENT_APPS });
    const c = clientRpc(h2.homa(0), 1, 100, 1000);
    requestRetrans(h2.homa(0), c, 2000);
    expect(sent(h2, 0, PktType.RESEND)).toEqual([[0, -1]]);
  });
});

describe('dispatchPkts (RESEND, RPC_UNKNOWN)', () => {
  it('a RESEND to a server still receiving its request is answered BUSY', async () => {
    const h = await Harness.create({ apps: SERVERS_ONLY });
    const hm = h.homa(1, 1);
    serverRpc(hm, 0, 2, 4 * SEG, SEG, 1000);
    dispatchPkts(hm, ctrlPkt(hm, PktType.RESEND, 0, 40000, 1000, 2, { OFFSET: 0, INCOMING_OR_LENGTH: -1, FLAGS_OR_PRIO: 5 }), 2000);
    expect(txPackets(h, 1).map((s) => word(hm, s, H.TYPE))).toEqual([PktType.BUSY]);
    expect(hm.metrics[hm.mrow + M.busy_sent]).toBe(1);
    expect(hm.metrics[hm.mrow + M.PKTS_RCVD + PktType.RESEND - PktType.DATA]).toBe(1);
  });

  it('a RESEND to a client retransmits the range it sent, at the RESEND priority; past tx_end it answers BUSY', async () => {
    const h = await Harness.create({ apps: CLIENT_APPS });
    const hm = h.homa(0);
    const g = clientRpc(hm, 1, 4 * SEG, 1000);
    const lk = hm.rpcLock(g);
    hm.locks.lock(lk);
    expect(xmitData(hm, g, false, 1000)).toBe(4);
    hm.locks.unlock(lk);
    const before = txPackets(h, 0).length;
    const serverId = hm.rId[g]! ^ 1;
    dispatchPkts(hm, ctrlPkt(hm, PktType.RESEND, 1, 1000, 40000, serverId, { OFFSET: SEG, INCOMING_OR_LENGTH: 2 * SEG, FLAGS_OR_PRIO: 3 }), 2000);
    const again = txPackets(h, 0).slice(before);
    expect(again.map((s) => [word(hm, s, H.TYPE), word(hm, s, H.OFFSET), word(hm, s, H.PRIORITY), word(hm, s, H.FLAGS_OR_PRIO) & DATA_FLAG_RETRANSMIT]))
      .toEqual([[PktType.DATA, SEG, 3, DATA_FLAG_RETRANSMIT], [PktType.DATA, 2 * SEG, 3, DATA_FLAG_RETRANSMIT]]);
    expect(hm.metrics[hm.mrow + M.resent_packets]).toBe(2);
    const n = txPackets(h, 0).length;
    dispatchPkts(hm, ctrlPkt(hm, PktType.RESEND, 1, 1000, 40000, serverId, { OFFSET: 4 * SEG, INCOMING_OR_LENGTH: SEG, FLAGS_OR_PRIO: 3 }), 3000);
    expect(txPackets(h, 0).slice(n).map((s) => word(hm, s, H.TYPE))).toEqual([PktType.BUSY]);
  });

  it('RPC_UNKNOWN: without a socket the client RPC aborts with ENOTCONN and reaches the app; otherwise it resends what it sent', async () => {
    const h = await Harness.create({ apps: CLIENT_APPS });
    const hm = h.homa(0);
    const a = clientRpc(hm, 1, 100, 1000);
    const b = clientRpc(hm, 1, 2 * SEG, 1000);
    for (const g of [a, b]) {
      const lk = hm.rpcLock(g);
      hm.locks.lock(lk);
      xmitData(hm, g, false, 1000);
      hm.locks.unlock(lk);
    }
    dispatchPkts(hm, ctrlPkt(hm, PktType.RPC_UNKNOWN, 1, 1000, 40000, hm.rId[a]! ^ 1, { FLAGS_OR_PRIO: UNKNOWN_FLAG_NO_SOCKET }), 2000);
    expect(hm.rError[a]).toBe(HomaErr.ENOTCONN);
    expect(hm.metrics[hm.mrow + M.aborts_enotconn]).toBe(1);
    const sockG = sockLookup(hm, 40000);
    expect(hm.sReadyHead[sockG]).toBe(a); // handed to the app (no thread waits: the ready list)
    const before = txPackets(h, 0).length;
    dispatchPkts(hm, ctrlPkt(hm, PktType.RPC_UNKNOWN, 1, 1000, 40000, hm.rId[b]! ^ 1), 3000);
    expect(hm.rError[b]).toBe(0);
    expect(txPackets(h, 0).slice(before).map((s) => [word(hm, s, H.OFFSET), word(hm, s, H.FLAGS_OR_PRIO) & DATA_FLAG_RETRANSMIT]))
      .toEqual([[0, DATA_FLAG_RETRANSMIT], [SEG, DATA_FLAG_RETRANSMIT]]);
  });

  it('a GRANT raises what the client may send and sends it at the granted priority', async () => {
    const h = await Harness.create({ apps: CLIENT_APPS, cfg: { unschedBytes: 2 * SEG } });
    const hm = h.homa(0);
    const g = clientRpc(hm, 1, 6 * SEG, 1000);
    const lk = hm.rpcLock(g);
    hm.locks.lock(lk);
    expect(xmitData(hm, g, false, 1000)).toBe(2);
    hm.locks.unlock(lk);
    const before = txPackets(h, 0).length;
    dispatchPkts(hm, ctrlPkt(hm, PktType.GRANT, 1, 1000, 40000, hm.rId[g]! ^ 1, { OFFSET: 4 * SEG, FLAGS_OR_PRIO: 2 }), 2000);
    expect(hm.rOutGranted[g]).toBe(4 * SEG);
    expect(txPackets(h, 0).slice(before).map((s) => [word(hm, s, H.OFFSET), word(hm, s, H.PRIORITY)])).toEqual([[2 * SEG, 2], [3 * SEG, 2]]);
  });
});
