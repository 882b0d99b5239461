/**
 * vitest globalSetup: tests that run worker threads load dist/, so before any test runs dist/
 * must exist and be newer than every source (test/build-check.ts). `npm test` builds first and
 * this check then costs one stat per file; a bare `npx vitest run` after an edit builds here
 * (tsc, as `npm run build`), and a build that fails or leaves dist/ stale stops the run with a
 * message naming the file, instead of worker tests passing on old code.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { staleOutputs } from './build-check.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export default function setup(): void {
  const stale = staleOutputs(ROOT);
  if (stale.length === 0) return;
  console.log(`dist/ is missing or older than ${stale[0]}${stale.length > 1 ? ` and ${stale.length - 1} other source(s)` : ''}: building (npm run build)`);
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'inherit' });
  } catch {
    throw new Error('dist/ is stale and the build failed: fix it (`npm run build`); worker-level tests load dist/');
  }
  const still = staleOutputs(ROOT);
  if (still.length > 0) throw new Error(`dist/ is still older than ${still[0]} after building: worker-level tests load dist/`);
}
