import { describe, expect, it } from 'vitest';
import { ACK_IDS, H, HEADER_WORDS, PktType, setCommonHeader } from '../../src/wire/packet.js';
import { RpcState, type Homa } from '../../src/homa/homa.js';
import { addPacket, dispatchPkts, copyOut } from '../../src/homa/incoming.js';
import { M } from '../../src/homa/metrics.js';
import { msgByteAddr } from '../../src/homa/pool.js';
import { Harness } from './harness.js';
import { SERVERS_ONLY, dataPkt, serverRpc } from './util.js';

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
