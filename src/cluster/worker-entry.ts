/**
 * The entry of the one-file worker bundle (scripts/bundle-worker.mjs, made by `npm run build`):
 * the core worker (src/cpu/worker.ts) together with the built-in worlds, registered under the
 * URLs of their compiled modules, so a worker thread loads one file instead of ~65 modules and a
 * task for a built-in world finds it already loaded (src/cpu/world.ts, `preloadWorld`). A large
 * cluster's start-up is mostly each worker's module loading (bench/RESULTS.md, start-up).
 */
import { preloadWorld } from '../cpu/world.js';
import { compiledUrl } from '../util/paths.js';
import { world as homaWorld } from './homa-world.js';
import { world as selftestWorld } from './selftest-world.js';

preloadWorld(compiledUrl(import.meta.url, './homa-world.js').href, homaWorld);
preloadWorld(compiledUrl(import.meta.url, './selftest-world.js').href, selftestWorld);

export { default } from '../cpu/worker.js';
