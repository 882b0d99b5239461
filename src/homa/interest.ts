/**
 * Hand-off of ready messages to app threads (homa_interest.c). A waiting thread registers
 * an interest on its socket — at the front of the waiter list (the kernel's list_add, LIFO) or
 * at the rear (`waiterQueue: fifo`) — under the socket lock. When SoftIRQ has packets for an
 * RPC whose PKTS_READY flag is clear, `rpcHandoff` (RPC lock held, then the socket lock) gives
 * the RPC to the waiter the thread-choice policy picks (Homa's homa_choose_interest: the first
 * waiter whose core had no NAPI/SoftIRQ activity for busy_usecs), publishes it in the thread's
 * interest word and wakes the thread (wake word, then the doorbell of its core); with nobody
 * waiting the RPC goes to the tail of the socket's ready list. With --wakeup-placement other
 * than `stay`, a chosen thread that is asleep may wake on another core (src/homa/migration.ts);
 * the hand-off stamps the destination app-active and rings it. All interests are shared ones:
 * the kernel's private interests (HOMA_SENDMSG_PRIVATE) are not emulated; a client thread that
 * waits for its own response owns its socket instead.
 */
import { TT_RPC_HANDOFF, TT_RPC_QUEUED } from '../metrics/timetrace.js';
import { waiterIndexOf, waiterInsert, waiterRemoveAt } from '../policy/interest.js';
import { PlacementMode } from '../policy/placement.js';
import { wakeThread, wakeupCore } from './migration.js';
import { HOMA_MAX_SOCKETS } from './layout.js';
import { LINE } from './layout.js';
import type { Homa } from './homa.js';
import { M } from './metrics.js';
import { UserError } from '../config/errors.js';
import { readyAppend } from './sock.js';
import { ASSERT, assert } from '../util/assert.js';

/** homa_rpc_handoff: RPC g has something for the app (RPC lock held). */
export function rpcHandoff(hm: Homa, g: number, now: number): void {
  if (hm.vc.virtual) { hm.vc.t += hm.vc.costs.handoff; now = hm.vc.t; }
  hm.rHandoffNs[g] = now; // SoftIRQ->app latency starts here (the app records it at pick-up)
  const sockG = hm.rSock[g]!;
  const s = sockG - hm.host * HOMA_MAX_SOCKETS;
  const sl = hm.socketLock(sockG);
  hm.locks.lock(sl);
  const n = hm.sNumWaiters[sockG]!;
  if (n > 0) {
    const cores = hm.waiterCoreViews[s]!;
    const migrate = hm.placement.mode !== PlacementMode.STAY;
    // The thread-choice policy stamps the chosen waiter's core app-active; keep the values from
    // before, so a thread that moves leaves its old core's stamp as it was.
    if (migrate) hm.placementScratch.set(hm.off.lastAppActiveNs);
    const i = hm.threadChoice.chooseInterest(cores, n, now, hm.off, hm.busyNs);
    if (!Number.isInteger(i) || i < 0 || i >= n) {
      hm.locks.unlock(sl);
      throw new UserError('EPOLICY', `thread-choice policy '${hm.threadChoice.name}': chose waiter ${String(i)} of ${n}; expected an index 0..${n - 1}`);
    }
    const idx = i;
    const t = waiterRemoveAt(hm.waiterViews[s]!, n, idx);
    const core = waiterRemoveAt(cores, n, idx);
    hm.sNumWaiters[sockG] = n - 1;
    if (ASSERT) assert(Atomics.load(hm.tRpc, t) === -1, 'rpc hand-off: the chosen waiter holds no handed-off RPC');
    Atomics.store(hm.tGen, t, hm.rGen[g]!);
    Atomics.store(hm.tRpc, t, g);
    hm.locks.unlock(sl);
    if (hm.tt !== null) hm.tt.record(hm.stamp(now), TT_RPC_HANDOFF, hm.rId[g]!, hm.sPort[sockG]!, 0, 0);
    hm.count(M.handoffs_thread_waiting);
    if (idx !== 0) hm.count(M.handoffs_alt_thread);
    // Only a thread really asleep may move (src/homa/migration.ts).
    const dest = migrate ? wakeupCore(hm, t, core, now) : core;
    hm.off.lastAppActiveNs[dest] = now;
    wakeThread(hm, t, hm.host * hm.cores + dest);
    return;
  }
  readyAppend(hm, sockG, g);
  hm.locks.unlock(sl);
  if (hm.tt !== null) hm.tt.record(hm.stamp(now), TT_RPC_QUEUED, hm.rId[g]!, hm.sPort[sockG]!, 0, 0);
  hm.count(M.ready_list_adds);
}

/**
 * Registers thread t (global index, running on host core `core`) as waiting on socket sockG
 * (socket lock held). Clears the thread's interest and wake word first, so a hand-off that
 * follows is never lost. Returns false if the waiter list is full (counted).
 */
export function registerInterest(hm: Homa, sockG: number, t: number, core: number): boolean {
  const s = sockG - hm.host * HOMA_MAX_SOCKETS;
  const n = hm.sNumWaiters[sockG]!;
  const order = hm.waiterFifo ? 'fifo' : 'lifo';
  Atomics.store(hm.tRpc, t, -1);
  Atomics.store(hm.tWake, t * LINE, 0);
  const n2 = waiterInsert(hm.waiterViews[s]!, n, t, order);
  if (n2 < 0) {
    hm.count(M.waiters_full);
    return false;
  }
  waiterInsert(hm.waiterCoreViews[s]!, n, core, order);
  hm.sNumWaiters[sockG] = n2;
  return true;
}

/** Removes thread t from socket sockG's waiters if it is there (takes the socket lock). */
export function cancelInterest(hm: Homa, sockG: number, t: number): void {
  const s = sockG - hm.host * HOMA_MAX_SOCKETS;
  const sl = hm.socketLock(sockG);
  hm.locks.lock(sl);
  const n = hm.sNumWaiters[sockG]!;
  const i = waiterIndexOf(hm.waiterViews[s]!, n, t);
  if (i >= 0) {
    waiterRemoveAt(hm.waiterViews[s]!, n, i);
    waiterRemoveAt(hm.waiterCoreViews[s]!, n, i);
    hm.sNumWaiters[sockG] = n - 1;
  }
  hm.locks.unlock(sl);
}
