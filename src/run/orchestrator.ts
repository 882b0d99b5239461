/**
 * The orchestrator: turns one validated config into a run. It sizes and allocates every shared
 * buffer (the runtime's control block, clock, doorbells, per-core stats and lock table, plus the
 * world's own columns), starts one worker per emulated core (and one for the fabric when the
 * world has one) through piscina — one long-running task per worker, so piscina owns thread
 * life cycle and error propagation — drives the warm-up / measure / stop phases, and gathers
 * results. It always shuts down: when the measured window ends, when the world says it is done,
 * when a worker throws (the error names the core), on an abort signal (SIGINT), and through a
 * watchdog that terminates workers that do not stop in time. Start-up: the workers load the
 * file the world names (`WorldRef.workerUrl`: the built-in worlds' one-file bundle, made by
 * `npm run build`, when it is fresh), and a `WorkerPool` lets several runs of one cluster (the
 * base-RTT probe, then the run) share their threads, so the cluster starts once.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { EmuConfig } from '../config/config.js';
import { UserError } from '../config/errors.js';
import { CLOCK_WORDS, initClockOrigin, nowNs } from '../shm/clock.js';
import { Doorbells } from '../shm/doorbell.js';
import { allocate, column, packLayout, subLayout, type LayoutDesc } from '../shm/layout.js';
import { lockTableLayout, readLockStats, type LockTableSpec } from '../shm/lock.js';
import { CORE_STAT_FIELDS, Ctl, Phase, runtimeLayout } from '../cpu/control.js';
import { initVsync, readBounds } from '../cpu/vsync.js';
import type { CoreSummary, CoreTask } from '../cpu/worker.js';
import { compiledUrl } from '../util/paths.js';
import type { World } from '../cpu/world.js';
import { RunInterrupted } from './interrupt.js';
import { userCallKind } from '../policy/guard.js';

/** Most worker threads one run may start (a limit on everything). */
export const MAX_WORKERS = 256;

/** Workers spawned between two looks at the abort signal during start-up. */
const SPAWN_BATCH = 1;

export interface RunOptions {
  /** Stop when the world sets WORLD_DONE or every app thread is done (before the window ends). */
  stopWhenAppsDone?: boolean;
  signal?: AbortSignal;
  /**
   * Called about every 200 ms with progress (elapsed ms of the whole run, phase) and the shared
   * memory, so a caller may read live counters (racy plain reads: for display only).
   */
  onProgress?: (p: { elapsedMs: number; totalMs: number; phase: number; sab: SharedArrayBuffer; desc: LayoutDesc }) => void;
  /** Called about every 200 ms while workers start, with how many are ready (a start-up progress line). */
  onStarting?: (ready: number, total: number) => void;
  /** Called once every worker is ready, just before warm-up starts (for start-up timing). */
  onReady?: () => void;
  /**
   * Worker threads to run on, from `openWorkerPool` (same world and worker count), kept open after
   * the run so a second run (the main run after the base-RTT probe) finds its threads started and
   * their modules loaded. Without it the run starts its own threads and closes them at the end.
   */
  pool?: WorkerPool;
}

