/**
 * src/workload/recv-wait.ts: a thread waiting in recvmsg on one host of the single-threaded
 * harness. Nothing there: it polls (registered as a waiter) until poll_usecs end, then sleeps;
 * a hand-off wakes it and the wait counts as wait_block with its blocked time. A message that
 * was queued before the wait counts as wait_none; one that arrives while polling as wait_fast,
 * with the polling time. recvNextNs says when the thread next wants its core.
 */
import { describe, expect, it } from 'vitest';
import { AppState } from '../../src/cpu/context.js';
import { dispatchPkts } from '../../src/homa/incoming.js';
import { M } from '../../src/homa/metrics.js';
import { RecvState } from '../../src/homa/syscalls.js';
import { sockLookup } from '../../src/homa/sock.js';
import { WaitState } from '../../src/policy/wait.js';
import { recvNextNs, recvOrWait, type RecvWaiter } from '../../src/workload/recv-wait.js';
import { Harness } from '../homa/harness.js';
import { SERVERS_ONLY, dataPkt } from '../homa/util.js';

const POLL_NS = 50_000;

async function setup(): Promise<{ hm: ReturnType<Harness['homa']>; w: RecvWaiter }> {
  const h = await Harness.create({ apps: SERVERS_ONLY });
  const hm = h.homa(1, 1);
  // A thread slot no app uses, waiting on host 1's port 1000 from core 1.
  const w: RecvWaiter = { rs: new RecvState(sockLookup(hm, 1000), hm.threadIndex(7), 1), wait: new WaitState('poll-then-block', POLL_NS), state: AppState.RUNNABLE };
  return { hm, w };
}

describe('recvOrWait / recvNextNs', () => {
  it('polls for poll_usecs, then sleeps; a hand-off wakes it and the wait counts as wait_block', async () => {
    const { hm, w } = await setup();
    w.wait.start(1000);
    expect(recvOrWait(hm, w, 1000)).toBe(-1);
    expect(w.rs.registered).toBe(true);
    expect(w.state).toBe(AppState.RUNNABLE);
    expect(recvNextNs(hm, w, 2000)).toBe(1000 + POLL_NS); // keeps polling until then
    expect(recvOrWait(hm, w, 1000 + POLL_NS)).toBe(-1);
    expect(w.state).toBe(AppState.BLOCKED);
    expect(recvNextNs(hm, w, 60_000)).toBe(Infinity); // asleep: only a hand-off wakes it
    dispatchPkts(hm, dataPkt(hm, 0, 2, 100, 0), 80_000);
    expect(recvNextNs(hm, w, 81_000)).toBe(80_000); // the hand-off's stamp (+ wake-up cost, 0 outside virtual time)
    const g = recvOrWait(hm, w, 90_000);
    expect(g).toBeGreaterThanOrEqual(0);
    expect(hm.rInLen[g]).toBe(100);
    expect(hm.metrics[hm.mrow + M.wait_block]).toBe(1);
    expect(hm.metrics[hm.mrow + M.blocked_ns]).toBe(90_000 - (1000 + POLL_NS));
    expect(hm.metrics[hm.mrow + M.poll_ns]).toBe(POLL_NS);
  });

  it('a message queued before the wait is wait_none; one that arrives while polling is wait_fast', async () => {
    const { hm, w } = await setup();
    dispatchPkts(hm, dataPkt(hm, 0, 2, 100, 0), 500);
    w.wait.start(1000);
    expect(recvOrWait(hm, w, 1000)).toBeGreaterThanOrEqual(0);
    expect(hm.metrics[hm.mrow + M.wait_none]).toBe(1);
    w.wait.start(2000);
    expect(recvOrWait(hm, w, 2000)).toBe(-1);
    dispatchPkts(hm, dataPkt(hm, 0, 4, 100, 0), 10_000);
    expect(recvOrWait(hm, w, 12_000)).toBeGreaterThanOrEqual(0);
    expect(hm.metrics[hm.mrow + M.wait_fast]).toBe(1);
    expect(hm.metrics[hm.mrow + M.poll_ns]).toBe(10_000);
    expect(hm.metrics[hm.mrow + M.wait_block]).toBe(0);
  });
});
