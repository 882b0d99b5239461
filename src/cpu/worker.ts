/**
 * The body of one worker thread: one emulated core (or the fabric), run as one long piscina
 * task. It attaches to the shared clock and memory, asks the world for this core's contexts and
 * app threads, announces itself ready, waits for the start signal, runs the core loop until the
 * stop phase, and returns a small summary. Any exception marks the whole run failed (so every
 * other core stops at its next pass) and is rethrown with the core it happened on.
 */
import type { EmuConfig } from '../config/config.js';
import { attachClock, nowNs } from '../shm/clock.js';
import { Doorbells } from '../shm/doorbell.js';
import { column, subLayout, unpackLayout, type PackedLayout } from '../shm/layout.js';
import { LockTable, type LockTableSpec } from '../shm/lock.js';
import { importWorld, type CoreEnv } from './world.js';
import { Ctl, Phase } from './control.js';
import { countActive, runCoreLoop } from './core-loop.js';
import { parseStalls, StallSchedule } from './faults.js';
import { resolveCosts, zeroCosts } from '../config/cost-profile.js';
import { VClock, VSync } from './vsync.js';
import { runVirtualCoreLoop } from './vcore-loop.js';
import { setUserCallSlot } from '../policy/guard.js';

export interface CoreTask {
  /** URL of the compiled module whose `world` export this core runs (src/cpu/world.ts). */
  worldUrl: string;
  cfg: EmuConfig;
  sab: SharedArrayBuffer;
  /** The run's layout, packed for the trip (`unpackLayout`). */
  layout: PackedLayout;
  lockSpec: LockTableSpec;
  globalCore: number;
  /** The fabric worker (index hosts*cores) rather than an emulated core. */
  fabric: boolean;
  totalWorkers: number;
  /** Host CPUs (virtual time: a blocked worker spins only while the awake ones fit them). */
  hostCpus: number;
}

/** Test hook (host independence): HOMA_EMU_TEST_JITTER=seed,maxMs,every sleeps at random in core loops. */
function jitterFromEnv(): { seed: number; maxMs: number; every: number } | null {
  const v = process.env['HOMA_EMU_TEST_JITTER'];
  if (v === undefined || v === '') return null;
  const [seed, maxMs, every] = v.split(',').map(Number);
  return { seed: seed ?? 1, maxMs: maxMs ?? 5, every: every ?? 200 };
}

export interface CoreSummary {
  globalCore: number;
  host: number;
  core: number;
  fabric: boolean;
  apps: number;
  contexts: string[];
  /** What the world's onStop returned for this core. */
  worldData: unknown;
}

export class CoreFailure extends Error {
  constructor(readonly globalCore: number, readonly host: number, readonly core: number, readonly fabric: boolean, cause: unknown) {
    const where = fabric ? 'fabric worker' : `core ${globalCore} (host ${host} core ${core})`;
    const msg = cause instanceof Error ? cause.message : String(cause);
    super(`${where} failed: ${msg}`);
    this.name = 'CoreFailure';
    if (cause instanceof Error && cause.stack) this.stack = `${this.name}: ${this.message}\n${cause.stack}`;
  }
}

