/**
 * Thread migration on wake-up (--wakeup-placement other than `stay`), both halves in one place.
 * The kernel side: `wakeupCore`, called by the hand-off (src/homa/interest.ts) for the thread it
 * chose, lets a thread that is really asleep (thr.parked 1, claimed 1 -> 0 by compare-exchange so
 * no replica runs it meanwhile) wake on the core `placeWakeup` picks, storing the new owner
 * (thr.owner) before the caller writes the wake word; a thread still polling wakes where it is.
 * The app side: `WakeSeat`, each core's replica of such a thread (a JS object cannot move between
 * worker threads, so the thread's identity moves instead).
 */
import { AppState } from '../cpu/context.js';
import { placeWakeup } from '../policy/placement.js';
import { WaitPhase, type WaitState } from '../policy/wait.js';
import { LINE } from './layout.js';
import type { Homa } from './homa.js';
import { M } from './metrics.js';

/**
 * The core thread `t`, chosen by a hand-off while it waited on `core`, wakes on. Call with the
 * app-active stamps of before the thread-choice policy ran in `hm.placementScratch`.
 */
export function wakeupCore(hm: Homa, t: number, core: number, now: number): number {
  if (Atomics.compareExchange(hm.tParked, t, 1, 0) !== 1) return core;
  hm.off.lastAppActiveNs[core] = hm.placementScratch[core]!;
  const dest = placeWakeup(hm.placement, core, now, hm.off, hm.busyNs, hm.placementRng);
  if (dest !== core) {
    Atomics.store(hm.tOwner, t, dest); // before the wake word: whoever sees the wake sees the owner
    hm.count(M.wakeup_migrations);
  }
  return dest;
}

/**
 * One core's seat for its replica of a thread that may wake on another core (--wakeup-placement
 * other than `stay`; `wakeupCore` below moves it). A JS object cannot move between worker
 * threads, so every core of the host holds a replica and the thread's identity moves: the
 * replica on core `thr.owner[t]` runs it, the others read as ELSEWHERE. Going to sleep, the
 * running replica stores when it slept (`thr.sleptNs`) and then `thr.parked = 1`, which lets a
 * hand-off claim the sleeping thread and move it. Waking, a replica whose core is no longer
 * the owner passes the wake word on to the owner (it consumed a wake addressed there); the
 * owner clears `parked` and, at its next step, continues the wait as a blocked one that began
 * when the thread went to sleep (wherever that was), with fresh local wait state otherwise:
 * the thread only moves while asleep in recvmsg, so there is no per-message state to carry, and
 * `homaRecv` finds the handed-off RPC in `thr.rpc`.
 */
export class WakeSeat {
  /** Set by a wake on this core; the next step continues the wait (`resume`). */
  resumed = false;

  constructor(private readonly hm: Homa, readonly t: number) {}

  /** The state the core loop sees: the replica's own, or ELSEWHERE while another core runs the thread. */
  view(st: number): number {
    return Atomics.load(this.hm.tOwner, this.t) === this.hm.core ? st : AppState.ELSEWHERE;
  }

  /** The replica's local state after `from` -> `to` (`wait` is the replica's wait state). */
  change(from: number, to: number, wait: WaitState): number {
    const hm = this.hm;
    const t = this.t;
    if (to === AppState.BLOCKED) {
      if (from !== AppState.BLOCKED) {
        hm.tSleptNs[t] = wait.blockStartNs;
        Atomics.store(hm.tParked, t, 1);
      }
      return to;
    }
    if (from === AppState.BLOCKED && to === AppState.RUNNABLE) {
      const owner = Atomics.load(hm.tOwner, t);
      if (owner !== hm.core) {
        // The hand-off moved the thread after this core looked at the owner: the wake is the new owner's.
        // It keeps the stamp of the wake-up it passes on (tWakeNs is not rewritten).
        Atomics.store(hm.tWake, t * LINE, 1);
        if (hm.doorbells !== null) hm.doorbells.ring(hm.host * hm.cores + owner);
        return AppState.BLOCKED;
      }
      Atomics.store(hm.tParked, t, 0);
      this.resumed = true;
    }
    return to;
  }

  /** First step after a wake: the wait is a blocked one since the thread went to sleep. */
  resume(wait: WaitState): void {
    this.resumed = false;
    const slept = this.hm.tSleptNs[this.t]!;
    if (wait.phase !== WaitPhase.BLOCKED) {
      wait.phase = WaitPhase.BLOCKED;
      wait.startNs = slept;
      wait.iterations = 1;
    }
    wait.blockStartNs = slept;
  }
}

/**
 * Wakes app thread `t` of this host, which runs on global core `gcore`: the wake-up's stamp (the
 * waker's virtual time, visible before the word: Atomics.store orders it), the wake word, then
 * the doorbell.
 */
export function wakeThread(hm: Homa, t: number, gcore: number): void {
  hm.tWakeNs[t] = hm.vc.t;
  Atomics.store(hm.tWake, t * LINE, 1);
  if (hm.doorbells !== null) hm.doorbells.ring(gcore);
}