export interface RawRun {
  cfg: EmuConfig;
  world: string;
  sab: SharedArrayBuffer;
  desc: LayoutDesc;
  lockSpec: LockTableSpec;
  totalWorkers: number;
  emulatedCores: number;
  hasFabric: boolean;
  hostCpus: number;
  /**
   * The measured window in emulated ns: --clock virtual, the emulated window (shorter when the
   * run was cut: interrupted, --max-wall-s, apps done); --clock wall, wall ns from the phase
   * switch to the stop signal (divide by the dilation for emulated time).
   */
  measuredNs: number;
  /** Wall ns the whole run took (start signal to stop), for emulated seconds per wall second. */
  wallNs: number;
  /** --clock virtual: the run hit --max-wall-s before the end of its emulated window. */
  wallLimitHit: boolean;
  interrupted: boolean;
  endedEarly: boolean;
  summaries: CoreSummary[];
  coreStats: Float64Array;
  lockStats: ReturnType<typeof readLockStats>;
  worldResult: unknown;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function buildLayout(cfg: EmuConfig, world: World): { desc: LayoutDesc; lockSpec: LockTableSpec; totalWorkers: number; hasFabric: boolean } {
  const emulated = cfg.hosts * cfg.cores;
  const hasFabric = world.setupFabric !== undefined;
  const totalWorkers = emulated + (hasFabric ? 1 : 0);
  if (totalWorkers > MAX_WORKERS) {
    throw new UserError('ESIZING', `--hosts x --cores: expected at most ${MAX_WORKERS} worker threads in all, got ${cfg.hosts} x ${cfg.cores}${hasFabric ? ' + 1 fabric' : ''} = ${totalWorkers}`);
  }
  const lc = world.lockClasses(cfg);
  const lockSpec: LockTableSpec = { classes: lc.classes, locksPerClass: lc.counts, cores: totalWorkers };
  const b = runtimeLayout(totalWorkers, CLOCK_WORDS, Doorbells.wordsFor(totalWorkers));
  b.addAll('locks', lockTableLayout(lockSpec));
  b.addAll('world', world.layout(cfg));
  return { desc: b.build(), lockSpec, totalWorkers, hasFabric };
}

/**
 * The watchdog's message when a worker it had to terminate was inside a user policy module:
 * names the module, its method and the core (the other workers it terminated were waiting on it).
 */
function hungUserCall(cfg: EmuConfig, userCall: Int32Array, missing: readonly number[]): string | null {
  const hung = missing.filter((g) => userCallKind(Atomics.load(userCall, g)) !== null);
  if (hung.length === 0) return null;
  const g = hung[0]!;
  const kind = userCallKind(Atomics.load(userCall, g))!;
  const p = cfg.policies;
  const path = kind === 'steering' ? p.steering : kind === 'thread-choice' ? p.threadChoice : p.pacer;
  const method = kind === 'steering' ? 'chooseSoftirqCore' : kind === 'thread-choice' ? 'chooseInterest' : 'mayTransmit';
  const others = missing.length - 1;
  return `watchdog: the --${kind} module ${path} did not return from ${method}() on core ${g} (host ${Math.floor(g / cfg.cores)} core ${g % cfg.cores}) `
    + `within ${cfg.watchdogMs} ms of the stop signal${others > 0 ? ` (${others} other worker(s) that had not stopped either were terminated too)` : ''}`;
}

/**
 * The world a run runs: its object on this (the main) thread, the URL of its compiled module for
 * the workers, and the name the result carries. src/cluster/worlds.ts resolves names to these.
 */
export interface WorldRef {
  readonly name: string;
  readonly world: World;
  readonly url: string;
  /** The file the worker threads load (default: the compiled src/cpu/worker.js and its modules). */
  readonly workerUrl?: string;
}

/** The plain worker module (each module loaded one by one). */
export function plainWorkerUrl(): string {
  return compiledUrl(import.meta.url, '../cpu/worker.js').href;
}

/**
 * Worker threads that outlive one run: each run submits one long task per thread, and a thread
 * that finished its task takes the next run's. `close()` ends them (idempotent).
 */
export class WorkerPool {
  readonly piscina: Piscina;
  private closing: Promise<void> | null = null;

  constructor(readonly worldUrl: string, readonly totalWorkers: number, workerUrl = plainWorkerUrl()) {
    this.piscina = new Piscina({
      filename: workerUrl,
      // Workers are spawned as tasks are submitted (by a run, in batches), not all in this
      // constructor, so the main thread keeps handling signals while a large cluster starts.
      minThreads: 1,
      maxThreads: totalWorkers,
      concurrentTasksPerWorker: 1,
      idleTimeout: 60_000,
      atomics: 'disabled',
    });
  }

  get closed(): boolean {
    return this.closing !== null;
  }

