/**
 * Whether dist/ is current: worker threads load the compiled files under dist/ (Node 20 cannot
 * load TypeScript in a worker), so a test that runs workers against a missing or stale dist/
 * would skip silently or test old code. `staleOutputs` lists every source that tsc compiles
 * (tsconfig.json's include: src/, bench/, test/workers/; .ts and src's .json) whose output
 * under dist/ is missing or older than it. test/global-setup.ts builds when the list is not
 * empty and fails, naming the file, when the build does not make it empty.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Sources under `root` that tsc compiles, as [source, its output], paths relative to root. */
export function compiledPairs(root: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const dir of ['src', 'bench', 'test/workers']) {
    const abs = join(root, dir);
    if (!existsSync(abs)) continue;
    for (const e of readdirSync(abs, { recursive: true, withFileTypes: true })) {
      if (!e.isFile()) continue;
      const rel = relative(root, join(e.parentPath, e.name)).split('\\').join('/');
      if (rel.endsWith('.d.ts')) continue;
      if (rel.endsWith('.ts')) out.push([rel, `dist/${rel.slice(0, -3)}.js`]);
      else if (dir === 'src' && rel.endsWith('.json')) out.push([rel, `dist/${rel}`]);
    }
  }
  return out;
}

/** Sources whose compiled output is missing or older than the source (empty: dist/ is current). */
export function staleOutputs(root: string): string[] {
  const stale: string[] = [];
  for (const [src, dist] of compiledPairs(root)) {
    const d = join(root, dist);
    if (!existsSync(d) || statSync(d).mtimeMs < statSync(join(root, src)).mtimeMs) stale.push(src);
  }
  return stale;
}
