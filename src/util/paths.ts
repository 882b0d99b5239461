/**
 * Where compiled files are. Worker threads cannot load TypeScript on Node 20, so they always run
 * the compiled JavaScript under dist/. Code running from the sources (vitest imports src/*.ts)
 * maps its own location onto dist/ to find the worker entry; code already in dist/ resolves
 * relative to itself.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** URL of the compiled JS file `rel` (relative to the module at `metaUrl`). */
export function compiledUrl(metaUrl: string, rel: string): URL {
  const here = fileURLToPath(metaUrl);
  if (!here.endsWith('.ts')) return new URL(rel, metaUrl);
  const m = /^(.*)[\\/](src|test|bench)[\\/](.*)$/.exec(here);
  if (m === null) throw new Error(`cannot map ${here} onto dist/`);
  const distFile = `${m[1]}/dist/${m[2]}/${m[3]!.replace(/\.ts$/, '.js')}`;
  const url = new URL(rel.replace(/\.ts$/, '.js'), pathToFileURL(distFile));
  if (!existsSync(url)) {
    throw new Error(`compiled file ${fileURLToPath(url)} is missing: run 'npm run build' first`);
  }
  return url;
}