  close(): Promise<void> {
    this.closing ??= this.piscina.destroy();
    return this.closing;
  }

  /** Closes once `p` settles (threads still loading modules are not terminated: that can crash V8). */
  closeAfter(p: Promise<unknown>): Promise<void> {
    this.closing ??= p.then(() => this.piscina.destroy(), () => this.piscina.destroy());
    return this.closing;
  }
}

/** Worker threads for several runs of world `ref` with `cfg`'s cluster (close them when done). */
export function openWorkerPoolFor(ref: WorldRef, cfg: EmuConfig): WorkerPool {
  const { totalWorkers } = buildLayout(cfg, ref.world);
  return new WorkerPool(ref.url, totalWorkers, ref.workerUrl);
}

export async function runWorldModule(ref: WorldRef, cfg: EmuConfig, opts: RunOptions = {}): Promise<RawRun> {
  const { world, name: worldName, url: worldUrl } = ref;
  const { desc, lockSpec, totalWorkers, hasFabric } = buildLayout(cfg, world);
  const sab = allocate(desc);
  const ctl = column(sab, desc, 'ctl', 'i32');
  initClockOrigin(column(sab, desc, 'clock', 'i32'));
  const doorbells = new Doorbells(column(sab, desc, 'doorbells', 'i32'), totalWorkers);
  const virtual = cfg.clock === 'virtual';
  // A worker woken by a ring counts on the ringer to have counted it awake (src/shm/doorbell.ts).
  if (virtual) doorbells.attachAwakeCount(ctl, Ctl.AWAKE);
  const vsyncDesc = subLayout(desc, 'vsync');
  initVsync(sab, vsyncDesc, totalWorkers);
  world.init(cfg, sab, subLayout(desc, 'world'));
  const hostCpus = availableParallelism();

  const shared = opts.pool;
  if (shared !== undefined && (shared.worldUrl !== worldUrl || shared.totalWorkers !== totalWorkers || shared.closed)) {
    throw new Error(`runWorld: the worker pool given is for ${shared.totalWorkers} workers of world ${shared.worldUrl}${shared.closed ? ' and closed' : ''}, `
      + `this run needs ${totalWorkers} of ${worldUrl}`);
  }
  const wp = shared ?? new WorkerPool(worldUrl, totalWorkers, ref.workerUrl);
  const pool = wp.piscina;

  const stopAll = (): void => {
    if (Atomics.load(ctl, Ctl.PHASE) !== Phase.STOP) {
      Atomics.store(ctl, Ctl.PHASE, Phase.STOP);
      Atomics.notify(ctl, Ctl.PHASE);
    }
    for (let c = 0; c < totalWorkers; c++) doorbells.ring(c);
  };

  const stopFabric = (): void => {
    Atomics.store(ctl, Ctl.FABRIC_STOP, 1);
    if (hasFabric) doorbells.ring(totalWorkers - 1);
  };

  let interrupted = false;
  const onAbort = (): void => { interrupted = true; stopAll(); };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) onAbort();

  let firstError: unknown = null;
  const tasks: Array<Promise<CoreSummary | null>> = [];
  const layout = packLayout(desc);
  for (let g = 0; g < totalWorkers; g++) {
    // Creating a worker blocks this thread for a while: yield between batches so a signal is seen.
    if (g % SPAWN_BATCH === 0) {
      await new Promise<void>((r) => setImmediate(r)); // after the I/O poll, where signals are delivered
      if (interrupted) break;
      opts.onStarting?.(Atomics.load(ctl, Ctl.READY), totalWorkers);
    }
    const task: CoreTask = { worldUrl, cfg, sab, layout, lockSpec, globalCore: g, fabric: hasFabric && g === totalWorkers - 1, totalWorkers, hostCpus };
    tasks.push((pool.run(task) as Promise<CoreSummary>).catch((e: unknown) => {
      if (firstError === null) firstError = e;
      stopAll();
      stopFabric();
      return null;
    }));
  }
  const allDone = Promise.all(tasks);
  // The fabric stops only after every emulated core has left its loop.
  void Promise.all(hasFabric ? tasks.slice(0, totalWorkers - 1) : tasks).then(stopFabric);
  let settled = false;
  void allDone.then(() => { settled = true; });

