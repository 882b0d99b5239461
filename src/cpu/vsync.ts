/**
 * Virtual time's clocks and their conservative synchronisation (docs/DESIGN.md, "Time"). Each
 * worker (emulated core or fabric) keeps its own virtual clock, `VClock.t` in ns, advanced by
 * the modelled cost of the work it does. To keep causality without a barrier, every worker
 * publishes a *bound*: a lower bound on the virtual time of anything it can still do (its next
 * event: a stamped item in one of its rings, a timer, a thread's wake-up; +Infinity when it has
 * nothing). A worker runs an event at time t only while t <= W + the smallest bound of the
 * others (W = `--sync-window-ns`; with `--deterministic`, W = 0 and ties go to the lower worker
 * id, so workers take turns in virtual-time order). A worker that pushes a stamped item into
 * another's ring lowers that worker's bound to the stamp *after* the push and before its own
 * bound can move past it (`lower`), so the minimum can never pass an item in flight; the owner
 * folds lowered values into its bound before it recomputes (`absorb`); a pusher wakes it only
 * if it could run the item now, else leaves that to whoever makes it the minimum (`lowerDue`).
 * Idle workers publish +Infinity and drop out of the minimum, so when every core waits the
 * cluster jumps straight to the next event. A blocked worker says so; a worker that raises its
 * bound rings the waiters that may run now.
 *
 * Shared words per worker, each on its own cache line: `bound`, `lowered` and `clock` (Float64;
 * written plainly: 8-byte aligned doubles are not torn by V8 on 64-bit hosts, and the mini-lock
 * below orders the only read-modify-write), `lock` (Int32 mini-lock over `lowered`) and
 * `blockedOn` (the worker this one waits for, -1 if it does not wait); one extra line holds the
 * deterministic turn token, the number of waiting workers and the lowering epoch.
 */
import { LayoutBuilder, column, type LayoutDesc } from '../shm/layout.js';
import type { Costs } from '../config/cost-profile.js';

/** Float64 / Int32 stride between workers' words: one 64-byte line each. */
const F_STRIDE = 8;
const I_STRIDE = 16;

/** One worker's clock and costs (a plain object owned by its worker; hot paths read fields). */
export class VClock {
  /** Virtual now, ns. In wall mode the core loop sets it to the wall clock before each unit. */
  t = 0;
  /** End of the last jump over idle or busy-polling time: an item stamped before it arrived late (fidelity monitor). */
  idleEnd = -Infinity;
  lateItems = 0;
  lateNs = 0;
  lateMaxNs = 0;
  constructor(readonly virtual: boolean, readonly costs: Costs) {}
  /** Charges `ns` of modelled CPU to this core (a no-op amount in wall mode, whose costs are 0). */
  charge(ns: number): void {
    this.t += ns;
  }
  /** A core found its next event `ns` earlier than the bound it had published (see the virtual loop). */
  lateBound(ns: number): void {
    this.lateItems++;
    this.lateNs += ns;
    if (ns > this.lateMaxNs) this.lateMaxNs = ns;
  }
  /**
   * A consumer took an item stamped `stampNs`: returns the time it starts on it, max(clock,
   * stamp), moving the clock there. An item stamped before the end of a jump this core already
   * made over idle (or busy-polling) time came too late to be handled at its stamp: counted
   * with how late at most.
   */
  take(stampNs: number): number {
    if (stampNs < this.idleEnd) {
      const e = this.idleEnd - stampNs;
      this.lateItems++;
      this.lateNs += e;
      if (e > this.lateMaxNs) this.lateMaxNs = e;
    }
    if (this.virtual && stampNs > this.t) this.t = stampNs;
    return this.t;
  }
}

export function vsyncLayout(workers: number): LayoutDesc {
  return new LayoutBuilder()
    .add('bound', 'f64', workers * F_STRIDE)
    .add('lowered', 'f64', workers * F_STRIDE)
    .add('clock', 'f64', workers * F_STRIDE)
    .add('words', 'i32', (workers + 1) * I_STRIDE)
    .build();
}

const W_LOCK = 0;
const W_BLOCKED_ON = 2;
/**
 * In the extra line after the workers': [0] the deterministic turn token, [1] how many workers
 * wait, [2] how many workers sleep on the turn token.
 */
