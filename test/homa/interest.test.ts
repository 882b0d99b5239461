import { describe, expect, it } from 'vitest';
import { H, HEADER_WORDS, PktType, setCommonHeader } from '../../src/wire/packet.js';
import { RpcState, type Homa } from '../../src/homa/homa.js';
import { dispatchPkts } from '../../src/homa/incoming.js';
import { LINE } from '../../src/homa/layout.js';
import { M } from '../../src/homa/metrics.js';
import { RecvState, homaRecv } from '../../src/homa/syscalls.js';
import { Harness } from './harness.js';

function request(hm: Homa, id: number, now: number): void {
  const slot = hm.pktPool.alloc();
  setCommonHeader(hm.pktHdr, slot, PktType.DATA, 0, hm.host, 40000, 1000, id, 6);
  const b = slot * HEADER_WORDS;
  hm.pktHdr[b + H.SEG_BYTES] = 10;
  hm.pktHdr[b + H.MSG_LEN] = 10;
  hm.pktHdr[b + H.OFFSET] = 0;
  hm.pktHdr[b + H.INCOMING_OR_LENGTH] = 10;
  hm.pktHdr[b + H.CUTOFF_VERSION] = 1;
  dispatchPkts(hm, slot, now);
}

async function setup(cfg: Record<string, unknown> = {}) {
  const h = await Harness.create({ apps: { clients: [], servers: [{ host: 1, port: 1000, threads: 2 }] }, cfg });
  const hm = h.homa(1, 0);
  const sockG = hm.host * 16;
  const t0 = new RecvState(sockG, hm.threadIndex(0), 0);
  const t1 = new RecvState(sockG, hm.threadIndex(1), 1);
  return { h, hm, sockG, t0, t1 };
}

describe('rpcHandoff / homaRecv', () => {
  it('queues waiters at the front (LIFO) and hands a ready request to the first whose core is idle', async () => {
    const { hm, sockG, t0, t1 } = await setup();
    expect(homaRecv(hm, t0, 1e6)).toBe(-1);
    expect(homaRecv(hm, t1, 1e6)).toBe(-1);
    expect(Array.from(hm.waiterViews[0]!.subarray(0, hm.sNumWaiters[sockG]!))).toEqual([t1.t, t0.t]);
    // Core 1 ran SoftIRQ just now: busy, so thread 0 (on idle core 0) gets the request.
    hm.off.lastActiveNs[1] = 2e6;
    hm.off.lastActiveNs[0] = 0;
    request(hm, 2, 2e6);
    expect(Atomics.load(hm.tRpc, t0.t)).toBeGreaterThanOrEqual(0);
    expect(Atomics.load(hm.tWake, t0.t * LINE)).toBe(1);
    expect(hm.metrics[hm.mrow + M.handoffs_thread_waiting]).toBe(1);
    expect(hm.metrics[hm.mrow + M.handoffs_alt_thread]).toBe(1);
    const g = homaRecv(hm, t0, 2e6 + 1000);
    expect(g).toBeGreaterThanOrEqual(0);
    expect(hm.rState[g]).toBe(RpcState.IN_SERVICE);
    expect(hm.rId[g]).toBe(3);
    // Nobody else waits but thread 1; the next request goes to it; a third one to the ready list.
    request(hm, 4, 3e6);
    const g1 = homaRecv(hm, t1, 3e6);
    expect(hm.rId[g1]).toBe(5);
    request(hm, 6, 4e6);
    expect(hm.sReadyHead[sockG]).toBeGreaterThanOrEqual(0);
    expect(hm.metrics[hm.mrow + M.ready_list_adds]).toBe(1);
    const g2 = homaRecv(hm, t1, 4e6);
    expect(hm.rId[g2]).toBe(7);
    expect(hm.sReadyHead[sockG]).toBe(-1);
  });

  it("queues waiters at the rear with waiterQueue 'fifo', and 'first' takes the front whatever the cores", async () => {
    const { hm, sockG, t0, t1 } = await setup({ waiterQueue: 'fifo', threadChoice: 'first' });
    homaRecv(hm, t0, 1e6);
    homaRecv(hm, t1, 1e6);
    expect(Array.from(hm.waiterViews[0]!.subarray(0, hm.sNumWaiters[sockG]!))).toEqual([t0.t, t1.t]);
    hm.off.lastActiveNs[0] = 2e6;
    request(hm, 2, 2e6);
    expect(Atomics.load(hm.tRpc, t0.t)).toBeGreaterThanOrEqual(0);
    expect(hm.metrics[hm.mrow + M.handoffs_alt_thread]).toBe(0);
  });

  it('does not return a message while another thread still copies part of it (rpc.copiers)', async () => {
    const { hm, sockG, t0 } = await setup();
    request(hm, 2, 1e6);
    const g = hm.sReadyHead[sockG]!;
    hm.rCopiers[g] = 1; // another thread has detached packets and copies them with the lock released
    expect(homaRecv(hm, t0, 1e6)).toBe(-1);
    expect(hm.rState[g]).toBe(RpcState.INCOMING);
    expect(hm.rInHead[g]).toBe(-1); // t0 copied what was queued
    expect(hm.rCopiers[g]).toBe(1);
  });
});