  // Wait until every worker is ready (or one failed, or we were interrupted).
  const startWaitMs = Math.max(30_000, cfg.watchdogMs);
  const t0 = Date.now();
  let lastStarting = 0;
  while (Atomics.load(ctl, Ctl.READY) < totalWorkers && firstError === null && !interrupted && !settled) {
    if (Date.now() - t0 > startWaitMs) {
      firstError = new Error(`only ${Atomics.load(ctl, Ctl.READY)} of ${totalWorkers} workers started within ${startWaitMs} ms`);
      break;
    }
    if (opts.onStarting && Date.now() - lastStarting >= 200) {
      lastStarting = Date.now();
      opts.onStarting(Atomics.load(ctl, Ctl.READY), totalWorkers);
    }
    await sleep(5);
  }
  if (interrupted && firstError === null) {
    // Stopped during start-up: nothing to measure, so return now rather than wait for every
    // worker to finish starting (minutes for a large cluster). The workers still starting see
    // the STOP phase and leave; the pool is closed behind them (terminating a worker that is
    // loading modules can crash V8, so they are not terminated).
    opts.signal?.removeEventListener('abort', onAbort);
    void wp.closeAfter(allDone);
    throw new RunInterrupted('start-up');
  }

  if (firstError === null) opts.onReady?.();

  let measureStart = 0;
  let measureEnd = 0;
  let endedEarly = false;
  let wallLimitHit = false;
  const totalMs = cfg.warmupMs + cfg.durationMs;
  const runStart = nowNs();
  let virtualReachedNs = 0;
  if (firstError === null && !interrupted && virtual) {
    // Virtual time: the workers move the phase themselves and end the window at the emulated
    // instant warm-up + duration; here only the wall limit, apps done, interrupts and progress.
    const wallStart = Date.now();
    Atomics.store(ctl, Ctl.PHASE, Phase.WARMUP);
    Atomics.notify(ctl, Ctl.PHASE);
    let lastProgress = 0;
    const emulatedMin = (): number => {
      const b = readBounds(sab, vsyncDesc, totalWorkers);
      let m = Infinity;
      for (let w = 0; w < totalWorkers; w++) if (b[w]! < m) m = b[w]!;
      return m;
    };
    // A worker that never returns from a unit of work holds the minimum forever: after this much
    // wall time without the minimum moving, stop (the watchdog then names who does not stop).
    const stuckMs = Math.max(2 * cfg.watchdogMs, 2000);
    let lastMin = -1;
    let lastMove = Date.now();
    for (;;) {
      const el = Date.now() - wallStart;
      if (firstError !== null || interrupted || settled || Atomics.load(ctl, Ctl.PHASE) >= Phase.STOP) break;
      if (cfg.maxWallS > 0 && el >= cfg.maxWallS * 1000) { wallLimitHit = true; break; }
      const m = emulatedMin();
      if (m !== lastMin) { lastMin = m; lastMove = Date.now(); }
      else if (Date.now() - lastMove > stuckMs) {
        const b = readBounds(sab, vsyncDesc, totalWorkers);
        const holders: number[] = [];
        for (let w = 0; w < totalWorkers; w++) if (b[w] === m) holders.push(w);
        firstError = new Error(`virtual time stuck at ${(m / 1e3).toFixed(3)} us emulated for ${stuckMs} ms of wall time: worker(s) ${holders.join(', ')} hold the minimum and do not move`);
        break;
      }
      if (opts.stopWhenAppsDone === true && (Atomics.load(ctl, Ctl.WORLD_DONE) !== 0 || Atomics.load(ctl, Ctl.APPS_ACTIVE) === 0)) {
        endedEarly = true;
        break;
      }
      if (opts.onProgress && el - lastProgress >= 200) {
        lastProgress = el;
        const m = emulatedMin();
        const emuMs = Number.isFinite(m) ? Math.min(m / 1e6, totalMs) : totalMs;
        opts.onProgress({ elapsedMs: emuMs, totalMs, phase: emuMs >= cfg.warmupMs ? Phase.MEASURE : Phase.WARMUP, sab, desc });
      }
      await sleep(5);
    }
    const m = emulatedMin();
    virtualReachedNs = Number.isFinite(m) ? m : totalMs * 1e6;
  } else if (firstError === null && !interrupted) {
    const wallStart = Date.now();
    Atomics.store(ctl, Ctl.PHASE, Phase.WARMUP);
    Atomics.notify(ctl, Ctl.PHASE);
    let phase: number = Phase.WARMUP;
    let lastProgress = 0;
    for (;;) {
      const el = Date.now() - wallStart;
      if (firstError !== null || interrupted || settled) break;
      if (phase === Phase.WARMUP && el >= cfg.warmupMs) {
        measureStart = nowNs();
        Atomics.store(ctl, Ctl.PHASE, Phase.MEASURE);
        for (let c = 0; c < totalWorkers; c++) doorbells.ring(c);
        phase = Phase.MEASURE;
      }
      if (phase === Phase.MEASURE && el >= totalMs) break;
      if (opts.stopWhenAppsDone === true && phase === Phase.MEASURE
        && (Atomics.load(ctl, Ctl.WORLD_DONE) !== 0 || Atomics.load(ctl, Ctl.APPS_ACTIVE) === 0)) {
        endedEarly = true;
        break;
      }
      if (opts.onProgress && el - lastProgress >= 200) {
        lastProgress = el;
        opts.onProgress({ elapsedMs: el, totalMs, phase, sab, desc });
      }
      await sleep(Math.min(10, Math.max(1, totalMs - el)));
    }
    measureEnd = nowNs();
  }
  stopAll();

