/**
 * What runs on an emulated core. A core worker runs, in priority order on every pass, the
 * kernel contexts registered on it (NAPI/GRO for its RX channels, SoftIRQ for its backlog, the
 * kernel threads placed on it: pacer, timer) and then its cooperative app threads. Each
 * `run(now)` does a bounded amount of work and returns how much it did (0 = nothing to do), so
 * the loop can charge the elapsed time to the context's role and decide when the core is idle.
 * Contexts receive `now` (ns on the shared clock, read once per pass) and never block.
 */

/** Roles a core's time is charged to (indices into per-core time columns). */
export const Role = {
  NAPI: 0,
  SOFTIRQ: 1,
  /** SoftIRQ work done inline by the GRO core (short-message and grant bypass). */
  BYPASS: 2,
  PACER: 3,
  TIMER: 4,
  APP: 5,
  /** The core found nothing to do (polling or parked). */
  IDLE: 6,
  /** The host OS did not run this worker (detected gaps in the loop). */
  STOLEN: 7,
  /** An injected fault: the core was stalled on purpose. */
  STALL: 8,
  /** Other kernel-thread work (selftest pipeline, reaping). */
  KTHREAD: 9,
} as const;
export type RoleId = (typeof Role)[keyof typeof Role];
export const ROLE_NAMES = ['napi', 'softirq', 'bypass', 'pacer', 'timer', 'app', 'idle', 'stolen', 'stall', 'kthread'] as const;
export const NUM_ROLES = ROLE_NAMES.length;

/** Per-core time accounting, owned by the core (plain writes). */
export interface CoreAccount {
  /** ns charged to each role during the measured window. */
  readonly roleNs: Float64Array;
  /**
   * Moves `ns` already charged (or about to be charged) to the running context's role over to
   * `toRole`: e.g. NAPI measures the bypass it ran inline and moves it to BYPASS.
   */
  move(fromRole: RoleId, toRole: RoleId, ns: number): void;
}

export interface KernelContext {
  readonly role: RoleId;
  readonly name: string;
  /** Does a bounded amount of work; returns the amount done (0 if there was nothing). */
  run(now: number, acct: CoreAccount): number;
  /** Cheap check used before parking: is there work right now? (Atomics loads only.) */
  hasWork(): boolean;
  /**
   * Virtual time: when this context next has work (<= now: due now; Infinity: nothing until
   * another core hands it something), from the stamps of what waits in its rings or its own
   * schedule. Without it the core assumes `hasWork() ? now : Infinity`.
   */
  nextNs?(now: number): number;
}

/**
 * States of an app thread as its core sees them. ELSEWHERE: this object is one core's replica
 * of a thread that migrates on wake-up (--wakeup-placement) and another core of the host runs
 * the thread now; the core loop never steps it, never wakes it and does not count it as active.
 */
export const AppState = { RUNNABLE: 0, BLOCKED: 1, DONE: 2, ELSEWHERE: 3 } as const;

/**
 * A cooperative app thread: a state machine stepped by the core it lives on. Long work (a
 * server's service time) is split into short steps so NAPI/SoftIRQ on the same core preempt it.
 * A BLOCKED thread is woken by another core through `wakeWord` (shared Int32, set to non-zero,
 * then the core's doorbell is rung); the scheduler checks wake words of blocked threads. A
 * thread that may migrate exists as a replica on every core of its host and `state` is a getter
 * that answers ELSEWHERE on every core but its current owner (src/workload/cp-node.ts).
 */
export interface AppThread {
  readonly name: string;
  state: number;
  /** Shared Int32Array and index of this thread's wake word. */
  readonly wakeWords: Int32Array;
  readonly wakeIndex: number;
  /** Runs until it yields, blocks or has used `sliceNs`; returns work done (0 = only polled). */
  step(now: number, sliceNs: number): number;
  /**
   * Virtual time: when this thread next wants the CPU (a stamped hand-off plus the wake-up
   * latency, its next scheduled send, the end of its polling). Without it: now if RUNNABLE, now
   * if BLOCKED with its wake word set, else Infinity. A RUNNABLE thread waiting for a later time
   * is busy-polling: the core's time until then is app time, not idle.
   */
  nextNs?(now: number): number;
}

/** What the core loop records into a core's time trace (src/metrics/timetrace.ts implements it). */
export interface CoreTrace {
  /** A unit of work in role `role` ran on this core from `startNs` to `endNs` (the loop's clock). */
  unit(startNs: number, endNs: number, role: number): void;
  /** The core had nothing to do from `startNs` to `endNs`. */
  idle(startNs: number, endNs: number): void;
}
