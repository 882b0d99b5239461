/**
 * How an app thread waits for a message (homa_interest_wait): the kernel polls first, for
 * poll_usecs (50 µs), stamping last_app_active on each iteration, then sleeps on the interest's
 * wait queue until a hand-off wakes it. `WaitState` is that state machine driven by the caller
 * with `now` (so tests use a manual clock): `start` when the thread begins to wait, `poll` on
 * each polling iteration that found nothing, `ready` when the message is there. It classifies
 * each wait as Homa does (wait_none: ready before the first poll; wait_fast: arrived while
 * polling; wait_block: had to sleep) and accumulates polling and blocked time (poll_cycles,
 * blocked_cycles, in ns). Modes: 'poll-then-block' (the kernel), 'poll' (never sleep),
 * 'block' (sleep at the first empty poll, i.e. poll_usecs = 0).
 */

import { ConfigError } from '../config/errors.js';
import { WAIT_MODES, type WaitMode } from '../config/policy-names.js';

export { WAIT_MODES, type WaitMode } from '../config/policy-names.js';

/** The kernel's poll_usecs default, in ns. */
export const DEFAULT_POLL_NS = 50_000;

export const WaitPhase = { IDLE: 0, POLLING: 1, BLOCKED: 2 } as const;
export type WaitPhaseId = (typeof WaitPhase)[keyof typeof WaitPhase];

export type PollAnswer = 'keep-polling' | 'block';
export type WaitOutcome = 'none' | 'fast' | 'block';

/** One app thread's wait state and its counters (written only by the core running the thread). */
export class WaitState {
  readonly mode: WaitMode;
  /** How long to poll before blocking (poll_usecs in ns); 0 in 'block' mode, Infinity in 'poll' mode. */
  readonly pollLimitNs: number;
  phase: WaitPhaseId = WaitPhase.IDLE;
  /** When the current wait started / the thread went to sleep. */
  startNs = 0;
  blockStartNs = 0;
  /** Polling iterations of the current wait. */
  iterations = 0;

  /** Waits whose message was ready immediately (wait_none). */
  waitNone = 0;
  /** Waits whose message arrived while polling (wait_fast). */
  waitFast = 0;
  /** Waits that had to sleep (wait_block). */
  waitBlock = 0;
  /** Total time spent polling, ns (poll_cycles). */
  pollNs = 0;
  /** Total time spent asleep, ns (blocked_cycles). */
  blockedNs = 0;

  /** `pollUsecsNs`: poll_usecs in ns (used by 'poll-then-block' only). */
  constructor(mode: WaitMode = 'poll-then-block', pollUsecsNs = DEFAULT_POLL_NS) {
    if (!(WAIT_MODES as readonly string[]).includes(mode)) {
      throw new ConfigError('wait-mode', `one of ${WAIT_MODES.join(', ')}`, mode);
    }
    if (!(pollUsecsNs >= 0) || !Number.isFinite(pollUsecsNs)) {
      throw new ConfigError('poll-usecs', 'a time >= 0', pollUsecsNs / 1000);
    }
    this.mode = mode;
    this.pollLimitNs = mode === 'poll' ? Infinity : mode === 'block' ? 0 : pollUsecsNs;
  }

  /** The thread starts waiting (nothing was ready at the socket). */
  start(now: number): void {
    if (this.phase !== WaitPhase.IDLE) throw new Error('wait: start() while already waiting');
    this.phase = WaitPhase.POLLING;
    this.startNs = now;
    this.iterations = 0;
  }

  /**
   * One polling iteration found nothing. Returns 'block' once poll_usecs have passed since
   * `start` (the caller puts the thread to sleep; further calls keep answering 'block'), else
   * 'keep-polling' (the caller stamps last_app_active, as the kernel does). `didReap`: the
   * iteration reaped dead RPCs, so like the kernel it polls again without checking the deadline.
   */
  poll(now: number, didReap = false): PollAnswer {
    if (this.phase === WaitPhase.BLOCKED) return 'block';
    if (this.phase !== WaitPhase.POLLING) throw new Error('wait: poll() without start()');
    this.iterations++;
    if (didReap || now - this.startNs < this.pollLimitNs) return 'keep-polling';
    this.phase = WaitPhase.BLOCKED;
    this.blockStartNs = now;
    this.pollNs += now - this.startNs;
    return 'block';
  }

  /**
   * The message is there (found ready, or handed off and the thread woken). Ends the wait,
   * counts it and returns which kind it was: 'none' if no polling iteration had run, 'fast'
   * if it arrived while polling, 'block' if the thread had gone to sleep.
   */
  ready(now: number): WaitOutcome {
    const phase = this.phase;
    if (phase === WaitPhase.IDLE) throw new Error('wait: ready() without start()');
    this.phase = WaitPhase.IDLE;
    if (phase === WaitPhase.BLOCKED) {
      this.blockedNs += now - this.blockStartNs;
      this.waitBlock++;
      return 'block';
    }
    if (this.iterations === 0) {
      this.waitNone++;
      return 'none';
    }
    this.pollNs += now - this.startNs;
    this.waitFast++;
    return 'fast';
  }

  /** Ends a wait without a message (shutdown, abort); its time is counted, no outcome is. */
  abandon(now: number): void {
    if (this.phase === WaitPhase.BLOCKED) this.blockedNs += now - this.blockStartNs;
    else if (this.phase === WaitPhase.POLLING) this.pollNs += now - this.startNs;
    this.phase = WaitPhase.IDLE;
  }

  /** The counters under Homa's metric names (times in ns rather than cycles). */
  toMetrics(): { wait_none: number; wait_fast: number; wait_block: number; poll_ns: number; blocked_ns: number } {
    return { wait_none: this.waitNone, wait_fast: this.waitFast, wait_block: this.waitBlock, poll_ns: this.pollNs, blocked_ns: this.blockedNs };
  }
}