export default async function coreTask(task: CoreTask): Promise<CoreSummary> {
  const { cfg, sab, globalCore, fabric } = task;
  const desc = unpackLayout(task.layout);
  const host = fabric ? -1 : Math.floor(globalCore / cfg.cores);
  const core = fabric ? -1 : globalCore % cfg.cores;
  const ctl = column(sab, desc, 'ctl', 'i32');
  const doorbells = new Doorbells(column(sab, desc, 'doorbells', 'i32'), task.totalWorkers);
  try {
    attachClock(column(sab, desc, 'clock', 'i32'));
    const virtual = cfg.clock === 'virtual';
    const vc = new VClock(virtual, virtual ? resolveCosts(cfg.costProfile, cfg.costScale) : zeroCosts());
    const sync = virtual ? new VSync(sab, subLayout(desc, 'vsync'), task.totalWorkers, globalCore, cfg.syncWindowNs, cfg.deterministic) : null;
    if (sync !== null) {
      doorbells.attachVirtual(vc, sync);
      doorbells.attachAwakeCount(ctl, Ctl.AWAKE);
    }
    const locks = new LockTable(sab, subLayout(desc, 'locks'), task.lockSpec, globalCore, virtual ? { vclock: vc } : undefined);
    setUserCallSlot(column(sab, desc, 'userCall', 'i32'), globalCore);
    const world = await importWorld(task.worldUrl);
    const env: CoreEnv = { cfg, sab, desc: subLayout(desc, 'world'), globalCore, host, core, locks, doorbells, ctl, vc };
    const setup = fabric ? await world.setupFabric!(env) : await world.setupCore(env);
    const stalls = fabric ? null : new StallSchedule(parseStalls(cfg.stall, cfg.hosts, cfg.cores), globalCore,
      virtual ? 0 : nowNs(), virtual ? 1 : cfg.dilation);

    // Count this core's app threads before announcing READY, so a run that stops when every app
    // is done cannot see 0 active apps before all cores have started.
    const appsCounted = countActive(setup.apps);
    Atomics.add(ctl, Ctl.APPS_ACTIVE, appsCounted);
    Atomics.add(ctl, Ctl.READY, 1);
    Atomics.notify(ctl, Ctl.READY);
    while (Atomics.load(ctl, Ctl.PHASE) === Phase.STARTING) Atomics.wait(ctl, Ctl.PHASE, Phase.STARTING, 50);

    const coreStats = column(sab, desc, 'coreStats', 'f64');
    if (sync !== null) {
      runVirtualCoreLoop({
        cfg, globalCore, ctl, coreStats, doorbells, locks, vc, sync,
        stalls: stalls !== null && stalls.active ? stalls : null, appsPreCounted: true, appsPreCountedN: appsCounted,
        warmupNs: cfg.warmupMs * 1e6, endNs: (cfg.warmupMs + cfg.durationMs) * 1e6, hostCpus: task.hostCpus,
        jitter: jitterFromEnv(), measureUncharged: world.costModel !== true, onMeasureStart: setup.onMeasureStart?.bind(setup),
        trace: setup.trace ?? null, shareClock: !fabric,
      }, setup.contexts, setup.apps);
    } else {
      runCoreLoop({
        cfg, globalCore, ctl, coreStats, doorbells, locks, vc,
        stalls: stalls !== null && stalls.active ? stalls : null, fabric, appsPreCounted: true, appsPreCountedN: appsCounted,
        onMeasureStart: setup.onMeasureStart?.bind(setup), trace: setup.trace ?? null,
      }, setup.contexts, setup.apps);
    }
    if (fabric && virtual) {
      // The fabric frees what is still inside the network: only once no core can send any more.
      while (Atomics.load(ctl, Ctl.FABRIC_STOP) === 0) Atomics.wait(ctl, Ctl.FABRIC_STOP, 0, 20);
    }
    const worldData = setup.onStop?.(virtual ? vc.t : nowNs());
    return { globalCore, host, core, fabric, apps: setup.apps.length, contexts: setup.contexts.map((c) => c.name), worldData };
  } catch (e) {
    // First failure wins; then stop everyone and wake the parked.
    Atomics.compareExchange(ctl, Ctl.FAILED, 0, globalCore + 1);
    Atomics.store(ctl, Ctl.PHASE, Phase.STOP);
    Atomics.store(ctl, Ctl.FABRIC_STOP, 1);
    Atomics.notify(ctl, Ctl.PHASE);
    for (let c = 0; c < task.totalWorkers; c++) doorbells.ring(c);
    throw new CoreFailure(globalCore, host, core, fabric, e);
  }
}
