/**
 * A "world" is what the generic runtime runs: it says how much shared memory a configuration
 * needs, initialises it on the main thread, and, inside each worker, builds the contexts and app
 * threads of one emulated core (or of the fabric). The runtime (src/cpu, src/run) knows nothing
 * about Homa and names no world: a world is a compiled module exporting `world`, and each worker
 * task carries that module's URL, so nothing but plain data (the URL, the config and the SAB)
 * travels in the task message, once per core (never per packet). `selftest` (a synthetic
 * pipeline) and `homa` (hosts, NICs, the switch and the protocol) are two worlds, named in
 * src/cluster/worlds.ts.
 */
import { pathToFileURL } from 'node:url';
import { isAbsolute } from 'node:path';
import type { VClock } from './vsync.js';
import type { EmuConfig } from '../config/config.js';
import type { AppThread, CoreTrace, KernelContext } from './context.js';
import type { LayoutDesc } from '../shm/layout.js';
import type { LockTable } from '../shm/lock.js';
import type { Doorbells } from '../shm/doorbell.js';

/** Shared services the runtime gives every core of a world. */
export interface CoreEnv {
  readonly cfg: EmuConfig;
  readonly sab: SharedArrayBuffer;
  /** The world's own layout (its columns are nested under `world.` in the full layout). */
  readonly desc: LayoutDesc;
  /** Global core index (host * cfg.cores + core); the fabric has index hosts*cores. */
  readonly globalCore: number;
  readonly host: number;
  readonly core: number;
  readonly locks: LockTable;
  readonly doorbells: Doorbells;
  /** The runtime's control block (src/cpu/control.ts): a world may set Ctl.WORLD_DONE. */
  readonly ctl: Int32Array;
  /**
   * This worker's clock: virtual time and the cost profile (`--clock virtual`), or the wall
   * clock's latest reading with zero costs (`--clock wall`). Hand-off stamps read `vc.t`.
   */
  readonly vc?: VClock;
}

export interface CoreSetup {
  /** In priority order: NAPI, SoftIRQ, kernel threads. */
  contexts: KernelContext[];
  apps: AppThread[];
  /** Called once when the measured window starts (reset this core's counters). */
  onMeasureStart?(now: number): void;
  /** Time trace of this core (--tt/--trace): the core loop records its units of work and idle gaps. */
  trace?: CoreTrace;
  /**
   * Called once after the loop ends (flush caches, publish counters). What it returns (plain
   * data: encoded histograms, samples) reaches `World.collect` in `perCore[globalCore]`.
   */
  onStop?(now: number): unknown;
}

export interface World {
  readonly name: string;
  /**
   * Virtual time: true when the world charges the cost profile itself (the Homa world). Otherwise
   * each unit of work that charged nothing is charged its real JavaScript time x --cost-scale,
   * so any world runs in virtual time.
   */
  readonly costModel?: boolean;
  /** Lock classes this world uses and how many locks of each (for the shared lock table). */
  lockClasses(cfg: EmuConfig): { classes: string[]; counts: number[] };
  /** Shared memory of the world (validated sizing: throw a UserError with code ESIZING if too large). */
  layout(cfg: EmuConfig): LayoutDesc;
  /** Main thread, before workers start. */
  init(cfg: EmuConfig, sab: SharedArrayBuffer, desc: LayoutDesc): void;
  /** Worker side: the contexts and app threads of one core. */
  setupCore(env: CoreEnv): CoreSetup | Promise<CoreSetup>;
  /** Worker side: the fabric (switch) worker, if the world has one. */
  setupFabric?(env: CoreEnv): CoreSetup | Promise<CoreSetup>;
  /**
   * Main thread, after every worker stopped: the world's own results (JSON-able). `perCore[g]` is
   * what worker g's `onStop` returned (undefined if it returned nothing).
   */
  collect(cfg: EmuConfig, sab: SharedArrayBuffer, desc: LayoutDesc, measuredNs: number, perCore: readonly unknown[]): unknown;
}

/**
 * Worlds already in this thread's code, by their module's URL: a one-file worker bundle that
 * includes worlds registers them here, so a task naming one of those URLs uses the bundled copy
 * (importing the module file as well would load a second copy of every module it shares with the
 * worker, each with its own module state).
 */
const preloaded = new Map<string, World>();

/** Registers `world` as the one the module at `moduleUrl` exports (see `preloaded`). */
export function preloadWorld(moduleUrl: string, world: World): void {
  preloaded.set(moduleUrl, world);
}

/** Imports the world a compiled module exports as `world` (a file URL or an absolute path). */
export async function importWorld(moduleUrl: string): Promise<World> {
  const url = moduleUrl.startsWith('file:') ? moduleUrl : isAbsolute(moduleUrl) ? pathToFileURL(moduleUrl).href : null;
  if (url === null) throw new Error(`world module ${moduleUrl}: expected a file URL or an absolute path`);
  const known = preloaded.get(url);
  if (known !== undefined) return known;
  const mod = (await import(url)) as { world?: World };
  if (mod.world === undefined) throw new Error(`world module ${moduleUrl} does not export 'world'`);
  return mod.world;
}
