/**
 * The loop of one emulated core (docs/DESIGN.md §4). Each pass, in kernel priority order: NAPI/GRO,
 * SoftIRQ, kernel threads (pacer, timer), then the app threads that live on this core, then
 * idle. The clock is read once at the start of a pass and again only after a context that did
 * work, so time is charged to roles (NAPI, SoftIRQ, bypass, pacer, timer, app, idle) at a cost
 * of one clock read per unit of work. Idle is `poll` (spin), `park` (Atomics.wait on this
 * core's doorbell) or `hybrid` (spin `idleSpinUsecs`, then park). The loop also watches itself:
 * a gap between two clock reads of an idle pass longer than `stolenThresholdUsecs` is time the
 * host OS did not run this worker (stolen), and injected stalls are charged to their own role.
 * The phase word of the control block drives warm-up → measure (counters reset) → stop.
 * App threads that migrate on wake-up (--wakeup-placement) are replicated on every core of
 * their host; a replica whose thread runs elsewhere reads as AppState.ELSEWHERE and is skipped
 * (not stepped, not woken, not counted active).
 */
import { usToWallNs, type EmuConfig } from '../config/config.js';
import type { Doorbells } from '../shm/doorbell.js';
import type { LockTable } from '../shm/lock.js';
import { nowNs } from '../shm/clock.js';
import { AppState, Role, type AppThread, type CoreAccount, type CoreTrace, type KernelContext, type RoleId } from './context.js';
import { CoreStat, CORE_STAT_FIELDS, Ctl, Phase } from './control.js';
import type { StallSchedule } from './faults.js';

export interface CoreLoopEnv {
  readonly cfg: EmuConfig;
  readonly globalCore: number;
  readonly ctl: Int32Array;
  /** The whole coreStats column; this core writes row `globalCore` only. */
  readonly coreStats: Float64Array;
  readonly doorbells: Doorbells;
  readonly locks: LockTable;
  readonly stalls: StallSchedule | null;
  /** The caller already added this core's active app threads to Ctl.APPS_ACTIVE (before READY). */
  readonly appsPreCounted?: boolean;
  /**
   * How many the caller added (with `appsPreCounted`); default: this core's count when the loop
   * starts, which is the same unless a migrating thread moved in between.
   */
  readonly appsPreCountedN?: number;
  /** The fabric worker: stops on Ctl.FABRIC_STOP (after every core) rather than on the STOP phase. */
  readonly fabric?: boolean;
  /** The worker's clock object: in wall mode it carries the latest wall reading, for stamps. */
  readonly vc?: { t: number };
  onMeasureStart?(now: number): void;
  /** Time trace (--tt/--trace): units of work and idle gaps are recorded into it (runtime clock ns). */
  readonly trace?: CoreTrace | null;
}

class Account implements CoreAccount {
  constructor(readonly roleNs: Float64Array) {}
  move(fromRole: RoleId, toRole: RoleId, ns: number): void {
    this.roleNs[fromRole]! -= ns;
    this.roleNs[toRole]! += ns;
  }
}

/**
 * Checks blocked app threads' wake words; returns how many became runnable. A replica whose
 * thread runs on another core reads as ELSEWHERE, so it is never woken here; a replica that
 * consumed a wake word addressed to the thread's new owner hands it on in its state setter.
 */
function wakeBlocked(apps: readonly AppThread[]): number {
  let woke = 0;
  for (let i = 0; i < apps.length; i++) {
    const a = apps[i]!;
    if (a.state === AppState.BLOCKED && Atomics.load(a.wakeWords, a.wakeIndex) !== 0) {
      Atomics.store(a.wakeWords, a.wakeIndex, 0);
      a.state = AppState.RUNNABLE;
      woke++;
    }
  }
  return woke;
}

/** Work right now? ELSEWHERE replicas are neither runnable nor woken here (their owner's core does that). */
function anyWork(contexts: readonly KernelContext[], apps: readonly AppThread[]): boolean {
  for (let i = 0; i < contexts.length; i++) if (contexts[i]!.hasWork()) return true;
  for (let i = 0; i < apps.length; i++) {
    const a = apps[i]!;
    const st = a.state;
    if (st === AppState.RUNNABLE) return true;
    if (st === AppState.BLOCKED && Atomics.load(a.wakeWords, a.wakeIndex) !== 0) return true;
  }
  return false;
}

/**
 * App threads this core runs that are not DONE (replicas of threads another core runs now are
 * not counted). With wake-up migration a thread's count moves with it: the core it left
 * subtracts it and the core it reached adds it, each on its next pass, so Ctl.APPS_ACTIVE may
 * be off by the threads in flight for a moment. Only runs that stop when every app is done read
 * it, and migrating threads (cp_node receivers and servers) never finish, so this is harmless.
 */
export function countActive(apps: readonly AppThread[]): number {
  let n = 0;
  for (let i = 0; i < apps.length; i++) {
    const st = apps[i]!.state;
    if (st !== AppState.DONE && st !== AppState.ELSEWHERE) n++;
  }
  return n;
}

/**
 * Busy-waits until `until` (a stall must keep the core from doing anything, like a real one), or
 * until the run stops: a stall that covers the end of the window must not trip the watchdog.
 */
function spinUntil(until: number, ctl: Int32Array): number {
  let t = nowNs();
  while (t < until && Atomics.load(ctl, Ctl.PHASE) !== Phase.STOP) t = nowNs();
  return t;
}

/**
 * Runs the core until the phase word says STOP. Returns normally; a context that throws
 * propagates (the worker wrapper marks the run failed and names this core).
 */
