/**
 * How an app thread waits for a message (homa_wait_shared seen from the thread): one recvmsg
 * attempt per step; when nothing is complete the thread keeps polling until its WaitState says
 * to block, and it sleeps only once registered as a waiter (a hand-off then wakes it through
 * its wake word). When a message arrives, the wait's outcome (wait_none / wait_fast /
 * wait_block) and its poll and blocked time go to Homa's counters. Shared by the echo and the
 * cp_node threads so they wait exactly alike.
 */
import { AppState } from '../cpu/context.js';
import { type Homa, M, homaRecv, type RecvState, handedOff, handoffNs, wakeReadyNs } from '../homa/syscalls.js';
import { WaitPhase, type WaitState } from '../policy/wait.js';

/** What a waiting thread exposes to `recvOrWait`. */
export interface RecvWaiter {
  readonly rs: RecvState;
  readonly wait: WaitState;
  state: number;
}

/**
 * Virtual time: when a thread waiting in recvmsg next wants the CPU. A hand-off in its interest
 * word: at its stamp plus the wake-up latency (a polling thread sees it at once, a sleeping one
 * after the scheduler woke it); a sleeping thread otherwise never (a hand-off rings its core); a
 * thread that has not asked yet: now; a polling one: when poll_usecs end and it goes to sleep.
 */
export function recvNextNs(hm: Homa, t: RecvWaiter, now: number): number {
  const g = handedOff(hm, t.rs.t);
  const blocked = t.state === AppState.BLOCKED;
  if (g >= 0) {
    const c = hm.vc.costs;
    return handoffNs(hm, g) + (blocked ? c.appWakeupBlock : c.appWakeupPoll);
  }
  if (blocked) return wakeReadyNs(hm, t.rs.t, now);
  if (!t.rs.registered || t.wait.phase !== WaitPhase.POLLING) return now;
  return t.wait.startNs + t.wait.pollLimitNs;
}

/** Counts how a finished wait went (wait_none / wait_fast / wait_block, poll and blocked ns). */
export function countWait(hm: Homa, wait: WaitState, now: number): void {
  const poll0 = wait.pollNs;
  const blocked0 = wait.blockedNs;
  const outcome = wait.ready(now);
  hm.count(outcome === 'none' ? M.wait_none : outcome === 'fast' ? M.wait_fast : M.wait_block);
  hm.count(M.poll_ns, wait.pollNs - poll0);
  hm.count(M.blocked_ns, wait.blockedNs - blocked0);
}

/**
 * One recvmsg attempt of thread `t`: returns the RPC slot of a complete (or failed) message and
 * counts the finished wait, or returns -1 having polled once more (and set the thread BLOCKED
 * when its wait says block and it is registered as waiting).
 */
export function recvOrWait(hm: Homa, t: RecvWaiter, now: number): number {
  const r = homaRecv(hm, t.rs, now);
  if (r < 0) {
    // The polling before a thread sleeps is poll time too (counted when it stops polling).
    const poll0 = t.wait.pollNs;
    if (t.wait.poll(now) === 'block' && t.rs.registered) t.state = AppState.BLOCKED;
    if (t.wait.pollNs !== poll0) hm.count(M.poll_ns, t.wait.pollNs - poll0);
    return -1;
  }
  countWait(hm, t.wait, now);
  return r;
}
