import { describe, expect, it } from 'vitest';
import { H, PktType } from '../../src/wire/packet.js';
import { GrantState } from '../../src/homa/homa.js';
import { checkFifo, grantCheckRpc, grantPriority, grantWindow, numActive, totalIncoming, updateIncoming } from '../../src/homa/grant.js';
import { unschedPriority } from '../../src/homa/peer.js';
import { M } from '../../src/homa/metrics.js';
import { Harness } from './harness.js';
import { SERVERS_ONLY, lastOfType, serverRpc, txPackets, word } from './util.js';

async function host1(cfg: Record<string, unknown> = {}) {
  const h = await Harness.create({ apps: SERVERS_ONLY, cfg: { hosts: 3, ...cfg } });
  const hm = h.homa(1);
  // The first FIFO grant is due at once after start (fifo_grant_time 0): park it, so that these
  // tests see SRPT grants only until they set the FIFO time themselves.
  hm.gFifoTimeNs[hm.host] = Number.MAX_VALUE;
  return { h, hm };
}

function check(hm: ReturnType<Harness['homa']>, g: number, now: number): void {
  const lk = hm.rpcLock(g);
  hm.locks.lock(lk);
  grantCheckRpc(hm, g, lk, now); // releases lk
}

describe('grantWindow', () => {
  it('is max_incoming / (num_active + 1) when window = 0 (dynamic)', async () => {
    const { hm } = await host1();
    expect(grantWindow(hm, 1)).toBe(200000);
    expect(grantWindow(hm, 4)).toBe(80000);
    expect(grantWindow(hm, 8)).toBe(44444);
  });
  it('is the fixed window when window != 0', async () => {
    const { hm } = await host1({ window: 60000 });
    expect(grantWindow(hm, 1)).toBe(60000);
    expect(grantWindow(hm, 8)).toBe(60000);
  });
});

describe('grantCheckRpc', () => {
  it('grants received + window - granted to a single message, at P0', async () => {
    const { h, hm } = await host1();
    const g = serverRpc(hm, 0, 2, 1_000_000, 1424, 1000);
    check(hm, g, 1000);
    // window 200000 (1 active): want = 1424 + 200000 - 40000; avail = 400000 - 38576.
    expect(hm.rInGranted[g]).toBe(201424);
    expect(hm.rGrantState[g]).toBe(GrantState.ACTIVE);
    expect(totalIncoming(hm)).toBe(201424 - 1424);
    const p = lastOfType(h, 1, PktType.GRANT);
    expect(word(hm, p, H.OFFSET)).toBe(201424);
    expect(word(hm, p, H.FLAGS_OR_PRIO)).toBe(0);
    expect(word(hm, p, H.PRIORITY)).toBe(7);
  });

  it('does not manage messages that fit in their unscheduled bytes', async () => {
    const { hm } = await host1();
    const g = serverRpc(hm, 0, 2, 40000, 1424, 1000);
    check(hm, g, 1000);
    expect(hm.rGrantState[g]).toBe(GrantState.NONE);
    expect(totalIncoming(hm)).toBe(0);
    expect(hm.rInGranted[g]).toBe(40000);
  });

  const expected: Record<number, number[]> = {
    1: [0],
    2: [1, 0],
    4: [3, 2, 1, 0],
    8: [3, 2, 1, 0, 0, 0, 0, 0],
  };
  for (const n of [1, 2, 4, 8, 9]) {
    it(`gives ${n} competing messages rank-based priorities${n === 9 ? '; the 9th stays inactive' : ''}`, async () => {
      const { hm } = await host1({ hosts: 10 });
      const rpcs: number[] = [];
      // Message i has (i + 1) x 100 KB remaining: message 0 ranks first. Each comes from its own
      // peer, so max_overcommit is the only limit; the shortest arrive last, so with 9 the
      // shortest bumps the longest (the victim) out of the active set.
      const peers = [0, 2, 3, 4, 5, 6, 7, 8, 9];
      for (let i = n - 1; i >= 0; i--) {
        const g = serverRpc(hm, peers[i]!, 2 + 2 * i, (i + 1) * 100_000 + 1424, 1424, 1000 + i);
        rpcs[i] = g;
        check(hm, g, 2000);
      }
      expect(numActive(hm)).toBe(Math.min(n, 8));
      const prios = rpcs.slice(0, Math.min(n, 8)).map((g) => grantPriority(hm, hm.rActiveSlot[g]!));
      expect(prios).toEqual(expected[Math.min(n, 8) === 8 ? 8 : n]);
      if (n === 9) {
        expect(hm.rGrantState[rpcs[8]!]).toBe(GrantState.GRANTABLE);
        expect(hm.rActiveSlot[rpcs[8]!]).toBe(-1);
      }
    });
  }

  it('caps grants at max_incoming, marks needy RPCs, and serves them when bytes arrive (needy_grants)', async () => {
    const { h, hm } = await host1({ unschedBytes: 10000, maxIncoming: 20000, window: 50000 });
    const a = serverRpc(hm, 0, 2, 1_000_000, 1424, 1000);
    check(hm, a, 1000);
    // want 1424 + 50000 - 10000 = 41424, avail 20000 - 8576 = 11424.
    expect(hm.rInGranted[a]).toBe(10000 + 11424);
    expect(totalIncoming(hm)).toBe(20000);
    const b = serverRpc(hm, 2, 4, 2_000_000, 1424, 1100);
    check(hm, b, 1100);
    expect(hm.rInGranted[b]).toBe(10000);
    expect(totalIncoming(hm)).toBe(28576);
    expect(Atomics.load(hm.gNeedy, hm.host * 16)).not.toBe(0);
    // 20000 more bytes of A arrive: total_incoming drops to 8576, A (shortest) gets the room.
    hm.rInRemaining[a] = hm.rInRemaining[a]! - 20000;
    const before = hm.metrics[hm.mrow + M.needy_grants]!;
    check(hm, a, 1200);
    expect(hm.rInGranted[a]).toBe(21424 + 11424);
    expect(totalIncoming(hm)).toBe(20000);
    expect(hm.rInGranted[b]).toBe(10000);
    expect(hm.metrics[hm.mrow + M.needy_grants]! - before).toBe(1);
    expect(txPackets(h, 1).filter((s) => word(hm, s, H.TYPE) === PktType.GRANT).length).toBe(2);
  });
});