  // Watchdog: workers must leave their loops within watchdogMs of the stop signal.
  let watchdogFired = false;
  const timer = setTimeout(() => { watchdogFired = true; void wp.close(); }, cfg.watchdogMs);
  const summaries = await allDone;
  clearTimeout(timer);
  opts.signal?.removeEventListener('abort', onAbort);
  // A failed run closes a shared pool too: its threads may be in any state.
  if (shared === undefined || firstError !== null || watchdogFired) await wp.close();

  if (firstError !== null && !watchdogFired) throw firstError;
  if (watchdogFired) {
    const missing = summaries.map((s, g) => (s === null ? g : -1)).filter((g) => g >= 0);
    throw new Error(hungUserCall(cfg, column(sab, desc, 'userCall', 'i32'), missing)
      ?? `watchdog: worker(s) ${missing.join(', ')} did not stop within ${cfg.watchdogMs} ms of the stop signal and were terminated`);
  }

  const coreStats = new Float64Array(column(sab, desc, 'coreStats', 'f64')).slice(0, totalWorkers * CORE_STAT_FIELDS);
  let measuredNs = measureStart > 0 ? measureEnd - measureStart : 0;
  if (virtual) {
    // The cluster reached the smallest clock any worker had left (all of the window if it ended).
    measuredNs = Math.max(0, Math.min(virtualReachedNs, totalMs * 1e6) - cfg.warmupMs * 1e6);
  }
  return {
    cfg, world: worldName, sab, desc, lockSpec, totalWorkers,
    emulatedCores: cfg.hosts * cfg.cores, hasFabric,
    hostCpus,
    measuredNs, interrupted, endedEarly, wallLimitHit, wallNs: nowNs() - runStart,
    summaries: summaries as CoreSummary[],
    coreStats,
    lockStats: readLockStats(sab, subLayout(desc, 'locks'), lockSpec),
    worldResult: world.collect(cfg, sab, subLayout(desc, 'world'), measuredNs, summaries.map((s) => s?.worldData)),
  };
}
