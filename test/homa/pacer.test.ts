import { describe, expect, it } from 'vitest';
import { H, PktType } from '../../src/wire/packet.js';
import { RpcFlag } from '../../src/homa/homa.js';
import { nicBacklogNs, xmitData } from '../../src/homa/outgoing.js';
import { pacerXmit, throttleAdd, throttledList } from '../../src/homa/pacer.js';
import { M } from '../../src/homa/metrics.js';
import { Harness } from './harness.js';
import { clientRpc, setBacklog, txPackets, word } from './util.js';

const APPS = { clients: [{ host: 0, port: 40000, dstHost: 1, dstPort: 1000, lengths: [] }], servers: [{ host: 1, port: 1000 }] };

async function host0(cfg: Record<string, unknown> = {}) {
  const h = await Harness.create({ apps: APPS, cfg });
  return { h, hm: h.homa(0) };
}

function send(hm: ReturnType<Harness['homa']>, g: number, force: boolean, now: number, isPacer = false): number {
  const lk = hm.rpcLock(g);
  hm.locks.lock(lk);
  const n = xmitData(hm, g, force, now, isPacer);
  hm.locks.unlock(lk);
  return n;
}

function throttle(hm: ReturnType<Harness['homa']>, g: number): void {
  const lk = hm.rpcLock(g);
  hm.locks.lock(lk);
  throttleAdd(hm, g);
  hm.locks.unlock(lk);
}

describe('throttleAdd', () => {
  for (const order of ['front', 'back'] as const) {
    it(`keeps the throttled list sorted by bytes left (SRPT), inserting from the ${order}`, async () => {
      const { hm } = await host0({ throttleInsert: order });
      const lens = [50000, 20000, 90000, 20000, 70000, 10000];
      const rpcs = lens.map((l) => clientRpc(hm, 1, l, 1000));
      for (const g of rpcs) throttle(hm, g);
      // Ties keep arrival order (the second 20000 goes after the first).
      expect(throttledList(hm)).toEqual([rpcs[5], rpcs[1], rpcs[3], rpcs[0], rpcs[4], rpcs[2]]);
      expect(hm.metrics[hm.mrow + M.throttle_list_adds]).toBe(6);
      // Front scans pass every shorter-or-equal entry; back scans pass every longer one.
      expect(hm.metrics[hm.mrow + M.throttle_list_checks]).toBe(order === 'front' ? 0 + 0 + 2 + 1 + 3 + 0 : 0 + 1 + 0 + 2 + 1 + 5);
      throttle(hm, rpcs[0]!); // already there: no change
      expect(throttledList(hm).length).toBe(6);
    });
  }
});

describe('xmitData and the NIC estimate', () => {
  it('sends until the estimate is max_nic_est_backlog ahead, then throttles', async () => {
    const { h, hm } = await host0();
    const g = clientRpc(hm, 1, 40000, 1000);
    const n = send(hm, g, false, 1000);
    // Each 1424-byte segment costs (1424 + 56 + 20 + 42) x 8 / (25000 x 0.99) us = 0.498 us.
    expect(n).toBe(11);
    expect(nicBacklogNs(hm, 1000)).toBeGreaterThan(5000);
    expect(throttledList(hm)).toEqual([g]);
    expect((Atomics.load(hm.rFlags, g) & RpcFlag.THROTTLED) !== 0).toBe(true);
    expect(txPackets(h, 0).length).toBe(11);
    const first = txPackets(h, 0)[0]!;
    expect(word(hm, first, H.TYPE)).toBe(PktType.DATA);
    expect(word(hm, first, H.PRIORITY)).toBe(6); // no CUTOFFS from host 1 yet
  });

  it('never throttles a message with defer_min_bytes or fewer left, and leaves the estimate alone', async () => {
    const { hm } = await host0();
    setBacklog(hm, 1000, 50_000);
    const small = clientRpc(hm, 1, 1000, 1000);
    expect(send(hm, small, false, 1000)).toBe(1);
    expect(nicBacklogNs(hm, 1000)).toBe(50_000);
    const big = clientRpc(hm, 1, 1001, 1000);
    expect(send(hm, big, false, 1000)).toBe(0);
    expect(throttledList(hm)).toEqual([big]);
  });

  it('force sends one packet past a full estimate (the pacer always makes progress)', async () => {
    const { hm } = await host0();
    setBacklog(hm, 1000, 20_000);
    const g = clientRpc(hm, 1, 30000, 1000);
    expect(send(hm, g, false, 1000)).toBe(0);
    expect(send(hm, g, true, 1000, true)).toBe(1);
    expect(hm.rOutNext[g]).toBe(1424);
    expect(hm.metrics[hm.mrow + M.pacer_packets]).toBe(1);
  });
});

describe('pacerXmit', () => {
  it('drains the throttled list in SRPT order as the link frees up, then leaves the list empty', async () => {
    const { h, hm } = await host0();
    setBacklog(hm, 1000, 20_000);
    const long = clientRpc(hm, 1, 30000, 1000);
    const short = clientRpc(hm, 1, 5000, 1000);
    send(hm, long, false, 1000);
    send(hm, short, false, 1000);
    expect(throttledList(hm)).toEqual([short, long]);
    expect(pacerXmit(hm, 1000)).toBe(0); // backlog above the limit: wait
    let now = 1000;
    let sent = 0;
    for (let i = 0; i < 200 && throttledList(hm).length > 0; i++) { now += 500; sent += pacerXmit(hm, now); }
    expect(throttledList(hm)).toEqual([]);
    expect(sent).toBe(Math.ceil(5000 / 1424) + Math.ceil(30000 / 1424));
    const order = txPackets(h, 0).map((s) => word(hm, s, H.SENDER_ID));
    // The short message finished before the long one started (no FIFO pick in so few picks).
    expect(order.lastIndexOf(hm.rId[short]!)).toBeLessThan(order.indexOf(hm.rId[long]!));
  });

  it("pacer-only: once anything is throttled other threads throttle long messages; nic-short lets them send", async () => {
    for (const pacer of ['pacer-only', 'nic-short']) {
      const { hm } = await host0({ pacer });
      const a = clientRpc(hm, 1, 30000, 1000);
      throttle(hm, a);
      const b = clientRpc(hm, 1, 30000, 1000);
      expect(send(hm, b, false, 1000)).toBe(pacer === 'pacer-only' ? 0 : 11);
    }
  });
});
