/**
 * The loop of one emulated core in virtual time (`--clock virtual`, docs/DESIGN.md "Time"). The
 * core's clock (`VClock.t`) moves only by the modelled cost of the work it runs and by jumps to
 * its next event; the host's wall clock never decides anything. Each pass: fold in what other
 * workers pushed (`VSync.absorb`), find the earliest event among the contexts (the stamp at the
 * head of an RX channel or backlog ring, the timer's next tick, ...), the app threads (a
 * stamped hand-off, a Poisson send time, a poll deadline) and injected stalls; publish it as
 * this core's bound; wait (spin while the awake workers fit the host's CPUs, else park) until
 * no other worker can still produce anything earlier than it minus the window; jump to it
 * (the gap is idle time, or app time when a runnable thread is busy-polling); then run, in
 * kernel priority order, every context and app thread that is due. Interrupt-level work runs
 * before app work at each pass and app work is charged in slices, so a packet arriving during
 * a long service time is handled at its stamp and delays the app, not the other way round.
 * The measured window starts when the clock passes the warm-up (one emulated instant on every
 * core) and the core leaves when every worker's bound has reached the end of the window. The
 * fidelity monitor counts items that arrived stamped before the end of a jump this core had
 * already made (possible only within the window W): how many, and by how much at most.
 */
import type { EmuConfig } from '../config/config.js';
import type { Doorbells } from '../shm/doorbell.js';
import type { LockTable } from '../shm/lock.js';
import { AppState, Role, type AppThread, type CoreAccount, type CoreTrace, type KernelContext, type RoleId } from './context.js';
import { CoreStat, CORE_STAT_FIELDS, Ctl, Phase } from './control.js';
import type { StallSchedule } from './faults.js';
import { countActive } from './core-loop.js';
import type { VClock, VSync } from './vsync.js';

export interface VirtualLoopEnv {
  readonly cfg: EmuConfig;
  readonly globalCore: number;
  readonly ctl: Int32Array;
  readonly coreStats: Float64Array;
  readonly doorbells: Doorbells;
  readonly locks: LockTable | null;
  readonly stalls: StallSchedule | null;
  readonly vc: VClock;
  readonly sync: VSync;
  /** Start and end of the measured window, emulated ns. */
  readonly warmupNs: number;
  readonly endNs: number;
  /** Host CPUs: a blocked worker spins only while the awake workers fit them. */
  readonly hostCpus: number;
  readonly appsPreCounted?: boolean;
  readonly appsPreCountedN?: number;
  /** Charge the real time (x --cost-scale) of a unit of work that charged nothing (worlds without a cost model). */
  readonly measureUncharged?: boolean;
  /**
   * Whether this worker starts every item at max(its clock, the stamp), so that pushers may
   * never lower its bound below its clock (`VSync.shareClock`). Not the fabric: it replays
   * each packet at its own stamp, behind its clock.
   */
  readonly shareClock?: boolean;
  /** Test hook: random wall-clock sleeps in this loop (host independence tests). */
  readonly jitter?: { seed: number; maxMs: number; every: number } | null;
  onMeasureStart?(now: number): void;
  /** Time trace (--tt/--trace): units of work and idle gaps are recorded into it. */
  readonly trace?: CoreTrace | null;
}

/**
 * Passes a blocked worker spins before parking (when spinning is allowed at all): a microsecond
 * or two, enough for a minimum holder in the middle of a short unit. Longer spins lost on this
 * 2-CPU host (bench/RESULTS.md): 200 passes made the virtual bench 10-25% slower than 0-50, as a
 * spinner holds a CPU that a woken worker, or another process, is waiting for.
 */
const SPIN_PASSES = 20;
/** Longest real park of a blocked or idle worker before it re-checks, ms. */
const PARK_MS = 2;
/** A pass that did nothing at a due time moves the clock this far (a context that claimed work it did not do). */
const STUCK_STEP_NS = 10;

class Account implements CoreAccount {
  constructor(readonly roleNs: Float64Array) {}
  move(fromRole: RoleId, toRole: RoleId, ns: number): void {
    this.roleNs[fromRole]! -= ns;
    this.roleNs[toRole]! += ns;
  }
}

/**
 * When a context wants to run next: its own answer, else (a context that stamps nothing) when it
 * has work, no earlier than `floor`, the latest time another core handed this one something.
 */
function ctxNext(c: KernelContext, now: number, floor: number): number {
  if (c.nextNs !== undefined) return c.nextNs(now);
  return c.hasWork() ? (floor > now ? floor : now) : Infinity;
}