export function runCoreLoop(env: CoreLoopEnv, contexts: readonly KernelContext[], apps: readonly AppThread[]): void {
  const { cfg, ctl, doorbells } = env;
  const base = env.globalCore * CORE_STAT_FIELDS;
  const stats = env.coreStats;
  const roleNs = stats.subarray(base + CoreStat.ROLE_NS, base + CoreStat.ROLE_NS + Role.KTHREAD + 1);
  const acct = new Account(roleNs);
  const idleMode = cfg.idleMode;
  const spinNs = cfg.idleSpinUsecs * 1000;
  const parkTimeoutMs = cfg.parkTimeoutUsecs / 1000;
  const sliceNs = usToWallNs(cfg, cfg.appSliceUsecs);
  const stolenNs = cfg.stolenThresholdUsecs * 1000;
  const vc = env.vc ?? null;
  const trace = env.trace ?? null;

  let phase = Atomics.load(ctl, Ctl.PHASE);
  let activeApps = countActive(apps);
  if (env.appsPreCounted !== true) Atomics.add(ctl, Ctl.APPS_ACTIVE, activeApps);
  else if (env.appsPreCountedN !== undefined) activeApps = env.appsPreCountedN; // the first pass corrects a difference
  let mark = nowNs();
  let idleSince = -1;
  let nextApp = 0;
  let ipisBefore = doorbells.wakeups;

  for (;;) {
    const p = Atomics.load(ctl, Ctl.PHASE);
    if (p !== phase) {
      phase = p;
      if (phase === Phase.MEASURE) {
        const t = nowNs();
        stats.fill(0, base, base + CORE_STAT_FIELDS);
        stats[base + CoreStat.MEASURE_START_NS] = t;
        env.locks.resetStats();
        ipisBefore = doorbells.wakeups;
        env.onMeasureStart?.(t);
        mark = t;
      }
    }
    if (phase >= Phase.STOP && (env.fabric !== true || Atomics.load(ctl, Ctl.FABRIC_STOP) !== 0)) break;

    let now = nowNs();
    const gap = now - mark;
    if (gap > stolenNs && idleSince >= 0) {
      // An idle pass should take well under a microsecond: the rest is the host OS.
      roleNs[Role.STOLEN]! += gap;
      stats[base + CoreStat.STOLEN_GAPS]!++;
    } else {
      roleNs[Role.IDLE]! += gap;
    }
    if (gap > stats[base + CoreStat.MAX_GAP_NS]!) stats[base + CoreStat.MAX_GAP_NS] = gap;
    mark = now;
    const passStart = now;
    stats[base + CoreStat.PASSES]!++;

    if (env.stalls !== null) {
      const d = env.stalls.due(now);
      if (d > 0) {
        const end = spinUntil(now + d, ctl);
        roleNs[Role.STALL]! += end - now;
        stats[base + CoreStat.STALLS]!++;
        mark = end;
        continue;
      }
    }

    let work = 0;
    for (let i = 0; i < contexts.length; i++) {
      const ctx = contexts[i]!;
      if (vc !== null) vc.t = now;
      const w = ctx.run(now, acct);
      if (w > 0) {
        const t = nowNs();
        roleNs[ctx.role]! += t - mark;
        if (trace !== null) trace.unit(mark, t, ctx.role);
        mark = now = t;
        work += w;
      }
    }

    if (apps.length > 0) {
      wakeBlocked(apps);
      // One step for each runnable app thread, round robin from where the last pass stopped.
      for (let k = 0; k < apps.length; k++) {
        const a = apps[(nextApp + k) % apps.length]!;
        if (a.state !== AppState.RUNNABLE) continue;
        if (vc !== null) vc.t = now;
        const w = a.step(now, sliceNs);
        stats[base + CoreStat.APP_STEPS]!++;
        if (w > 0) {
          const t = nowNs();
          roleNs[Role.APP]! += t - mark;
          if (trace !== null) trace.unit(mark, t, Role.APP);
          mark = now = t;
          work += w;
        }
      }
      nextApp = (nextApp + 1) % apps.length;
      const active = countActive(apps);
      if (active !== activeApps) {
        Atomics.sub(ctl, Ctl.APPS_ACTIVE, activeApps - active);
        activeApps = active;
      }
    }

    if (work > 0) {
      stats[base + CoreStat.WORK_UNITS]! += work;
      if (trace !== null && idleSince >= 0) trace.idle(idleSince, passStart);
      idleSince = -1;
      continue;
    }

    // Idle.
    if (idleSince < 0) idleSince = now;
    if (idleMode === 'poll' || (idleMode === 'hybrid' && now - idleSince < spinNs)) continue;
    if (!doorbells.preparePark(env.globalCore)) continue;
    if (anyWork(contexts, apps) || Atomics.load(ctl, Ctl.PHASE) !== phase || Atomics.load(ctl, Ctl.FABRIC_STOP) !== 0) {
      doorbells.cancelPark(env.globalCore);
      continue;
    }
    const rung = doorbells.sleep(env.globalCore, parkTimeoutMs);
    const t = nowNs();
    roleNs[Role.IDLE]! += t - mark;
    mark = t;
    stats[base + CoreStat.PARKS]!++;
    if (rung) stats[base + CoreStat.RUNG_WAKEUPS]!++;
  }

  const end = nowNs();
  roleNs[Role.IDLE]! += end - mark;
  stats[base + CoreStat.MEASURE_END_NS] = end;
  stats[base + CoreStat.IPIS_SENT] = doorbells.wakeups - ipisBefore;
  if (activeApps !== 0) Atomics.sub(ctl, Ctl.APPS_ACTIVE, activeApps);
}
