/**
 * Thread choice and waiter queueing (homa_interest.c): when SoftIRQ makes a shared RPC ready
 * and app threads are waiting on the socket, which one gets it. The kernel registers a waiting
 * thread at the front of the socket's interest list (LIFO: reusing few threads keeps caches
 * warm) and `homa_choose_interest` walks the list from the front for the first thread whose
 * core showed no NAPI/SoftIRQ activity within busy_usecs, else takes the first; the chosen
 * core is then marked app-active so steering avoids it. These are pure functions over a
 * caller-owned Int32Array list and count, so the list can live anywhere (a socket's columns in
 * shared memory, a test array); nothing here allocates.
 */

import type { OffloadState } from './offload.js';
import type { ThreadChoicePolicy } from './types.js';
import { isThreadChoiceName, type ThreadChoiceName } from '../config/policy-names.js';

export { THREAD_CHOICE_NAMES, isThreadChoiceName, type ThreadChoiceName } from '../config/policy-names.js';
export type WaiterOrder = 'lifo' | 'fifo';

/** Hand-off counters of one SoftIRQ core (written only by that core). */
export class InterestStats {
  /** Hand-offs to a waiting thread (Homa metric handoffs_thread_waiting). */
  handoffsThreadWaiting = 0;
  /** Of those, hand-offs to a thread other than the first in the list (handoffs_alt_thread). */
  handoffsAltThread = 0;

  reset(): void {
    this.handoffsThreadWaiting = 0;
    this.handoffsAltThread = 0;
  }
}

/**
 * Chooses the waiter that gets a ready RPC, among `n` waiters whose cores are
 * `waiterCores[0..n-1]` (index 0 = front of the list). 'first': index 0. 'idle-core' (Homa's
 * homa_choose_interest): the first waiter whose core has last_active < now - busyNs, else 0.
 * Like the kernel, it then sets the chosen core's last_app_active = now and counts the
 * hand-off in `stats` when given. Returns the index, or -1 when n = 0 (nobody waits: the
 * caller queues the RPC on the socket's ready list instead).
 */
export function chooseInterest(waiterCores: Int32Array, n: number, now: number, st: OffloadState, busyNs: number,
  mode: ThreadChoiceName, stats?: InterestStats): number {
  if (n <= 0) return -1;
  let chosen = 0;
  if (mode === 'idle-core') {
    const busySince = now - busyNs;
    for (let i = 0; i < n; i++) {
      if (st.lastActiveNs[waiterCores[i]!]! < busySince) {
        chosen = i;
        break;
      }
    }
  }
  st.lastAppActiveNs[waiterCores[chosen]!] = now;
  if (stats !== undefined) {
    stats.handoffsThreadWaiting++;
    if (chosen !== 0) stats.handoffsAltThread++;
  }
  return chosen;
}

class BuiltinThreadChoice implements ThreadChoicePolicy {
  constructor(readonly name: ThreadChoiceName, readonly stats: InterestStats) {}
  chooseInterest(waiterCores: Int32Array, n: number, now: number, st: OffloadState, busyNs: number): number {
    return chooseInterest(waiterCores, n, now, st, busyNs, this.name, this.stats);
  }
}

/** Built-in thread choice `name` as a `ThreadChoicePolicy` (one instance per SoftIRQ core). */
export function createThreadChoicePolicy(name: ThreadChoiceName, stats: InterestStats = new InterestStats()):
  ThreadChoicePolicy & { readonly name: ThreadChoiceName; readonly stats: InterestStats } {
  if (!isThreadChoiceName(name)) throw new Error(`interest: no built-in thread choice '${String(name)}'`);
  return new BuiltinThreadChoice(name, stats);
}

/**
 * Inserts `value` into `list[0..n-1]`: at the front for 'lifo' (the kernel's list_add), at the
 * rear for 'fifo'. Returns the new count, or -1 if the list is full (n = list.length; nothing
 * changes). Keep a parallel list of waiter cores by inserting with the same order.
 */
export function waiterInsert(list: Int32Array, n: number, value: number, order: WaiterOrder): number {
  if (n >= list.length) return -1;
  if (order === 'lifo') {
    list.copyWithin(1, 0, n);
    list[0] = value;
  } else {
    list[n] = value;
  }
  return n + 1;
}

/** Removes the entry at `index` (0..n-1) from `list[0..n-1]`, keeping the order of the rest; returns it. The count becomes n - 1. */
export function waiterRemoveAt(list: Int32Array, n: number, index: number): number {
  if (index < 0 || index >= n) throw new RangeError(`interest: index ${index} outside the ${n} waiters`);
  const value = list[index]!;
  list.copyWithin(index, index + 1, n);
  list[n - 1] = -1;
  return value;
}

/** Index of `value` in `list[0..n-1]`, or -1 (a thread that stops waiting finds itself). */
export function waiterIndexOf(list: Int32Array, n: number, value: number): number {
  for (let i = 0; i < n; i++) if (list[i] === value) return i;
  return -1;
}
