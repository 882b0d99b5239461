import { describe, expect, it } from 'vitest';
import { H, PktType } from '../../src/wire/packet.js';
import { RpcFlag } from '../../src/homa/homa.js';
import { linkNs, nicBacklogNs, xmitControl, xmitData } from '../../src/homa/outgoing.js';
import { PacerContext, pacerXmit, throttleAdd, throttleRemove, throttledCount, throttledList } from '../../src/homa/pacer.js';
import { wireBytes } from '../../src/wire/packet.js';
import { fileURLToPath } from 'node:url';
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
  // Lengths throttled in this order (init times 1000, 1001, ...: ties go to the older message).
  const lens = [50000, 20000, 90000, 20000, 70000, 10000];
  // throttle_list_checks by hand. Front: entries passed with no more bytes left: 0, 0, 2, 1, 3, 0.
  // Back: entries passed with more bytes left: 0, 1, 0, 2, 1, 5. Heap: parent comparisons of the
  // sift-up: 50000 -; 20000 vs 50000 (swap); 90000 vs 20000; 20000' vs 50000 (swap), vs 20000;
  // 70000 vs 20000'; 10000 vs 90000 (swap), vs 20000 (swap) = 0 + 1 + 1 + 2 + 1 + 2.
  const expectedChecks = { front: 6, back: 9, heap: 7 };
  for (const order of ['front', 'back', 'heap'] as const) {
    it(`keeps the throttled RPCs in SRPT order (${order}: ${expectedChecks[order]} checks) and picks them in that order`, async () => {
      const { hm } = await host0({ throttleInsert: order });
      const rpcs = lens.map((l, i) => clientRpc(hm, 1, l, 1000 + i));
      for (const g of rpcs) throttle(hm, g);
      // Ties keep arrival order (the second 20000 goes after the first).
      const srpt = [rpcs[5], rpcs[1], rpcs[3], rpcs[0], rpcs[4], rpcs[2]];
      expect(throttledList(hm)).toEqual(srpt);
      expect(hm.metrics[hm.mrow + M.throttle_list_adds]).toBe(6);
      expect(hm.metrics[hm.mrow + M.throttle_list_checks]).toBe(expectedChecks[order]);
      throttle(hm, rpcs[0]!); // already there: no change
      expect(throttledCount(hm)).toBe(6);
      expect(hm.metrics[hm.mrow + M.throttle_list_adds]).toBe(6);
      // The pacer's picks: the head, removed, again and again.
      const picks: number[] = [];
      while (throttledCount(hm) > 0) {
        const head = hm.pThrHead[hm.host]!;
        picks.push(head);
        throttleRemove(hm, head);
      }
      expect(picks).toEqual(srpt);
      expect(hm.pThrHead[hm.host]).toBe(-1);
    });
  }

  it('heap: removing from the middle keeps the heap order', async () => {
    const { hm } = await host0({ throttleInsert: 'heap' });
    const rpcs = [30000, 10000, 80000, 20000, 60000, 40000, 70000, 50000].map((l, i) => clientRpc(hm, 1, l, 1000 + i));
    for (const g of rpcs) throttle(hm, g);
    throttleRemove(hm, rpcs[3]!); // 20000
    throttleRemove(hm, rpcs[6]!); // 70000
    expect(throttledList(hm)).toEqual([rpcs[1], rpcs[0], rpcs[5], rpcs[7], rpcs[4], rpcs[2]]);
    const picks: number[] = [];
    while (throttledCount(hm) > 0) { picks.push(hm.pThrHead[hm.host]!); throttleRemove(hm, hm.pThrHead[hm.host]!); }
    expect(picks).toEqual([rpcs[1], rpcs[0], rpcs[5], rpcs[7], rpcs[4], rpcs[2]]);
  });
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

/** Throttles RPCs of `lens` behind a full NIC estimate, then runs the pacer until the list is empty; returns the completion order (RPC indices). */
async function drainOrder(cfg: Record<string, unknown>, lens: number[]): Promise<number[]> {
  const { h, hm } = await host0({ pacerFifoFraction: 0, ...cfg });
  setBacklog(hm, 1000, 20_000);
  const rpcs = lens.map((l, i) => clientRpc(hm, 1, l, 1000 + i));
  for (const g of rpcs) expect(send(hm, g, false, 1000)).toBe(0);
  let now = 1000;
  for (let i = 0; i < 2000 && throttledCount(hm) > 0; i++) { now += 500; pacerXmit(hm, now); }
  expect(throttledCount(hm)).toBe(0);
  const ids = txPackets(h, 0).map((s) => word(hm, s, H.SENDER_ID));
  const lastIndex = rpcs.map((g) => ids.lastIndexOf(hm.rId[g]!));
  return rpcs.map((_, i) => i).sort((a, b) => lastIndex[a]! - lastIndex[b]!);
}

