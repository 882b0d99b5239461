import { describe, expect, it } from 'vitest';
import { subLayout } from '../../src/shm/layout.js';
import { SpscRing, ringContents } from '../../src/shm/ring.js';
import { H, HEADER_WORDS, PktType, setCommonHeader } from '../../src/wire/packet.js';
import { NapiContext, flowHash } from '../../src/homa/offload.js';
import { Rss, toeplitzHash, toeplitzTables } from '../../src/net/rss.js';
import { M } from '../../src/homa/metrics.js';
import type { Homa } from '../../src/homa/homa.js';
import { Harness } from './harness.js';
import { SERVERS_ONLY } from './util.js';

function data(hm: Homa, id: number, len: number, seg: number): number {
  const slot = hm.pktPool.alloc();
  setCommonHeader(hm.pktHdr, slot, PktType.DATA, 0, hm.host, 40000, 1000, id, 6);
  const b = slot * HEADER_WORDS;
  hm.pktHdr[b + H.SEG_BYTES] = seg;
  hm.pktHdr[b + H.MSG_LEN] = len;
  hm.pktHdr[b + H.OFFSET] = 0;
  hm.pktHdr[b + H.INCOMING_OR_LENGTH] = Math.min(len, 40000);
  hm.pktHdr[b + H.CUTOFF_VERSION] = 1;
  return slot;
}

async function setup(cfg: Record<string, unknown> = {}) {
  const h = await Harness.create({ apps: SERVERS_ONLY, cfg });
  const hm = h.homa(1, 0);
  const napi = h.cores[2]!.contexts.find((c) => c instanceof NapiContext) as NapiContext;
  const rx = new SpscRing(h.sab, subLayout(subLayout(h.desc, 'net'), 'rx.1.0'));
  const backlog = (core: number): number[] => Array.from(ringContents(h.sab, subLayout(h.desc, `softirq.${2 + core}`), 'mpsc'));
  const chain = (head: number): number[] => {
    const out: number[] = [];
    for (let p = head; p >= 0; p = hm.pktHdr[p * HEADER_WORDS + H.NEXT]!) out.push(p);
    return out;
  };
  return { h, hm, napi, rx, backlog, chain };
}

describe('NapiContext (homa_gro_receive)', () => {
  it('bypasses SoftIRQ for a whole-message DATA packet when GRO is not busy, batches otherwise', async () => {
    const { h, hm, napi, rx, backlog, chain } = await setup();
    expect(napi.channels).toEqual(Int32Array.from([0]));
    rx.push(data(hm, 2, 100, 100));
    expect(napi.run(10_000_000, h.acct)).toBe(1);
    expect(hm.metrics[hm.mrow + M.gro_data_bypasses]).toBe(1);
    expect(hm.sReadyHead[hm.host * 16]).toBeGreaterThanOrEqual(0); // dispatched inline: the request is ready
    // Two more packets 1 us later: GRO returned less than gro_busy_usecs (5 us) ago -> busy, no bypass.
    const a = data(hm, 4, 100, 100);
    const b = data(hm, 6, 5000, 1424);
    rx.push(a);
    rx.push(b);
    expect(napi.run(10_001_000, h.acct)).toBe(2);
    expect(hm.metrics[hm.mrow + M.gro_data_bypasses]).toBe(1);
    // A 2-packet batch goes through steering: Gen2 (gro_policy 0x72) picks core 1 (no backlog, no GRO).
    expect(backlog(0)).toEqual([]);
    expect(backlog(1).length).toBe(1);
    expect(chain(backlog(1)[0]!)).toEqual([a, b]);
    expect(hm.off.backlog(1)).toBe(1);
  });

  it('pushes a batch every max_gro_skbs packets; a single-packet batch stays on the GRO core', async () => {
    const { h, hm, napi, rx, backlog, chain } = await setup({ maxGroSkbs: 3, steering: 'next' });
    const pk: number[] = [];
    for (let i = 0; i < 7; i++) { pk.push(data(hm, 10 + 2 * i, 50000, 1424)); rx.push(pk[i]!); }
    expect(napi.run(1_000_000, h.acct)).toBe(7);
    expect(backlog(1).map(chain)).toEqual([pk.slice(0, 3), pk.slice(3, 6)]);
    expect(backlog(0).map(chain)).toEqual([[pk[6]]]);
    expect(hm.metrics[hm.mrow + M.gro_batches]).toBe(3);
    expect(hm.metrics[hm.mrow + M.gro_batch_packets]).toBe(7);
  });

  it('processes a GRANT inline (FAST_GRANTS) when GRO is not busy', async () => {
    const { h, hm, napi, rx } = await setup();
    const g = hm.pktPool.alloc();
    setCommonHeader(hm.pktHdr, g, PktType.GRANT, 0, 1, 1000, 40000, 8, 7);
    rx.push(g);
    napi.run(50_000_000, h.acct);
    expect(hm.metrics[hm.mrow + M.gro_grant_bypasses]).toBe(1);
    expect(hm.metrics[hm.mrow + M.unknown_rpcs]).toBe(1); // no such RPC: dropped, counted
  });
});

describe('flowHash (RPS)', () => {
  it("is the NIC's Toeplitz hash of the addresses, or of addresses and ports, as Linux RPS reuses skb->hash", () => {
    const hdr = new Int32Array(HEADER_WORDS * 2);
    setCommonHeader(hdr, 1, PktType.DATA, 2, 5, 40001, 1000, 8, 6);
    const bytes = (withPorts: boolean): number[] => {
      const ip = (h: number): number[] => [10, 0, 0, h + 1];
      const port = (p: number): number[] => [(p >> 8) & 255, p & 255];
      return [...ip(2), ...ip(5), ...(withPorts ? [...port(40001), ...port(1000)] : [])];
    };
    const t = toeplitzTables();
    expect(flowHash(new Rss(8, 1, 'ip'), hdr, 1)).toBe(toeplitzHash(t, bytes(false)));
    expect(flowHash(new Rss(8, 1, 'ip-ports'), hdr, 1)).toBe(toeplitzHash(t, bytes(true)));
    expect(flowHash(new Rss(8, 1, 'ip'), hdr, 1)).not.toBe(flowHash(new Rss(8, 1, 'ip-ports'), hdr, 1));
  });
});
