import { describe, expect, it } from 'vitest';
import { ACK_IDS, H, HEADER_WORDS, PktType } from '../../src/wire/packet.js';
import { M } from '../../src/homa/metrics.js';
import { CUTOFF_VERSION, handleCutoffs, maybeSendCutoffs, peerAddAck, peerFillAcks, peerPiggybackAck, unschedPriority } from '../../src/homa/peer.js';
import { Harness } from './harness.js';
import { SERVERS_ONLY, lastOfType, txPackets, word } from './util.js';

describe('peerAddAck (the per-peer ack buffer)', () => {
  it('buffers 5 acks; the 6th flushes the 5 in an ACK packet; DATA piggybacks one', async () => {
    const h = await Harness.create({ apps: SERVERS_ONLY });
    const hm = h.homa(0);
    for (let i = 1; i <= 5; i++) peerAddAck(hm, 1, 2 * i, 1000, 40000, 1000);
    expect(txPackets(h, 0)).toEqual([]);
    expect(hm.peerNumAcks[0 * 2 + 1]).toBe(5);
    peerAddAck(hm, 1, 12, 1000, 40000, 1000);
    const ack = lastOfType(h, 0, PktType.ACK);
    expect(word(hm, ack, H.EXTRA)).toBe(5);
    expect([0, 1, 2, 3, 4].map((i) => word(hm, ack, ACK_IDS + 2 * i))).toEqual([2, 4, 6, 8, 10]);
    expect(word(hm, ack, ACK_IDS + 1)).toBe(1000);
    expect(hm.peerNumAcks[1]).toBe(1);
    expect(hm.metrics[hm.mrow + M.ack_overflows]).toBe(1);
    const slot = hm.pktPool.alloc();
    hm.pktHdr[slot * HEADER_WORDS + H.ACK_CLIENT_ID] = 0;
    peerPiggybackAck(hm, 1, slot);
    expect(hm.pktHdr[slot * HEADER_WORDS + H.ACK_CLIENT_ID]).toBe(12);
    expect(hm.pktHdr[slot * HEADER_WORDS + H.ACK_SERVER_PORT]).toBe(1000);
    expect(hm.peerNumAcks[1]).toBe(0);
  });
});

describe('unschedPriority and the cutoffs', () => {
  it('sends at P6 until the peer announced its cutoffs, then by length; CUTOFFS go out at most once per tick', async () => {
    // Cutoffs P0..P7 (--unsched-cutoffs): a message of length L goes at the highest level i with cutoffs[i] >= L.
    const h = await Harness.create({ apps: SERVERS_ONLY, cfg: { unschedCutoffs: '1000000,12288,2880,1400,800,400,200,100' } });
    const hm = h.homa(0);
    expect([50, 5000, 2_000_000].map((l) => unschedPriority(hm, 1, l))).toEqual([6, 6, 6]);
    handleCutoffs(hm, 1, CUTOFF_VERSION);
    expect([50, 100, 150, 500, 1400, 5000, 12288, 500_000, 2_000_000].map((l) => unschedPriority(hm, 1, l)))
      .toEqual([7, 7, 6, 4, 3, 1, 1, 0, 0]);
    // Host 0 as receiver: a stale version from peer 1 triggers one CUTOFFS per timer tick.
    maybeSendCutoffs(hm, 1, 1000, 40000, 10_000_000);
    maybeSendCutoffs(hm, 1, 1000, 40000, 10_000_000 + hm.tickNs / 2);
    expect(txPackets(h, 0).filter((s) => word(hm, s, H.TYPE) === PktType.CUTOFFS).length).toBe(1);
    const c = lastOfType(h, 0, PktType.CUTOFFS);
    expect(Array.from({ length: 8 }, (_, i) => word(hm, c, H.EXTRA + i))).toEqual([1000000, 12288, 2880, 1400, 800, 400, 200, 100]);
    maybeSendCutoffs(hm, 1, 1000, 40000, 10_000_000 + hm.tickNs);
    expect(hm.metrics[hm.mrow + M.cutoffs_sent]).toBe(2);
  });
});

describe('peerFillAcks (answering NEED_ACK)', () => {
  it('adds buffered acks to the one the packet carries, newest first, up to 5 in all', async () => {
    const h = await Harness.create({ apps: SERVERS_ONLY });
    const hm = h.homa(0);
    for (let i = 1; i <= 5; i++) peerAddAck(hm, 1, 100 + 2 * i, 1000, 40000, 1000);
    const slot = hm.pktPool.alloc();
    const b = slot * HEADER_WORDS;
    hm.pktHdr[b + H.EXTRA] = 1;
    hm.pktHdr[b + ACK_IDS] = 98;
    hm.pktHdr[b + ACK_IDS + 1] = 1000;
    peerFillAcks(hm, 1, slot);
    expect(hm.pktHdr[b + H.EXTRA]).toBe(5);
    expect([0, 1, 2, 3, 4].map((i) => hm.pktHdr[b + ACK_IDS + 2 * i])).toEqual([98, 110, 108, 106, 104]);
    expect(hm.peerNumAcks[1]).toBe(1); // one left for the next packet
  });
});