describe('pacer pick order', () => {
  it('front, back and heap drain the same messages in the same SRPT order', async () => {
    const lens = [40000, 12000, 64000, 9000, 25000, 33000];
    const expected = [3, 1, 4, 5, 0, 2];
    for (const throttleInsert of ['front', 'back', 'heap']) {
      expect(await drainOrder({ throttleInsert }, lens)).toEqual(expected);
    }
    expect(await drainOrder({ pacer: 'qdisc', throttleInsert: 'heap' }, lens)).toEqual(expected);
  });
});

describe('pacer qdisc', () => {
  it('once anything is deferred, every long message from any thread is deferred even with an idle link', async () => {
    for (const pacer of ['qdisc', 'nic-short']) {
      const { hm } = await host0({ pacer });
      const a = clientRpc(hm, 1, 30000, 1000);
      throttle(hm, a);
      expect(nicBacklogNs(hm, 1000)).toBe(0);
      const b = clientRpc(hm, 1, 30000, 1000);
      expect(send(hm, b, false, 1000)).toBe(pacer === 'qdisc' ? 0 : 11);
      if (pacer === 'qdisc') expect(throttledList(hm)).toEqual([a, b]);
      // A message of exactly defer_min_bytes is long for the qdisc, short for the old pacer.
      const c = clientRpc(hm, 1, 1000, 1000);
      expect(send(hm, c, false, 1000)).toBe(pacer === 'qdisc' ? 0 : 1);
    }
  });

  it('a message shorter than defer_min_bytes and control packets go at once and are charged to the estimate', async () => {
    const { hm } = await host0({ pacer: 'qdisc' });
    setBacklog(hm, 1000, 50_000);
    const small = clientRpc(hm, 1, 999, 1000);
    expect(send(hm, small, false, 1000)).toBe(1);
    const dataNs = linkNs(hm, wireBytes(PktType.DATA, 999));
    expect(nicBacklogNs(hm, 1000)).toBe(50_000 + dataNs);
    expect(xmitControl(hm, PktType.GRANT, 1, 40000, 1000, 2, 1000)).toBe(true);
    const grantNs = linkNs(hm, wireBytes(PktType.GRANT, 0));
    expect(nicBacklogNs(hm, 1000)).toBe(50_000 + dataNs + grantNs);
  });

  it('the old pacer does not charge control packets', async () => {
    const { hm } = await host0();
    setBacklog(hm, 1000, 50_000);
    expect(xmitControl(hm, PktType.GRANT, 1, 40000, 1000, 2, 1000)).toBe(true);
    expect(nicBacklogNs(hm, 1000)).toBe(50_000);
  });
});

describe('pacer user module', () => {
  it('--pacer ./module.mjs decides for every non-forced long skb', async () => {
    const path = fileURLToPath(new URL('../policy/fixtures/half-backlog-pacer.mjs', import.meta.url));
    const mod = (await import(path)) as { stats: { calls: number; refusals: number } };
    const { hm } = await host0({ pacer: path });
    const { getPacerPolicy } = await import('../../src/policy/registry.js');
    hm.setPacer(path, await getPacerPolicy(path));
    expect(hm.pacer.name).toBe('half-backlog');
    const before = mod.stats.calls;
    const g = clientRpc(hm, 1, 40000, 1000);
    // Each segment costs 498 ns; the policy lets skbs go while the estimate is <= 2500 ns: 6 go.
    expect(send(hm, g, false, 1000)).toBe(6);
    expect(mod.stats.calls - before).toBe(7);
    expect(throttledList(hm)).toEqual([g]);
    // The pacer's first skb is forced (not asked); the next one is asked.
    const calls = mod.stats.calls;
    expect(send(hm, g, true, 1000, true)).toBe(1);
    expect(mod.stats.calls - calls).toBe(1);
  });
});

describe('virtual time: a throttled RPC carries its stamp to the pacer', () => {
  it('the pacer does not act on the list before it became non-empty (an adder ahead in virtual time)', async () => {
    const { hm } = await host0();
    // A view of host 0 whose clock is virtual (the single-threaded harness runs wall time).
    const at = (t: number): typeof hm => Object.create(hm, { vc: { value: { virtual: true, t, costs: hm.vc.costs } } }) as typeof hm;
    const pacer = new PacerContext(at(1000));
    expect(pacer.nextNs(1000)).toBe(Infinity);
    const g = clientRpc(hm, 1, 50000, 1000);
    const lk = hm.rpcLock(g);
    hm.locks.lock(lk);
    throttleAdd(at(7000), g); // a sender whose clock is 7 us
    hm.locks.unlock(lk);
    expect(hm.pThrSinceNs[hm.host]).toBe(7000);
    // The pacer's core is at 1 us with an idle NIC: it may pace from 7 us on, not at once.
    expect(pacer.nextNs(1000)).toBe(7000);
    expect(pacer.nextNs(9000)).toBe(9000);
    // A second add while the list is non-empty keeps the first stamp.
    const g2 = clientRpc(hm, 1, 20000, 1001);
    hm.locks.lock(hm.rpcLock(g2));
    throttleAdd(at(12000), g2);
    hm.locks.unlock(hm.rpcLock(g2));
    expect(hm.pThrSinceNs[hm.host]).toBe(7000);
  });
});
