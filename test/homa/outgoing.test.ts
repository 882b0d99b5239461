import { describe, expect, it } from 'vitest';
import { DATA_FLAG_RETRANSMIT, H, PktType } from '../../src/wire/packet.js';
import { resendData, segLength, segStart, xmitData } from '../../src/homa/outgoing.js';
import { msgByteAddr } from '../../src/homa/pool.js';
import { homaSendRequest, checkMsgLength } from '../../src/homa/syscalls.js';
import { HomaErr } from '../../src/homa/homa.js';
import { Harness } from './harness.js';
import { clientRpc, setBacklog, txPackets, word } from './util.js';

const APPS = { clients: [{ host: 0, port: 40000, dstHost: 1, dstPort: 1000, lengths: [] }], servers: [{ host: 1, port: 1000 }] };

describe('segmentation', () => {
  it('cuts MTU segments (1424 B payload) and forces a boundary at the unscheduled limit', async () => {
    const h = await Harness.create({ apps: APPS, cfg: { unschedBytes: 10000 } });
    const hm = h.homa(0);
    const g = clientRpc(hm, 1, 20000, 1000);
    const starts: number[] = [];
    for (let off = 0; off < 20000; off += segLength(hm, g, off)) starts.push(off);
    expect(starts).toEqual([0, 1424, 2848, 4272, 5696, 7120, 8544, 9968, 10000, 11424, 12848, 14272, 15696, 17120, 18544, 19968]);
    expect(segLength(hm, g, 9968)).toBe(32);
    expect(segLength(hm, g, 18544)).toBe(1424);
    expect(segLength(hm, g, 19968)).toBe(32);
    expect(segStart(hm, g, 9999)).toBe(9968);
    expect(segStart(hm, g, 10000)).toBe(10000);
    expect(segStart(hm, g, 11500)).toBe(11424);
  });
});

describe('xmitData / resendData', () => {
  it('copies the real message bytes into each DATA packet and resends a range as retransmits', async () => {
    const h = await Harness.create({ apps: APPS });
    const hm = h.homa(0);
    const g = clientRpc(hm, 1, 5000, 1000);
    for (let i = 0; i < 5000; i++) hm.u8[msgByteAddr(hm, hm.rOutPages, g, i)] = (i * 7) & 255;
    const lk = hm.rpcLock(g);
    hm.locks.lock(lk);
    expect(xmitData(hm, g, false, 1000)).toBe(4);
    const pk = txPackets(h, 0);
    expect(pk.map((s) => [word(hm, s, H.OFFSET), word(hm, s, H.SEG_BYTES), word(hm, s, H.MSG_LEN), word(hm, s, H.INCOMING_OR_LENGTH)]))
      .toEqual([[0, 1424, 5000, 5000], [1424, 1424, 5000, 5000], [2848, 1424, 5000, 5000], [4272, 728, 5000, 5000]]);
    for (const s of pk) {
      const off = word(hm, s, H.OFFSET);
      for (let i = 0; i < word(hm, s, H.SEG_BYTES); i++) expect(hm.u8[hm.pktData(s) + i]).toBe(((off + i) * 7) & 255);
    }
    expect(resendData(hm, g, 1500, 3000, 5, 2000)).toBe(2);
    hm.locks.unlock(lk);
    const re = txPackets(h, 0).slice(4);
    expect(re.map((s) => [word(hm, s, H.OFFSET), word(hm, s, H.FLAGS_OR_PRIO) & DATA_FLAG_RETRANSMIT, word(hm, s, H.PRIORITY)]))
      .toEqual([[1424, 1, 5], [2848, 1, 5]]);
    expect(word(hm, re[0]!, H.TYPE)).toBe(PktType.DATA);
  });
});

describe('homaSendRequest', () => {
  it('refuses messages above 1,000,000 bytes (EMSGSIZE) and below 1 byte (EINVAL) without taking an RPC', async () => {
    const h = await Harness.create({ apps: APPS });
    const hm = h.homa(0);
    const src = { fill(): void {} };
    expect(homaSendRequest(hm, hm.host * 16, 1, 1000, 1_000_001, src, 1000)).toBe(-HomaErr.EMSGSIZE);
    expect(homaSendRequest(hm, hm.host * 16, 1, 1000, 0, src, 1000)).toBe(-HomaErr.EINVAL);
    expect(checkMsgLength(1_000_000)).toBe(0);
    expect(h.rpcsInUse()).toBe(0);
  });
});

describe('xmitData with GSO (max_gso_size)', () => {
  const sendAll = (hm: ReturnType<Harness['homa']>, g: number, now: number): number => {
    const lk = hm.rpcLock(g);
    hm.locks.lock(lk);
    const n = xmitData(hm, g, false, now);
    hm.locks.unlock(lk);
    return n;
  };

  it('checks the NIC estimate once per skb of max_gso_size rounded down to whole segments', async () => {
    for (const [gso, expected] of [[0, 3], [10000, 7]] as const) {
      const h = await Harness.create({ apps: APPS, cfg: { maxGsoSize: gso } });
      const hm = h.homa(0);
      expect(hm.gsoSegs).toBe(gso === 0 ? 1 : 7);
      setBacklog(hm, 1000, 4000); // 4 us of the 5 us limit already used
      const g = clientRpc(hm, 1, 40000, 1000);
      expect(sendAll(hm, g, 1000)).toBe(expected);
    }
  });

  it('sends whole skbs while next_xmit_offset < granted, overshooting the grant by up to one skb', async () => {
    const h = await Harness.create({ apps: APPS, cfg: { maxGsoSize: 10000, unschedBytes: 5000 } });
    const hm = h.homa(0);
    const g = clientRpc(hm, 1, 100000, 1000);
    expect(sendAll(hm, g, 1000)).toBe(4); // 3 x 1424 + 728: the skb stops at the unscheduled limit
    expect(hm.rOutNext[g]).toBe(5000);
    hm.rOutGranted[g] = 6000;
    expect(sendAll(hm, g, 1000)).toBe(7);
    expect(hm.rOutNext[g]).toBe(5000 + 7 * 1424);
  });
});
