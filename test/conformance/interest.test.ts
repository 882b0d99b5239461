/**
 * Conformance with HomaModule's test/unit_homa_interest.c: shared interests are registered at
 * the front of the socket's list (LIFO), a hand-off gives the RPC to a waiting interest and
 * removes it, and homa_choose_interest prefers the first waiter whose core had no NAPI/SoftIRQ
 * activity within busy_usecs (else the first), through registerInterest and rpcHandoff with the
 * idle-core thread choice.
 */
import { describe, expect, it } from 'vitest';
import { registerInterest, rpcHandoff } from '../../src/homa/interest.js';
import { HOMA_MAX_SOCKETS } from '../../src/homa/layout.js';
import { M } from '../../src/homa/metrics.js';
import { sockLookup } from '../../src/homa/sock.js';
import type { Homa } from '../../src/homa/homa.js';
import { SERVER_PORT, inRpc, kernelHost, knobs, metric, withRpcLock } from './kernel.js';

/** Registers thread t (waiting on `core`) on host 0's server socket, as homa_interest_init_shared. */
function wait(hm: Homa, t: number, core: number): void {
  const sockG = sockLookup(hm, SERVER_PORT);
  const sl = hm.socketLock(sockG);
  hm.locks.lock(sl);
  registerInterest(hm, sockG, t, core);
  hm.locks.unlock(sl);
}
const waiters = (hm: Homa): number[] => {
  const sockG = sockLookup(hm, SERVER_PORT);
  return Array.from(hm.waiterViews[sockG - hm.host * HOMA_MAX_SOCKETS]!.subarray(0, hm.sNumWaiters[sockG]!));
};

describe('unit_homa_interest.c', () => {
  it('homa_interest_init_shared', async () => {
    const { hm } = await kernelHost();
    for (let t = 0; t < 4; t++) {
      wait(hm, t, 0);
      expect(waiters(hm).length).toBe(t + 1);
    }
    expect(waiters(hm)[0]).toBe(3); // the last registered is first
  });

  it('homa_interest_notify_shared', async () => {
    const { hm } = await kernelHost();
    const g = inRpc(hm, 1, 1234, 1600, 0, 1600);
    wait(hm, 0, 0);
    expect(Atomics.load(hm.tWake, 0)).toBe(0);
    withRpcLock(hm, g, () => rpcHandoff(hm, g, 0));
    expect(Atomics.load(hm.tWake, 0)).toBe(1);
    expect(Atomics.load(hm.tRpc, 0)).toBe(g);
    expect(waiters(hm)).toEqual([]);
  });

  /** Three waiters on cores 1, 2, 3 (registered in that order: core 3 is first), a hand-off at 5000 ns. */
  async function choose(lastActive: number[]): Promise<{ core: number; alt: number }> {
    const { h, hm } = await kernelHost({ cores: 4, threadChoice: 'idle-core' });
    knobs(hm, { busyNs: 1000 });
    [1, 2, 3].forEach((c, i) => { hm.off.lastActiveNs[c] = lastActive[i]!; wait(hm, 10 + c, c); });
    const g = inRpc(hm, 1, 1234, 1600, 0, 1600);
    withRpcLock(hm, g, () => rpcHandoff(hm, g, 5000));
    const woken = [11, 12, 13].find((t) => Atomics.load(hm.tWake, t * 16) === 1)!;
    return { core: woken - 10, alt: metric(h, M.handoffs_alt_thread) };
  }

  it('homa_choose_interest__find_idle_core', async () => {
    expect(await choose([2000, 3500, 4100])).toEqual({ core: 2, alt: 1 });
  });

  it('homa_choose_interest__all_cores_busy', async () => {
    expect(await choose([4100, 4001, 4800])).toEqual({ core: 3, alt: 0 });
  });
});
