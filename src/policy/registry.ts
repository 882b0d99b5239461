/**
 * Names of every policy a user can pick, by kind (steering, thread choice, pacer), and the
 * loading of a user's own policy module. A value given to --steering, --thread-choice or
 * --pacer is either a built-in name or a module path (it starts with '.' or '/', or ends with
 * '.js' / '.mjs'), resolved to an absolute path so every worker loads the same file. An
 * unknown name is a ConfigError (EINVALIDOPT) listing the valid names; a module that cannot be
 * loaded or does not have the right shape is a UserError with code EPOLICY saying what is
 * missing. `checkPolicyModules` loads every module a config names once on the main thread, so
 * a bad module is refused before any worker starts, and `withAbsolutePolicyPaths` rewrites the
 * config's module paths as absolute ones, so every worker loads the same file.
 */

import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { compiledUrl } from '../util/paths.js';
import { ConfigError, UserError } from '../config/errors.js';
import type { EmuConfig } from '../config/config.js';
import type { GroPolicy } from './gro-policy.js';
import { PACER_NAMES, createPacerPolicy, isPacerName } from './pacer.js';
import { THREAD_CHOICE_NAMES, createThreadChoicePolicy, isThreadChoiceName, type InterestStats } from './interest.js';
import { STEERING_NAMES, createSteeringPolicy, isSteeringName, type SteeringStats } from './steering.js';
import type { PacerPolicy, SteeringPolicy, ThreadChoicePolicy } from './types.js';
import { guardPolicy } from './guard.js';

export const POLICY_KINDS = ['steering', 'thread-choice', 'pacer'] as const;
export type PolicyKind = (typeof POLICY_KINDS)[number];

/** Built-in names of each kind. */
export const BUILTIN_POLICIES: Readonly<Record<PolicyKind, readonly string[]>> = {
  steering: STEERING_NAMES,
  'thread-choice': THREAD_CHOICE_NAMES,
  pacer: PACER_NAMES,
};

/** True when `value` names a module rather than a built-in. */
export function isPolicyModulePath(value: string): boolean {
  return value.startsWith('.') || value.startsWith('/') || value.endsWith('.js') || value.endsWith('.mjs');
}

/**
 * Resolves a --steering / --thread-choice / --pacer value: a built-in name is returned as is;
 * a module path is returned as an absolute path (relative to `baseDir`, default the working
 * directory). Anything else throws a ConfigError whose message lists the valid names.
 */
export function resolvePolicyName(kind: PolicyKind, value: string, baseDir: string = process.cwd()): string {
  const names = BUILTIN_POLICIES[kind];
  if (names === undefined) throw new ConfigError('policy-kind', `one of ${POLICY_KINDS.join(', ')}`, kind);
  if (typeof value === 'string') {
    if (names.includes(value)) return value;
    if (value.length > 0 && isPolicyModulePath(value)) return isAbsolute(value) ? value : resolve(baseDir, value);
  }
  throw new ConfigError(kind, `one of ${names.join(', ')}, or a module path (./x.js, /abs/x.mjs)`, value);
}

/** Checks a --pacer value; returns the built-in name or the absolute module path. */
export function validatePacerName(value: string, baseDir?: string): string {
  return resolvePolicyName('pacer', value, baseDir);
}

/**
 * The steering in effect: --steering when given (non-empty), else the mechanism the
 * --gro-policy mask selects. Returns a built-in name or an absolute module path.
 */
export function effectiveSteering(steeringOption: string, gro: GroPolicy, baseDir?: string): string {
  return steeringOption === '' ? gro.steering : resolvePolicyName('steering', steeringOption, baseDir);
}

function policyError(kind: PolicyKind, path: string, what: string): UserError {
  return new UserError('EPOLICY', `--${kind} ${path}: ${what}`);
}

