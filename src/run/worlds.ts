/**
 * The registry of worlds the runtime can run, by name. Loaded lazily in every worker so a worker
 * only imports the code of the world it runs. A world may also be given as a file URL or an
 * absolute path of a compiled module exporting `world` (tests use this for faulty worlds).
 */
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { World } from './world.js';

const LOADERS: Record<string, () => Promise<World>> = {
  selftest: async () => (await import('./selftest-world.js')).selftestWorld,
  homa: async () => (await import('../homa/world.js')).homaWorld,
};

export const WORLD_NAMES = Object.keys(LOADERS);

export async function loadWorld(name: string): Promise<World> {
  if (name.startsWith('file:') || isAbsolute(name)) {
    const mod = (await import(name.startsWith('file:') ? name : pathToFileURL(name).href)) as { world?: World };
    if (mod.world === undefined) throw new Error(`world module ${name} does not export 'world'`);
    return mod.world;
  }
  const load = LOADERS[name];
  if (load === undefined) throw new Error(`unknown world '${name}' (known: ${WORLD_NAMES.join(', ')})`);
  return load();
}