const W_ANY_WAITERS = 1;
const W_TURN_SLEEPERS = 2;
/** [3]: the lowering epoch: +1 after every `lower` that lowered something (see `othersMin`). */
const W_EPOCH = 3;
/** CAS attempts on a held turn token before sleeping on it (deterministic mode). */
const TURN_SPINS = 200;

/** Main thread, before workers start: every bound 0 (nobody may run ahead of time 0), nothing lowered. */
export function initVsync(sab: SharedArrayBuffer, desc: LayoutDesc, workers: number): void {
  const bound = column(sab, desc, 'bound', 'f64');
  const lowered = column(sab, desc, 'lowered', 'f64');
  const words = column(sab, desc, 'words', 'i32');
  for (let w = 0; w < workers; w++) {
    bound[w * F_STRIDE] = 0;
    lowered[w * F_STRIDE] = Infinity;
    words[w * I_STRIDE + W_BLOCKED_ON] = -1;
  }
}

/** Reads every worker's bound (main thread: progress and the end of an interrupted run). */
export function readBounds(sab: SharedArrayBuffer, desc: LayoutDesc, workers: number): Float64Array {
  const bound = column(sab, desc, 'bound', 'f64');
  const lowered = column(sab, desc, 'lowered', 'f64');
  const out = new Float64Array(workers);
  for (let w = 0; w < workers; w++) {
    const l = lowered[w * F_STRIDE]!; // first: see `VSync.boundOf`
    const b = bound[w * F_STRIDE]!;
    out[w] = l < b ? l : b;
  }
  return out;
}

export class VSync {
  private readonly bound: Float64Array;
  private readonly lowered: Float64Array;
  private readonly clock: Float64Array;
  private readonly words: Int32Array;
  /** Whom the last `othersMin` found holding the minimum. */
  argmin = -1;
  /**
   * The others' minimum at the last scan. It can only rise: every bound only rises, and another
   * worker lowers a bound only to a stamp at or after its own bound; only this worker's own
   * `lower` can bring it down, and lowers this floor with it. So `mayRun` skips the scan of
   * every worker's line while the event fits under it (a batch of units per scan).
   */
  private othersFloor = -Infinity;

  constructor(sab: SharedArrayBuffer, desc: LayoutDesc, readonly workers: number, readonly me: number,
    readonly windowNs: number, readonly deterministic: boolean) {
    this.bound = column(sab, desc, 'bound', 'f64');
    this.lowered = column(sab, desc, 'lowered', 'f64');
    this.clock = column(sab, desc, 'clock', 'f64');
    this.words = column(sab, desc, 'words', 'i32');
  }

  /**
   * Shares this worker's clock (each pass, before it may wait): pushers never lower its bound
   * below it (`lower`). Only rises, so a stale read is lower: still a valid bound.
   */
  shareClock(t: number): void {
    this.clock[this.me * F_STRIDE] = t;
  }

  /** The earliest `w` can start an item stamped `t`: `w` starts nothing before its shared clock (0 if it shares none). */
  private startOf(w: number, t: number): number {
    const c = this.clock[w * F_STRIDE]!;
    return c > t ? c : t;
  }

  private lockOf(w: number): void {
    const i = w * I_STRIDE + W_LOCK;
    while (Atomics.compareExchange(this.words, i, 0, 1) !== 0) { /* held for a few ns */ }
  }

  private unlockOf(w: number): void {
    Atomics.store(this.words, w * I_STRIDE + W_LOCK, 0);
  }

  /**
   * A pusher, after making a stamped item visible to worker `w`: `w`'s bound is at most `t` until
   * `w` has absorbed it; never below `w`'s shared clock (`startOf`), so a core whose clock ran
   * past the window on a long unit is not made the minimum by an item it can only take later.
   * Cheap when a value at most `t` already waits to be absorbed (`w` will recompute from its
   * inputs, which include this item, before its bound can rise).
   */
  lower(w: number, t: number): void {
    if (w === this.me) return;
    t = this.startOf(w, t);
    if (t < this.othersFloor) this.othersFloor = t;
    const fi = w * F_STRIDE;
    if (this.lowered[fi]! <= t) return;
    this.lockOf(w);
    if (t < this.lowered[fi]!) this.lowered[fi] = t;
    this.unlockOf(w);
    // After the store: a scan that started before it and read `w` first sees the epoch move.
    Atomics.add(this.words, this.workers * I_STRIDE + W_EPOCH, 1);
  }