describe('checkFifo', () => {
  it('gives fifo_grant_increment to the oldest message every 320 us (25 Gbps x 5%) at P6', async () => {
    const { h, hm } = await host1();
    expect(hm.fifoIntervalNs).toBe(320_000);
    const old = serverRpc(hm, 0, 2, 900_000, 1424, 1000);
    const young = serverRpc(hm, 2, 4, 100_000, 1424, 5000);
    check(hm, old, 5000);
    check(hm, young, 5000);
    const g0 = hm.rInGranted[old]!;
    const y0 = hm.rInGranted[young]!;
    hm.gFifoTimeNs[hm.host] = 10_000;
    checkFifo(hm, 9_999);
    expect(hm.rInGranted[old]).toBe(g0);
    checkFifo(hm, 10_000);
    expect(hm.rInGranted[old]).toBe(g0 + 50000);
    expect(hm.rInGranted[young]).toBe(y0);
    expect(hm.gFifoTimeNs[hm.host]).toBe(330_000);
    const p = lastOfType(h, 1, PktType.GRANT);
    expect(word(hm, p, H.OFFSET)).toBe(g0 + 50000);
    expect(word(hm, p, H.FLAGS_OR_PRIO)).toBe(6);
    checkFifo(hm, 329_999);
    expect(hm.rInGranted[old]).toBe(g0 + 50000);
    // Old now has 250000 bytes granted and unreceived: more than window (133333) + 2 x 50000,
    // and young is fully granted, so nobody qualifies.
    checkFifo(hm, 330_000);
    expect(hm.rInGranted[old]).toBe(g0 + 50000);
    expect(hm.gFifoTimeNs[hm.host]).toBe(650_000);
    // 100000 bytes of old arrive: it qualifies again at the next FIFO time.
    hm.rInRemaining[old] = hm.rInRemaining[old]! - 100000;
    updateIncoming(hm, old);
    checkFifo(hm, 650_000);
    expect(hm.rInGranted[old]).toBe(g0 + 100000);
    expect(hm.metrics[hm.mrow + M.fifo_grant_bytes]).toBe(100000);
  });
});

describe('unschedPriority', () => {
  it('uses P6 for everything until CUTOFFS arrived, then the cutoffs: P7 <=200, P6 <=2800, P5 <=15000, P4 <=1e6', async () => {
    const { hm } = await host1();
    expect([1, 200, 5000, 1_000_000].map((l) => unschedPriority(hm, 0, l))).toEqual([6, 6, 6, 6]);
    hm.peerCutoffVersion[hm.host * hm.hosts + 0] = 1;
    expect([1, 200, 201, 2800, 2801, 15000, 15001, 1_000_000].map((l) => unschedPriority(hm, 0, l)))
      .toEqual([7, 7, 6, 6, 5, 5, 4, 4]);
  });
});
