/**
 * Bundles the core worker with the built-in worlds (dist/src/cluster/worker-entry.js: the worker,
 * both worlds registered under their modules' URLs, and every module they import) into one
 * CommonJS file, dist/src/cluster/worker.bundle.cjs, after `tsc`. Every emulated core is a worker
 * thread that loads this code into its own isolate: one file instead of ~65 ES modules cuts each
 * worker's module resolution, loading and linking, the largest part of a large cluster's start-up
 * after thread creation itself (issue 11 item 7, bench/RESULTS.md); CommonJS because piscina's
 * worker `require`s its task file first, so a CommonJS bundle loads without starting Node's ES
 * module loader in every worker (~9 ms each here). The orchestrator uses the bundle when it is
 * at least as new as worker.js (a later `tsc` alone makes it stale, and then the modules are
 * loaded one by one as before). A module that reads a file next to itself (`new URL('./x.json',
 * import.meta.url)`) keeps its own location: `import.meta.url` is rewritten, per module, to that
 * module's compiled file relative to the bundle (`import.meta.filename` and `dirname` to its
 * path). User modules (`--steering FILE`, worlds given as paths) are still imported at run time
 * (`import()` works from CommonJS).
 */
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const entry = resolve(root, 'dist/src/cluster/worker-entry.js');
const outfile = resolve(root, 'dist/src/cluster/worker.bundle.cjs');
const outDir = dirname(outfile);

/** Rewrites `import.meta.url` in each compiled module of this project to its own file's URL. */
const ownUrl = {
  name: 'own-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /[\\/]dist[\\/].*\.js$/ }, async (args) => {
      const src = await readFile(args.path, 'utf8');
      if (!src.includes('import.meta.')) return undefined;
      const rel = relative(outDir, args.path).split('\\').join('/');
      const url = `new URL(${JSON.stringify(rel)}, __homaEmuBundleUrl)`;
      const contents = src
        .replaceAll('import.meta.url', `${url}.href`)
        .replaceAll('import.meta.filename', `__homaEmuFileURLToPath(${url})`)
        .replaceAll('import.meta.dirname', `__homaEmuDirname(__homaEmuFileURLToPath(${url}))`);
      return { contents, loader: 'js' };
    });
  },
};

await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  plugins: [ownUrl],
  // The bundle's own URL, the base of each module's rewritten import.meta.url.
  banner: {
    js: "const __homaEmuBundleUrl = require('node:url').pathToFileURL(__filename).href;\n"
      + "const { fileURLToPath: __homaEmuFileURLToPath } = require('node:url'); const { dirname: __homaEmuDirname } = require('node:path');",
  },
});
