/**
 * Wake-up placement of app threads (--wakeup-placement): on which core of its host a thread
 * that slept in recvmsg runs when a hand-off wakes it. Linux's scheduler may wake a task on
 * another CPU than the one it slept on (select_task_rq: the previous CPU, an idle sibling, or a
 * less loaded one), so an app thread can land on a core busy with NAPI/SoftIRQ work — the
 * collision Homa's thread choice and Gen3 steering try to avoid. Modes: `stay` (wake where it
 * slept: pinned threads, the default), `move:P` (with probability P, seeded, move to a core
 * drawn uniformly among the host's OTHER cores), `least-busy` (the core whose most recent
 * activity, max(last_active, last_app_active), is oldest; ties to the lowest index) and `idle`
 * (the first core after the previous one, wrapping, with neither NAPI/SoftIRQ nor app activity
 * within busy_usecs; none: stay). `placeWakeup` is a pure decision over the host's offload
 * state with `now` and the random stream passed in, so tests drive it with a fake state, a
 * manual clock and a fixed seed; it allocates nothing.
 */

import type { OffloadState } from './offload.js';
import { PlacementMode, type WakeupPlacement } from '../config/wakeup-placement.js';

export {
  PlacementMode, WAKEUP_PLACEMENT_FORMS, parseWakeupPlacement, type PlacementModeId, type WakeupPlacement,
} from '../config/wakeup-placement.js';

/** The random stream a placement draws from (src/util/rng.ts's `Rng` has these). */
export interface PlacementRng {
  /** Uniform in [0, 1). */
  nextFloat(): number;
  /** Uniform integer in [0, n). */
  nextBelow(n: number): number;
}

/**
 * The core (0..st.numCores-1) on which a thread that slept on core `from` wakes at `now`.
 * `busyNs`: busy_usecs in ns ('idle' mode: a core with any activity at or after now - busyNs
 * is busy). `rng` is drawn from only by move:P (one float per call, plus one index when it
 * moves). A host with one core always stays.
 */
export function placeWakeup(p: WakeupPlacement, from: number, now: number, st: OffloadState, busyNs: number,
  rng: PlacementRng): number {
  const n = st.numCores;
  switch (p.mode) {
    case PlacementMode.MOVE: {
      if (n < 2 || rng.nextFloat() >= p.moveProb) return from;
      const other = rng.nextBelow(n - 1);
      return other >= from ? other + 1 : other;
    }
    case PlacementMode.LEAST_BUSY: {
      let best = 0;
      let bestNs = Infinity;
      for (let c = 0; c < n; c++) {
        const a = st.lastActiveNs[c]!;
        const b = st.lastAppActiveNs[c]!;
        const recent = a > b ? a : b;
        if (recent < bestNs) {
          bestNs = recent;
          best = c;
        }
      }
      return best;
    }
    case PlacementMode.IDLE: {
      const busySince = now - busyNs;
      let c = from;
      for (let i = 1; i < n; i++) {
        c = c + 1 < n ? c + 1 : 0;
        if (st.lastActiveNs[c]! < busySince && st.lastAppActiveNs[c]! < busySince) return c;
      }
      return from;
    }
    default:
      return from;
  }
}