  /**
   * `lower`, then: should the pusher wake `w` now? Not when `w` is registered as waiting and
   * max(t, w's clock) lies beyond W + the smallest bound of the others (this worker's included:
   * in the middle of a pass its clock may be well past the bound it published): `w` could not
   * run it yet, and the worker whose rise makes `w` the minimum rings it then (`publish`; the
   * park's timeout backs this up). Waking it now would only make it recompute and park again, a
   * futex round trip each, the costliest thing on a host with fewer CPUs than workers.
   */
  lowerDue(w: number, t: number): boolean {
    this.lower(w, t);
    if (this.deterministic || w === this.me || Atomics.load(this.words, w * I_STRIDE + W_BLOCKED_ON) < 0) return true;
    t = this.startOf(w, t);
    let m = Infinity;
    for (let v = 0; v < this.workers; v++) {
      if (v === w) continue;
      const b = this.boundOf(v);
      if (b < m) m = b;
    }
    return t <= m + this.windowNs;
  }

  /**
   * The owner, before it recomputes its next event: folds what pushers lowered into its bound
   * (so the minimum never rises past an item in flight) and returns the lowest lowered value
   * (Infinity if none).
   */
  absorb(): number {
    const fi = this.me * F_STRIDE;
    if (this.lowered[fi] === Infinity) return Infinity;
    this.lockOf(this.me);
    const l = this.lowered[fi]!;
    // `bound` before clearing `lowered`: readers read them the other way round (boundOf).
    if (l < this.bound[fi]!) this.bound[fi] = l;
    this.lowered[fi] = Infinity;
    this.unlockOf(this.me);
    return l;
  }

  /** Has anybody lowered this worker's bound since the last `absorb`? */
  wasLowered(): boolean {
    return this.lowered[this.me * F_STRIDE] !== Infinity;
  }

  /**
   * Publishes this worker's bound `t` (call `absorb` first and compute `t` from the inputs after
   * it). When the bound rises and workers are waiting, hands the CPU on: rings only the waiters
   * that hold the new minimum (in deterministic mode the one that holds it, ties to the lower
   * id). Those can run the longest before the window stops them; a waiter merely within W of
   * the minimum would run a unit or two and park again, and on a host with fewer CPUs than
   * workers every such wake-up costs a futex round trip. A waiter that spins (the awake workers
   * fit the host's CPUs) does not need a ring: it sees the rise itself.
   */
  publish(t: number, ring: (w: number) => void): void {
    const fi = this.me * F_STRIDE;
    const old = this.bound[fi]!;
    this.bound[fi] = t;
    // A locked RMW: orders the store above before the reads below (a waiter registers, then reads bounds).
    if (!(t > old) || Atomics.add(this.words, this.workers * I_STRIDE + W_ANY_WAITERS, 0) === 0) return;
    let m = Infinity;
    let arg = -1;
    for (let w = 0; w < this.workers; w++) {
      const b = this.boundOf(w);
      if (b < m) { m = b; arg = w; }
    }
    for (let w = 0; w < this.workers; w++) {
      if (w === this.me || Atomics.load(this.words, w * I_STRIDE + W_BLOCKED_ON) < 0) continue;
      if (this.deterministic ? w === arg : this.boundOf(w) <= m) ring(w);
    }
  }

  /**
   * Worker `w`'s bound as others see it (lowered values included). `lowered` is read *before*
   * `bound`: `absorb` writes the lowered value into `bound` and only then clears `lowered`, so
   * a reader that finds `lowered` cleared finds the new `bound` too (x86 keeps stores, and
   * loads, in program order; V8 keeps typed-array accesses in order). Read the other way round,
   * a reader could take the old `bound` and the cleared `lowered`, and let the minimum pass an
   * item in flight: a parallel run of the unloaded 100 B echo then saw a core jump 40 us past a
   * packet it had not yet been handed, about one run in ten.
   */
  boundOf(w: number): number {
    const fi = w * F_STRIDE;
    const l = this.lowered[fi]!;
    const b = this.bound[fi]!;
    return l < b ? l : b;
  }

