import { describe, expect, it } from 'vitest';
import {
  ACK_IDS, ETH_OVERHEAD_BYTES, H, HEADER_WORDS, IP_HDR_BYTES, MAX_ACKS_PER_PKT, PktType, maxSegBytes, setCommonHeader, wireBytes,
} from '../../src/wire/packet.js';

describe('wireBytes', () => {
  it('charges the Homa header, IP header and Ethernet overhead', () => {
    expect(wireBytes(PktType.DATA, 1424)).toBe(1424 + 56 + IP_HDR_BYTES + ETH_OVERHEAD_BYTES);
    expect(wireBytes(PktType.GRANT, 0)).toBe(33 + 20 + 42);
    // Control packets are padded to at least 26 Homa bytes (none of ours is that short).
    expect(wireBytes(PktType.BUSY, 0)).toBe(28 + 20 + 42);
  });
});

describe('maxSegBytes', () => {
  it('fits a DATA packet in one MTU-sized IP packet', () => {
    expect(maxSegBytes(1500)).toBe(1424);
    expect(maxSegBytes(9000)).toBe(8924);
    expect(maxSegBytes(1500) + 56 + IP_HDR_BYTES).toBe(1500);
  });
});

describe('header layout', () => {
  it('has room for an ACK with 5 acks and keeps every word inside a slot', () => {
    expect(ACK_IDS + 2 * MAX_ACKS_PER_PKT).toBeLessThanOrEqual(HEADER_WORDS);
    expect(H.EXTRA + 8).toBeLessThanOrEqual(HEADER_WORDS);
    const words = Object.values(H);
    expect(new Set(words).size).toBe(words.length);
  });

  it('setCommonHeader writes the common fields of one slot only', () => {
    const hdr = new Int32Array(3 * HEADER_WORDS).fill(99);
    setCommonHeader(hdr, 1, PktType.RESEND, 2, 3, 40000, 1000, 42, 7);
    const b = HEADER_WORDS;
    expect([hdr[b + H.TYPE], hdr[b + H.SRC_HOST], hdr[b + H.DST_HOST], hdr[b + H.SPORT], hdr[b + H.DPORT], hdr[b + H.SENDER_ID], hdr[b + H.PRIORITY]])
      .toEqual([PktType.RESEND, 2, 3, 40000, 1000, 42, 7]);
    expect(hdr[b + H.NEXT]).toBe(-1);
    expect(hdr[b + H.ACK_CLIENT_ID]).toBe(0);
    expect(hdr[0]).toBe(99);
    expect(hdr[2 * HEADER_WORDS]).toBe(99);
  });
});
