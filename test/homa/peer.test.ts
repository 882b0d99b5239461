import { describe, expect, it } from 'vitest';
import { ACK_IDS, H, HEADER_WORDS, PktType } from '../../src/wire/packet.js';
import { M } from '../../src/homa/metrics.js';
import { peerAddAck, peerPiggybackAck } from '../../src/homa/peer.js';
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