/** Imports the policy module at absolute path `abs` and returns its policy object (default export, else `policy`; a class is instantiated). */
async function importPolicy(kind: PolicyKind, abs: string): Promise<Record<string, unknown>> {
  if (!existsSync(abs)) {
    throw policyError(kind, abs, `file not found (expected a built-in name: ${BUILTIN_POLICIES[kind].join(', ')}; or the path of an existing .js/.mjs module)`);
  }
  if (!statSync(abs).isFile()) throw policyError(kind, abs, 'not a file');
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
  } catch (e) {
    throw policyError(kind, abs, `failed to load: ${e instanceof Error ? e.message : String(e)}`);
  }
  let exported = mod['default'] ?? mod['policy'];
  if (exported === undefined || exported === null) {
    throw policyError(kind, abs, "has no default export and no export named 'policy'");
  }
  if (typeof exported === 'function') {
    try {
      exported = new (exported as new () => unknown)();
    } catch (e) {
      throw policyError(kind, abs, `its exported class could not be constructed without arguments: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (typeof exported !== 'object' || exported === null) {
    throw policyError(kind, abs, `exports a ${typeof exported}; expected an object or a class`);
  }
  return exported as Record<string, unknown>;
}

function checkShape(kind: PolicyKind, path: string, obj: Record<string, unknown>, method: string): void {
  const missing: string[] = [];
  if (typeof obj['name'] !== 'string' || obj['name'].length === 0) missing.push("'name' (a non-empty string)");
  if (typeof obj[method] !== 'function') missing.push(`'${method}' (a function)`);
  if (missing.length > 0) throw policyError(kind, path, `the exported policy lacks ${missing.join(' and ')}`);
}

/** Loads a user steering module (see types.ts). Errors: EPOLICY naming what is missing. */
export async function loadSteeringModule(modulePath: string): Promise<SteeringPolicy> {
  const abs = resolve(modulePath);
  const obj = await importPolicy('steering', abs);
  checkShape('steering', abs, obj, 'chooseSoftirqCore');
  return guardPolicy(obj, 'steering', 'chooseSoftirqCore') as unknown as SteeringPolicy;
}

/** Loads a user thread-choice module (see types.ts). Errors: EPOLICY naming what is missing. */
export async function loadThreadChoiceModule(modulePath: string): Promise<ThreadChoicePolicy> {
  const abs = resolve(modulePath);
  const obj = await importPolicy('thread-choice', abs);
  checkShape('thread-choice', abs, obj, 'chooseInterest');
  return guardPolicy(obj, 'thread-choice', 'chooseInterest') as unknown as ThreadChoicePolicy;
}

/**
 * The steering policy for a resolved value (a built-in name or an absolute module path from
 * `resolvePolicyName` / `effectiveSteering`). Built-ins get a new instance writing into `stats`.
 */
export async function getSteeringPolicy(resolved: string, stats?: SteeringStats): Promise<SteeringPolicy> {
  if (isSteeringName(resolved)) return createSteeringPolicy(resolved, stats);
  return loadSteeringModule(resolved);
}

/** The thread-choice policy for a resolved value (built-in name or absolute module path). */
export async function getThreadChoicePolicy(resolved: string, stats?: InterestStats): Promise<ThreadChoicePolicy> {
  if (isThreadChoiceName(resolved)) return createThreadChoicePolicy(resolved, stats);
  return loadThreadChoiceModule(resolved);
}

/** Loads a user pacer module (see types.ts). Errors: EPOLICY naming what is missing. */
export async function loadPacerModule(modulePath: string): Promise<PacerPolicy> {
  const abs = resolve(modulePath);
  const obj = await importPolicy('pacer', abs);
  checkShape('pacer', abs, obj, 'mayTransmit');
  return guardPolicy(obj, 'pacer', 'mayTransmit') as unknown as PacerPolicy;
}

/** The pacer policy for a resolved value (built-in name or absolute module path). */
export async function getPacerPolicy(resolved: string): Promise<PacerPolicy> {
  if (isPacerName(resolved)) return createPacerPolicy(resolved);
  return loadPacerModule(resolved);
}

/**
 * A copy of `cfg` whose --steering, --thread-choice and --pacer module paths are absolute
 * (resolved against `baseDir`, default the working directory); built-in names are unchanged.
 * Unknown names throw the ConfigError of `resolvePolicyName`.
 */
export function withAbsolutePolicyPaths<T extends Pick<EmuConfig, 'steering' | 'threadChoice' | 'pacer'>>(cfg: T, baseDir?: string): T {
  return {
    ...cfg,
    steering: cfg.steering === '' ? '' : resolvePolicyName('steering', cfg.steering, baseDir),
    threadChoice: resolvePolicyName('thread-choice', cfg.threadChoice, baseDir),
    pacer: resolvePolicyName('pacer', cfg.pacer, baseDir),
  };
}

/** How long a user module may take to load in the checker worker before it is refused. */
export const MODULE_LOAD_LIMIT_MS = 5_000;

/**
 * Loads one user module in a checker worker with a time limit: a module that throws, has the
 * wrong shape, calls process.exit or does not finish loading within `limitMs` is a UserError
 * (EPOLICY) naming it, and the calling thread is never at its mercy.
 */
export function checkModuleInWorker(kind: PolicyKind, abs: string, limitMs: number = MODULE_LOAD_LIMIT_MS): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const w = new Worker(compiledUrl(import.meta.url, './module-check-worker.js'), { workerData: { kind, path: abs }, stdout: true, stderr: true });
    let done = false;
    const finish = (err: UserError | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err === null) resolvePromise(); else reject(err);
    };
    const timer = setTimeout(() => {
      finish(policyError(kind, abs, `did not finish loading within ${limitMs} ms (an endless loop at import?)`));
      void w.terminate();
    }, limitMs);
    w.on('message', (m: { ok: boolean; code: string | null; message?: string }) => {
      if (m.ok) finish(null);
      else finish(m.code === 'EPOLICY' || m.code === 'EINVALIDOPT' ? new UserError(m.code, m.message ?? '') : policyError(kind, abs, `failed to load: ${m.message ?? ''}`));
      void w.terminate();
    });
    w.on('error', (e) => finish(policyError(kind, abs, `failed to load: ${e.message}`)));
    w.on('exit', (code) => finish(policyError(kind, abs, `ended the process (process.exit(${code})) while loading; a policy module must not exit`)));
  });
}

/**
 * Loads every user policy module `cfg` names, each in a checker worker with a time limit
 * (checkModuleInWorker), and checks its shape, so that a missing file, a wrong export, an exit
 * or an endless loop at import is a UserError (EPOLICY) before any core worker starts. Returns
 * the absolute paths it checked.
 */
export async function checkPolicyModules(cfg: Pick<EmuConfig, 'steering' | 'threadChoice' | 'pacer'>, baseDir?: string,
  limitMs: number = MODULE_LOAD_LIMIT_MS): Promise<string[]> {
  const abs = withAbsolutePolicyPaths(cfg, baseDir);
  const todo: Array<[PolicyKind, string]> = [];
  if (abs.steering !== '' && isPolicyModulePath(cfg.steering)) todo.push(['steering', abs.steering]);
  if (isPolicyModulePath(cfg.threadChoice)) todo.push(['thread-choice', abs.threadChoice]);
  if (isPolicyModulePath(cfg.pacer)) todo.push(['pacer', abs.pacer]);
  for (const [kind, path] of todo) {
    // Cheap checks first, on this thread, with the same messages.
    if (!existsSync(path)) {
      throw policyError(kind, path, `file not found (expected a built-in name: ${BUILTIN_POLICIES[kind].join(', ')}; or the path of an existing .js/.mjs module)`);
    }
    if (!statSync(path).isFile()) throw policyError(kind, path, 'not a file');
    await checkModuleInWorker(kind, path, limitMs);
  }
  return todo.map(([, p]) => p);
}
