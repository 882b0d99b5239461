/**
 * Construction of the policy objects a core runs (steering, thread choice, pacer) from the
 * choices config resolution made once (`cfg.policies`, src/config/policies.ts), and the loading
 * of a user's own policy module. The names and their resolution (a built-in name, or a module
 * path made absolute) live in src/config/policy-names.ts and are re-exported here; nothing in
 * this file parses an option again. `corePolicies` builds the built-ins synchronously (tests,
 * and the default of a Homa handle); `loadCorePolicies` also loads module paths. A module that
 * cannot be loaded or does not have the right shape is a UserError with code EPOLICY saying
 * what is missing; `checkPolicyModules` loads every module a config names once, in a checker
 * worker, on the main thread, so a bad module is refused before any core worker starts.
 */

import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { compiledUrl } from '../util/paths.js';
import { UserError } from '../config/errors.js';
import type { PolicyChoices } from '../config/policies.js';
import {
  BUILTIN_POLICIES, isPacerName, isSteeringName, isThreadChoiceName,
  type PacerName, type PolicyKind, type SteeringName, type ThreadChoiceName,
} from '../config/policy-names.js';
import { createPacerPolicy } from './pacer.js';
import { createThreadChoicePolicy, type InterestStats } from './interest.js';
import { createSteeringPolicy, type SteeringStats } from './steering.js';
import type { PacerPolicy, SteeringPolicy, ThreadChoicePolicy } from './types.js';
import { guardPolicy } from './guard.js';

export {
  BUILTIN_POLICIES, POLICY_KINDS, isPolicyModulePath, resolvePolicyName, type PolicyKind,
} from '../config/policy-names.js';

/** The policy objects of one core, built from `cfg.policies`. */
export interface CorePolicies {
  steering: SteeringPolicy;
  threadChoice: ThreadChoicePolicy;
  pacer: PacerPolicy;
}

/**
 * The built-in policies `p` names (a new instance of each; the steering's counters go to
 * `steeringStats`). A module path cannot be loaded synchronously: it throws, naming the option
 * (use `loadCorePolicies`).
 */
export function corePolicies(p: PolicyChoices, steeringStats?: SteeringStats): CorePolicies {
  const mod = !isSteeringName(p.steering) ? 'steering' : !isThreadChoiceName(p.threadChoice) ? 'thread-choice'
    : !isPacerName(p.pacer) ? 'pacer' : null;
  if (mod !== null) {
    throw new Error(`corePolicies: --${mod} names a module (${mod === 'steering' ? p.steering : mod === 'pacer' ? p.pacer : p.threadChoice}); load it with loadCorePolicies`);
  }
  return {
    steering: createSteeringPolicy(p.steering as SteeringName, steeringStats),
    threadChoice: createThreadChoicePolicy(p.threadChoice as ThreadChoiceName),
    pacer: createPacerPolicy(p.pacer as PacerName),
  };
}

/** The policies `p` names, built-in or loaded from their modules (one instance each, for one core). */
export async function loadCorePolicies(p: PolicyChoices, steeringStats?: SteeringStats): Promise<CorePolicies> {
  return {
    steering: await getSteeringPolicy(p.steering, steeringStats),
    threadChoice: await getThreadChoicePolicy(p.threadChoice),
    pacer: await getPacerPolicy(p.pacer),
  };
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
 * `cfg.policies`, src/config/policies.ts). Built-ins get a new instance writing into `stats`.
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
 * Loads every user policy module `cfg.policies` names (`p`: absolute paths), each in a checker worker with a time limit
 * (checkModuleInWorker), and checks its shape, so that a missing file, a wrong export, an exit
 * or an endless loop at import is a UserError (EPOLICY) before any core worker starts. Returns
 * the absolute paths it checked.
 */
export async function checkPolicyModules(p: PolicyChoices, limitMs: number = MODULE_LOAD_LIMIT_MS): Promise<string[]> {
  const todo: Array<[PolicyKind, string]> = [];
  if (!isSteeringName(p.steering)) todo.push(['steering', p.steering]);
  if (!isThreadChoiceName(p.threadChoice)) todo.push(['thread-choice', p.threadChoice]);
  if (!isPacerName(p.pacer)) todo.push(['pacer', p.pacer]);
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
