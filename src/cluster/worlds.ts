/**
 * The registry of worlds, by name, and `runWorld(name, cfg)`: the composition root picks the
 * world, the runtime (src/run, src/cpu) runs whatever module it is given. A name maps to its
 * module twice: imported here for the main thread's side (layout, init, collect), and as the URL
 * of its compiled module, which every worker task carries and imports, so a worker loads only the
 * code of the world it runs. A world may also be given as a file URL or an absolute path of a
 * compiled module exporting `world` (tests use this for faulty worlds).
 */
import { statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EmuConfig } from '../config/config.js';
import { importWorld, type World } from '../cpu/world.js';
import {
  openWorkerPoolFor, plainWorkerUrl, runWorldModule, type RawRun, type RunOptions, type WorkerPool, type WorldRef,
} from '../run/orchestrator.js';
import { compiledUrl } from '../util/paths.js';

const MODULES: Record<string, { file: string; load: () => Promise<World> }> = {
  selftest: { file: './selftest-world.js', load: async () => (await import('./selftest-world.js')).world },
  homa: { file: './homa-world.js', load: async () => (await import('./homa-world.js')).world },
};

export const WORLD_NAMES = Object.keys(MODULES);

function isModule(name: string): boolean {
  return name.startsWith('file:') || isAbsolute(name);
}

function known(name: string): { file: string; load: () => Promise<World> } {
  const m = MODULES[name];
  if (m === undefined) throw new Error(`unknown world '${name}' (known: ${WORLD_NAMES.join(', ')})`);
  return m;
}

export async function loadWorld(name: string): Promise<World> {
  return isModule(name) ? importWorld(name) : known(name).load();
}

/**
 * The file the workers of a built-in world load: the one-file bundle of the worker and the
 * built-in worlds (scripts/bundle-worker.mjs, entry src/cluster/worker-entry.ts) when it is at
 * least as new as the compiled worker.js (a later `tsc` alone makes it stale), else the modules one
 * by one. HOMA_EMU_WORKER_BUNDLE=0 forces the modules (the start-up bench compares the two). A
 * world given as a path always gets the modules: it imports the project's modules itself, and
 * their state (the clock's origin, the user-call slot) must be the worker's.
 */
export function workerEntry(): { url: string; bundled: boolean } {
  const plain = plainWorkerUrl();
  if (process.env['HOMA_EMU_WORKER_BUNDLE'] !== '0') {
    const bundle = compiledUrl(import.meta.url, './worker.bundle.cjs');
    try {
      if (statSync(fileURLToPath(bundle)).mtimeMs >= statSync(fileURLToPath(plain)).mtimeMs) return { url: bundle.href, bundled: true };
    } catch {
      // no bundle: the modules
    }
  }
  return { url: plain, bundled: false };
}

/** A world name (or module) resolved for the runtime: its object here, its module's URL for the workers. */
export async function resolveWorld(name: string): Promise<WorldRef> {
  if (isModule(name)) return { name, world: await importWorld(name), url: name };
  const m = known(name);
  return { name, world: await m.load(), url: compiledUrl(import.meta.url, m.file).href, workerUrl: workerEntry().url };
}

/** Worker threads for several runs of world `name` with `cfg`'s cluster (close them when done). */
export async function openWorkerPool(name: string, cfg: EmuConfig): Promise<WorkerPool> {
  return openWorkerPoolFor(await resolveWorld(name), cfg);
}

/** Runs the world `name` (a registered name, a file URL or an absolute path of a compiled world module). */
export async function runWorld(name: string, cfg: EmuConfig, opts: RunOptions = {}): Promise<RawRun> {
  return runWorldModule(await resolveWorld(name), cfg, opts);
}