/** When an app thread wants to run next (ELSEWHERE and DONE threads: never); `floor` as for contexts. */
function appNext(a: AppThread, now: number, floor: number): number {
  const st = a.state;
  if (st === AppState.DONE || st === AppState.ELSEWHERE) return Infinity;
  if (a.nextNs !== undefined) return a.nextNs(now);
  if (st === AppState.RUNNABLE) return now;
  return Atomics.load(a.wakeWords, a.wakeIndex) !== 0 ? (floor > now ? floor : now) : Infinity;
}

/**
 * Whether this core may run its next event at `next`: nobody can still produce anything earlier
 * (within the window), or, at the end of the window, everyone is there. (A free function: no
 * closure is made per pass.)
 */
function ready(sync: VSync, atEnd: boolean, next: number, endNs: number): boolean {
  return atEnd ? sync.othersMin() >= endNs : sync.mayRun(next);
}

/** A xorshift for the jitter hook (test only). */
function jitterNext(s: Int32Array): number {
  let x = s[0]!;
  x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
  s[0] = x;
  return (x >>> 0) / 4294967296;
}

/**
 * Runs the core in virtual time until the end of the window (or a STOP from the main thread).
 * A context that throws propagates (the worker marks the run failed and names this core).
 */
export function runVirtualCoreLoop(env: VirtualLoopEnv, contexts: readonly KernelContext[], apps: readonly AppThread[]): void {
  const { ctl, doorbells, vc, sync, warmupNs, endNs } = env;
  const me = env.globalCore;
  const base = me * CORE_STAT_FIELDS;
  const stats = env.coreStats;
  const roleNs = stats.subarray(base + CoreStat.ROLE_NS, base + CoreStat.ROLE_NS + Role.KTHREAD + 1);
  const acct = new Account(roleNs);
  const sliceNs = env.cfg.appSliceUsecs * 1000;
  const measuredCosts = vc.costs.measured;
  const measureUncharged = env.measureUncharged === true;
  const timeUnits = measuredCosts || measureUncharged;
  const scale = vc.costs.scale;
  const ring = (w: number): void => doorbells.wake(w);
  const jit = env.jitter ?? null;
  const trace = env.trace ?? null;
  const det = sync.deterministic;
  const shareClock = env.shareClock === true;
  const stopped = (): boolean => Atomics.load(ctl, Ctl.PHASE) >= Phase.STOP;
  const jitState = new Int32Array([jit !== null ? (jit.seed * 2654435761 + me * 97 + 1) | 0 || 1 : 1]);

  let activeApps = countActive(apps);
  if (env.appsPreCounted !== true) Atomics.add(ctl, Ctl.APPS_ACTIVE, activeApps);
  else if (env.appsPreCountedN !== undefined) activeApps = env.appsPreCountedN;
  let measuring = false;
  let blockedOn = -2;
  /** Latest time another worker handed this core something (items without stamps start no earlier). */
  let floor = 0;
  let awake = true;
  Atomics.add(ctl, Ctl.AWAKE, 1);

  /** Role of the last unit this core ran: a unit that straddles the warm-up boundary is charged its part after it. */
  let lastRole: number = Role.IDLE;
  const startMeasure = (): void => {
    stats.fill(0, base, base + CORE_STAT_FIELDS);
    stats[base + CoreStat.MEASURE_START_NS] = warmupNs;
    if (vc.t > warmupNs) roleNs[lastRole]! += vc.t - warmupNs;
    env.locks?.resetStats();
    vc.lateItems = 0; vc.lateNs = 0; vc.lateMaxNs = 0;
    env.onMeasureStart?.(warmupNs);
    measuring = true;
  };
  const setAwake = (on: boolean): void => {
    if (on !== awake) { awake = on; Atomics.add(ctl, Ctl.AWAKE, on ? 1 : -1); }
  };
  if (warmupNs <= vc.t) startMeasure();

  for (;;) {
    if (Atomics.load(ctl, Ctl.PHASE) >= Phase.STOP) break;
    if (jit !== null && jitterNext(jitState) < 1 / jit.every) {
      Atomics.wait(ctl, Ctl.JITTER_SLEEP, 0, jitterNext(jitState) * jit.maxMs);
    }
    if (det && !sync.acquireTurn(stopped)) break;
    const lowered = sync.absorb();
    if (lowered !== Infinity && lowered > floor) floor = lowered;
    const now = vc.t;
    let next = Infinity;
    for (let i = 0; i < contexts.length; i++) {
      const t = ctxNext(contexts[i]!, now, floor);
      if (t < next) next = t;
    }
    let runnable = false;
    for (let i = 0; i < apps.length; i++) {
      const a = apps[i]!;
      if (a.state === AppState.RUNNABLE) runnable = true;
      const t = appNext(a, now, floor);
      if (t < next) next = t;
    }
    if (env.stalls !== null) {
      const s = env.stalls.nextStartNs();
      if (s < next) next = s;
    }
    if (next < now) next = now;
    const atEnd = next >= endNs;
    if (atEnd) next = endNs;
    // Fidelity: an event earlier than the bound this core last published (lowered by pushers
    // included) came from shared state some core changed without stamping it; other workers
    // may already have run past it. Counted with the late items.
    const published = sync.myBound();
    if (next < published && !atEnd) vc.lateBound(published - next);
    sync.publish(next, ring);
    if (shareClock) sync.shareClock(now);

    // Wait until nobody can still produce anything earlier (or, at the end, until everyone is there).
    if (!ready(sync, atEnd, next, endNs)) {
      if (det) sync.releaseTurn();
      stats[base + CoreStat.SYNC_WAITS]!++;
      let spins = 0;
      for (;;) {
        if (Atomics.load(ctl, Ctl.PHASE) >= Phase.STOP || sync.wasLowered() || ready(sync, atEnd, next, endNs)) break;
        // Register with whoever holds the minimum now, then look again before sleeping (its
        // bound may have risen before it saw the registration).
        if (sync.argmin !== blockedOn) { sync.block(sync.argmin); blockedOn = sync.argmin; continue; }
        spins++;
        // AWAKE counts a rung worker from the moment of the ring (the ringer adds it), so a
        // spinner parks as soon as a woken worker needs its CPU.
        if (spins < SPIN_PASSES && Atomics.load(ctl, Ctl.AWAKE) <= env.hostCpus) continue;
        setAwake(false);
        if (!doorbells.preparePark(me)) { awake = true; continue; } // rung: the ringer counted it
        if (sync.wasLowered() || ready(sync, atEnd, next, endNs) || sync.argmin !== blockedOn || Atomics.load(ctl, Ctl.PHASE) >= Phase.STOP) {
          if (doorbells.cancelPark(me)) awake = true;
          else setAwake(true);
          continue;
        }
        if (doorbells.sleep(me, PARK_MS)) { awake = true; stats[base + CoreStat.RUNG_WAKEUPS]!++; }
        else setAwake(true);
        stats[base + CoreStat.PARKS]!++;
      }
      continue; // recompute: something may have arrived meanwhile
    }
    // An item handed over while the others were being checked (lowered, then the pusher moved
    // on) is not in `next`: look again rather than jump past it.
    if (!det && sync.wasLowered()) continue;
    if (blockedOn !== -2) { sync.unblock(); blockedOn = -2; }
    if (atEnd) {
      if (det) sync.releaseTurn();
      // Every worker has reached the end of the window: stop everyone.
      if (Atomics.compareExchange(ctl, Ctl.PHASE, Phase.MEASURE, Phase.STOP) === Phase.MEASURE
        || Atomics.compareExchange(ctl, Ctl.PHASE, Phase.WARMUP, Phase.STOP) === Phase.WARMUP) {
        Atomics.notify(ctl, Ctl.PHASE);
        for (let w = 0; w < sync.workers; w++) doorbells.wake(w);
      }
      if (vc.t < endNs) {
        if (!measuring && warmupNs < endNs) startMeasure();
        roleNs[runnable ? Role.APP : Role.IDLE]! += endNs - Math.max(vc.t, warmupNs);
        vc.t = endNs;
      }
      break;
    }

    // Jump to the next event; the gap is idle (or busy polling when a thread is runnable).
    if (next > now) {
      const gapRole = runnable ? Role.APP : Role.IDLE;
      if (!measuring && next >= warmupNs) {
        startMeasure();
        roleNs[gapRole]! += next - (now > warmupNs ? now : warmupNs);
      } else {
        roleNs[gapRole]! += next - now;
      }
      if (!runnable && trace !== null) trace.idle(now, next);
      vc.t = next;
      // Idle or busy polling, an interrupt would have cut the gap short: an item stamped
      // inside it that shows up later (within the window) is late.
      vc.idleEnd = next;
    } else if (!measuring && now >= warmupNs) {
      startMeasure();
    }
    stats[base + CoreStat.PASSES]!++;

    if (env.stalls !== null) {
      const d = env.stalls.due(vc.t);
      if (d > 0) {
        vc.t += d;
        roleNs[Role.STALL]! += d;
        if (trace !== null) trace.unit(vc.t - d, vc.t, Role.STALL);
        lastRole = Role.STALL;
        stats[base + CoreStat.STALLS]!++;
        if (det) sync.releaseTurn();
        continue;
      }
    }

    const t0 = vc.t;
    let work = 0;
    for (let i = 0; i < contexts.length; i++) {
      const ctx = contexts[i]!;
      const t = vc.t;
      if (ctxNext(ctx, t, floor) > t) continue;
      const w0 = timeUnits ? performance.now() : 0;
      const w = ctx.run(t, acct);
      if (timeUnits && w > 0 && (measuredCosts || vc.t === t)) vc.t += (performance.now() - w0) * 1e6 * scale;
      roleNs[ctx.role]! += vc.t - t;
      if (vc.t > t) {
        lastRole = ctx.role;
        if (trace !== null) trace.unit(t, vc.t, ctx.role);
      }
      work += w;
    }
    for (let i = 0; i < apps.length; i++) {
      const a = apps[i]!;
      const t = vc.t;
      if (appNext(a, t, floor) > t) continue;
      if (a.state === AppState.BLOCKED) {
        if (Atomics.load(a.wakeWords, a.wakeIndex) === 0) continue;
        Atomics.store(a.wakeWords, a.wakeIndex, 0);
        a.state = AppState.RUNNABLE;
      }
      if (a.state !== AppState.RUNNABLE) continue;
      const w0 = timeUnits ? performance.now() : 0;
      const w = a.step(t, sliceNs);
      if (timeUnits && w > 0 && (measuredCosts || vc.t === t)) vc.t += (performance.now() - w0) * 1e6 * scale;
      stats[base + CoreStat.APP_STEPS]!++;
      roleNs[Role.APP]! += vc.t - t;
      if (vc.t > t) {
        lastRole = Role.APP;
        if (trace !== null) trace.unit(t, vc.t, Role.APP);
      }
      work += w;
    }
    if (apps.length > 0) {
      const active = countActive(apps);
      if (active !== activeApps) {
        Atomics.sub(ctl, Ctl.APPS_ACTIVE, activeApps - active);
        activeApps = active;
      }
    }
    if (det) {
      // Publish where this core got to before handing the turn on (the next one reads it).
      sync.publish(vc.t, ring);
      sync.releaseTurn();
    }
    if (work > 0) stats[base + CoreStat.WORK_UNITS]! += work;
    else if (vc.t === t0) {
      // Something said it was due but did nothing and charged nothing: move on a little so a
      // context that over-reports cannot hold the cluster at one instant.
      vc.t += STUCK_STEP_NS;
      roleNs[runnable ? Role.APP : Role.IDLE]! += STUCK_STEP_NS;
      stats[base + CoreStat.STUCK_PASSES]!++;
    }
  }

  if (!measuring && warmupNs < endNs) startMeasure();
  // Stopped by another worker that saw the whole cluster at the end: this core had nothing left
  // before the end either (its bound says so), so its window runs to the end too.
  if (vc.t < endNs && sync.myBound() >= endNs) {
    let runnable = false;
    for (let i = 0; i < apps.length; i++) if (apps[i]!.state === AppState.RUNNABLE) runnable = true;
    roleNs[runnable ? Role.APP : Role.IDLE]! += endNs - Math.max(vc.t, warmupNs);
    vc.t = endNs;
  }
  if (blockedOn !== -2) sync.unblock();
  setAwake(false);
  sync.retire(ring);
  // The window of this core's shares: to the end (or where a STOP found it; a unit may overrun the end).
  stats[base + CoreStat.MEASURE_END_NS] = measuring ? Math.max(vc.t, warmupNs) : warmupNs;
  stats[base + CoreStat.LATE_ITEMS] = vc.lateItems;
  stats[base + CoreStat.LATE_NS] = vc.lateNs;
  stats[base + CoreStat.LATE_MAX_NS] = vc.lateMaxNs;
  if (env.locks !== null) {
    stats[base + CoreStat.LOCK_INVERSIONS] = env.locks.orderInversions;
    stats[base + CoreStat.LOCK_INVERSION_NS] = env.locks.orderInversionNs;
    stats[base + CoreStat.LOCK_INVERSION_MAX_NS] = env.locks.orderInversionMaxNs;
  }
  stats[base + CoreStat.IPIS_SENT] = doorbells.wakeups;
  if (activeApps !== 0) Atomics.sub(ctl, Ctl.APPS_ACTIVE, activeApps);
}
