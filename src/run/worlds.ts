/**
 * The registry of worlds the runtime can run, by name. Loaded lazily in every worker so a worker
 * only imports the code of the world it runs.
 */
import type { World } from './world.js';

const LOADERS: Record<string, () => Promise<World>> = {
  selftest: async () => (await import('./selftest-world.js')).selftestWorld,
  homa: async () => (await import('../homa/world.js')).homaWorld,
};

export const WORLD_NAMES = Object.keys(LOADERS);

export async function loadWorld(name: string): Promise<World> {
  const load = LOADERS[name];
  if (load === undefined) throw new Error(`unknown world '${name}' (known: ${WORLD_NAMES.join(', ')})`);
  return load();
}
