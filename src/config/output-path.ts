/**
 * Checks of the paths a run will write (--json FILE, --rtts DIR, --data DIR, and any later
 * output option), done on the main thread before any worker starts, so a bad path is exit 2
 * with one line naming the option instead of a lost result after the whole run. A file path
 * must not be a directory, and its parent must exist and be a writable directory; a directory
 * path must be a writable directory or be creatable (its nearest existing ancestor is a writable
 * directory). Paths under /proc and /sys are refused outright: they are not storage, and Node's
 * recursive mkdir loops forever there. Nothing is created here; writers create directories
 * when they write.
 */
import { accessSync, constants, realpathSync, statSync, type Stats } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { UserError } from './errors.js';

export type OutputKind = 'file' | 'dir';

const PSEUDO_FS = ['/proc', '/sys'];

function refuse(option: string, kind: OutputKind, path: string, why: string): UserError {
  const expected = kind === 'file' ? 'a writable file path' : 'a writable directory path';
  return new UserError('EINVALIDOPT', `--${option}: expected ${expected}, got ${JSON.stringify(path)} (${why})`);
}

function isUnder(p: string, root: string): boolean {
  return p === root || p.startsWith(root + sep);
}

function statOrNull(p: string): Stats | null {
  try {
    return statSync(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ENOTDIR') return null; // a component is a file: found when walking up
    throw e;
  }
}

function writable(p: string): boolean {
  try {
    accessSync(p, constants.W_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Validates one output path for `option` (its flag without dashes). `kind` 'file': the path
 * will be written as a file; 'dir': files will be written into it (created if missing).
 * Throws a UserError (exit 2): `--option: expected a writable file path, got "x" (why)`.
 * Returns the absolute path.
 */
export function checkOutputPath(option: string, path: string, kind: OutputKind): string {
  if (typeof path !== 'string' || path.trim() === '') throw refuse(option, kind, String(path), 'an empty path');
  const abs = resolve(path);
  for (const root of PSEUDO_FS) {
    if (isUnder(abs, root)) throw refuse(option, kind, path, `${root} is not storage`);
  }
  const st = statOrNull(abs);
  if (st !== null) {
    if (kind === 'file' && st.isDirectory()) throw refuse(option, kind, path, 'it is a directory');
    if (kind === 'dir' && !st.isDirectory()) throw refuse(option, kind, path, 'it is a file, not a directory');
    // Character devices and pipes (/dev/stdout, /dev/null, a FIFO) are fine to write to.
    if (kind === 'file' && !st.isFile() && !st.isCharacterDevice() && !st.isFIFO()) throw refuse(option, kind, path, 'it is not a regular file');
    const target = kind === 'dir' ? abs : dirname(abs);
    if (!writable(target) || (kind === 'file' && !writableFile(abs))) throw refuse(option, kind, path, 'permission denied');
    if (PSEUDO_FS.some((r) => isUnder(realpathSync(abs), r))) throw refuse(option, kind, path, 'it leads into /proc or /sys');
    return abs;
  }
  // Missing: a file needs an existing parent directory; a directory needs a creatable chain.
  const parent = dirname(abs);
  if (kind === 'file') {
    const pst = statOrNull(parent);
    if (pst === null) throw refuse(option, kind, path, `its directory ${parent} does not exist`);
    if (!pst.isDirectory()) throw refuse(option, kind, path, `${parent} is not a directory`);
    if (!writable(parent)) throw refuse(option, kind, path, `its directory ${parent} is not writable`);
    if (PSEUDO_FS.some((r) => isUnder(realpathSync(parent), r))) throw refuse(option, kind, path, 'it leads into /proc or /sys');
    return abs;
  }
  let anc = parent;
  let ast = statOrNull(anc);
  while (ast === null && dirname(anc) !== anc) {
    anc = dirname(anc);
    ast = statOrNull(anc);
  }
  if (ast === null || !ast.isDirectory()) throw refuse(option, kind, path, `${anc} is not a directory`);
  if (!writable(anc)) throw refuse(option, kind, path, `${anc} is not writable`);
  if (PSEUDO_FS.some((r) => isUnder(realpathSync(anc), r))) throw refuse(option, kind, path, 'it leads into /proc or /sys');
  return abs;
}

function writableFile(p: string): boolean {
  try {
    accessSync(p, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
