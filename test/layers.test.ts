/**
 * The layer order of src/, checked from the imports so it stays true (issue 9). Every folder of
 * src/ sits in one layer; a file may import from its own layer or any layer below, never above:
 *
 *   shm, config, wire, util -> cpu, policy -> run -> net, homa, metrics -> workload -> cluster -> cli
 *
 * cpu/ is the worker side of the runtime and holds its contract with worlds (cpu/world.ts:
 * World, CoreEnv, CoreSetup); run/ is the main-thread side (the orchestrator) and names no world;
 * cluster/ is the composition root (the worlds, their registry, `emulate`, the report, compare,
 * the output files). Edges are every static import and re-export, every dynamic `import('...')`
 * and every module URL built from `import.meta.url` (worker entry points, JSON data). Type-only
 * imports count: a type is a dependency too.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(ROOT, 'src');

/** Lowest first; folders in one entry share a layer. src/index.ts (the library entry) is on top. */
const LAYERS: readonly (readonly string[])[] = [
  ['shm', 'config', 'wire', 'util'],
  ['cpu', 'policy'],
  ['run'],
  ['net', 'homa', 'metrics'],
  ['workload'],
  ['cluster'],
  ['cli', 'index.ts'],
];

/**
 * Edges allowed to point up, as `from -> to` (paths relative to src/). Empty since issue 9; an
 * entry that no longer points up must be deleted (the test says so), so the list only shrinks.
 */
const KNOWN_UP: readonly string[] = [
];

/** The layer index of a path relative to src/ (its first segment), or throws for a folder not placed. */
function layerOf(rel: string): number {
  const top = rel.split('/')[0]!;
  const i = LAYERS.findIndex((l) => l.includes(top));
  if (i < 0) throw new Error(`src/${top} has no layer: add it to LAYERS in test/layers.test.ts`);
  return i;
}

/** The module specifiers `text` refers to: imports, re-exports, dynamic imports, import.meta.url URLs. */
function specifiersOf(text: string): string[] {
  const info = ts.preProcessFile(text, true, true);
  const out = info.importedFiles.map((f) => f.fileName);
  const url = /(?:compiledUrl\(\s*import\.meta\.url\s*,\s*|new URL\(\s*)'([^']+)'/g;
  for (let m = url.exec(text); m !== null; m = url.exec(text)) out.push(m[1]!);
  return out.filter((s) => s.startsWith('.'));
}

/** Up-pointing edges among `files` (path relative to src/ -> source text). */
function upEdges(files: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  for (const [from, text] of files) {
    const fromLayer = layerOf(from);
    for (const spec of specifiersOf(text)) {
      const to = posix.normalize(posix.join(posix.dirname(from), spec)).replace(/\.js$/, '.ts');
      if (to.startsWith('..')) throw new Error(`src/${from} imports ${spec}, outside src/`);
      if (layerOf(to) > fromLayer) out.push(`${from} -> ${to}`);
    }
  }
  return [...new Set(out)].sort();
}

function sourceFiles(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile() || !e.name.endsWith('.ts')) continue;
    const abs = join(e.parentPath, e.name);
    out.set(relative(SRC, abs).split('\\').join('/'), readFileSync(abs, 'utf8'));
  }
  return out;
}

describe('layer order of src/', () => {
  it('finds an import, a re-export, a dynamic import and a worker URL pointing up, and passes edges pointing down', () => {
    const files = new Map([
      ['shm/a.ts', "import { x } from '../homa/b.js';\nexport * from '../cpu/c.js';"],
      ['cpu/c.ts', "import type { Y } from '../shm/a.js';\nconst w = () => import('../cluster/d.js');"],
      ['run/e.ts', "new Worker(compiledUrl(import.meta.url, '../cli/f.js'));\nimport { z } from './g.js';"],
      ['cluster/d.ts', "import { x } from '../homa/b.js';\nimport { q } from 'node:fs';"],
    ]);
    expect(upEdges(files)).toEqual(['cpu/c.ts -> cluster/d.ts', 'run/e.ts -> cli/f.ts', 'shm/a.ts -> cpu/c.ts', 'shm/a.ts -> homa/b.ts']);
    expect(() => upEdges(new Map([['nowhere/x.ts', '']]))).toThrow(/src\/nowhere has no layer/);
  });

  it('has no edge pointing up beyond the known ones, and every known one still exists', () => {
    const up = upEdges(sourceFiles(SRC));
    const known = new Set(KNOWN_UP);
    expect(up.filter((e) => !known.has(e)), 'new imports pointing up the layer order').toEqual([]);
    expect(KNOWN_UP.filter((e) => !up.includes(e)), 'fixed: delete these from KNOWN_UP').toEqual([]);
  });
});
