import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compiledPairs, staleOutputs } from './build-check.js';

let root = '';
afterEach(() => { if (root !== '') rmSync(root, { recursive: true, force: true }); root = ''; });

function put(rel: string, mtimeSec: number): void {
  const f = join(root, rel);
  mkdirSync(dirname(f), { recursive: true });
  writeFileSync(f, '');
  utimesSync(f, mtimeSec, mtimeSec);
}

describe('build check (test/global-setup.ts builds when dist/ is stale)', () => {
  it('pairs every compiled source with its output, and none else', () => {
    root = mkdtempSync(join(tmpdir(), 'homa-emu-build-'));
    put('src/a/b.ts', 1000);
    put('src/a/c.d.ts', 1000);
    put('src/d/data.json', 1000);
    put('bench/x.ts', 1000);
    put('test/workers/w.ts', 1000);
    put('test/y.test.ts', 1000);
    put('bench/data.json', 1000);
    expect(compiledPairs(root).sort()).toEqual([
      ['bench/x.ts', 'dist/bench/x.js'], ['src/a/b.ts', 'dist/src/a/b.js'], ['src/d/data.json', 'dist/src/d/data.json'],
      ['test/workers/w.ts', 'dist/test/workers/w.js'],
    ]);
  });

  it('lists a source whose output is missing or older, not one whose output is as new or newer', () => {
    root = mkdtempSync(join(tmpdir(), 'homa-emu-build-'));
    put('src/old.ts', 1000);
    put('dist/src/old.js', 2000);
    put('src/same.ts', 1000);
    put('dist/src/same.js', 1000);
    put('src/edited.ts', 3000);
    put('dist/src/edited.js', 2000);
    put('src/new.ts', 1000);
    expect(staleOutputs(root).sort()).toEqual(['src/edited.ts', 'src/new.ts']);
  });

  it('finds dist/ of this checkout current (the global setup built it if it was not)', () => {
    expect(staleOutputs(join(dirname(new URL(import.meta.url).pathname), '..'))).toEqual([]);
  });
});