  /** This worker's published bound. */
  myBound(): number {
    return this.bound[this.me * F_STRIDE]!;
  }

  /**
   * The smallest bound of the other workers (Infinity if all are idle), remembering who holds it
   * in `argmin` (the lowest id among equals). The workers are read one after the other, so an
   * item can move during the scan from a worker not yet read (which then raises its bound) to
   * one already read (lowered): the scan would miss it. Every `lower` moves the lowering epoch
   * after its store and before the pusher can raise its own bound, so a scan that saw no move
   * of the epoch saw every item somewhere; otherwise it scans again. (Without this, a parallel
   * run of the unloaded 100 B echo let a polling core jump ~40 us past a reply the fabric was
   * handing over, about one run in twenty.)
   */
  othersMin(): number {
    const e = this.workers * I_STRIDE + W_EPOCH;
    for (;;) {
      const before = Atomics.load(this.words, e);
      const m = this.scanOthers();
      if (Atomics.load(this.words, e) === before) return m;
    }
  }

  /** One pass over the other workers' bounds (protected: a test interleaves a move into it). */
  protected scanOthers(): number {
    let m = Infinity;
    let arg = -1;
    for (let w = 0; w < this.workers; w++) {
      if (w === this.me) continue;
      const b = this.boundOf(w);
      if (b < m) { m = b; arg = w; }
    }
    this.argmin = arg;
    return m;
  }

  /**
   * May this worker run an event at virtual time `t` now? Yes while t <= W + the others' minimum;
   * in deterministic mode only when it holds the minimum (ties to the lower id).
   */
  mayRun(t: number): boolean {
    if (!this.deterministic && t <= this.othersFloor + this.windowNs) return true;
    const m = this.othersMin();
    this.othersFloor = m;
    if (!this.deterministic) return t <= m + this.windowNs;
    return t < m || (t === m && this.me < this.argmin);
  }

  /**
   * Deterministic mode: one worker at a time computes its next event and runs it (a CAS token on
   * its own line), so what any worker sees in its rings and locks is fixed by the virtual-time
   * order alone, never by how the host interleaves the threads.
   */
  acquireTurn(stop: () => boolean): boolean {
    const i = this.workers * I_STRIDE;
    let spins = 0;
    for (;;) {
      const held = Atomics.compareExchange(this.words, i, 0, this.me + 1);
      if (held === 0) return true;
      if (stop()) return false; // the holder may have failed: never wait past a stop
      // The holder may have lost its CPU (more workers than host CPUs): sleep on the token
      // instead of spinning on it, so the holder gets a CPU to finish its turn.
      if (++spins < TURN_SPINS) continue;
      Atomics.add(this.words, i + W_TURN_SLEEPERS, 1);
      Atomics.wait(this.words, i, held, 1);
      Atomics.sub(this.words, i + W_TURN_SLEEPERS, 1);
    }
  }

  releaseTurn(): void {
    const i = this.workers * I_STRIDE;
    Atomics.store(this.words, i, 0);
    // Both sides use sequentially consistent atomics: a sleeper that registered after this load
    // finds the token free (not equal to the holder it waits on) and does not sleep.
    if (Atomics.load(this.words, i + W_TURN_SLEEPERS) > 0) Atomics.notify(this.words, i, 1);
  }

  /** Marks this worker as waiting (for `argmin`, kept for diagnostics) so that a rising bound rings it when it may run. */
  block(on: number): void {
    const i = this.me * I_STRIDE + W_BLOCKED_ON;
    const prev = Atomics.load(this.words, i);
    if (prev === on) return;
    const any = this.workers * I_STRIDE + W_ANY_WAITERS;
    if (prev < 0 && on >= 0) Atomics.add(this.words, any, 1);
    else if (prev >= 0 && on < 0) Atomics.sub(this.words, any, 1);
    Atomics.store(this.words, i, on < 0 ? -1 : on);
  }

  unblock(): void {
    this.block(-1);
  }

  /** Leaving for good: never again the minimum (so nobody waits on a finished worker). */
  retire(ring: (w: number) => void): void {
    this.unblock();
    this.absorb();
    this.publish(Infinity, ring);
  }
}
