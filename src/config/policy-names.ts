/**
 * The names of every policy a user can pick, by option (--steering, --thread-choice, --pacer,
 * --wait-mode), and the resolution of a --steering / --thread-choice / --pacer value: a built-in
 * name stays as it is, a module path (it starts with '.' or '/', or ends with '.js' / '.mjs')
 * becomes an absolute path so every worker loads the same file, anything else is a ConfigError
 * (EINVALIDOPT) listing the names. Pure names and syntax, here in config/ so that config
 * resolution (config/policies.ts) validates every policy choice once on the main thread; the
 * policy objects themselves are built in src/policy/, which re-exports these lists.
 */
import { isAbsolute, resolve } from 'node:path';
import { ConfigError } from './errors.js';

/** Built-in SoftIRQ steering policies (src/policy/steering.ts). */
export const STEERING_NAMES = ['same-core', 'next', 'idle', 'gen2', 'gen3', 'rps-ip', 'rps-ports'] as const;
export type SteeringName = (typeof STEERING_NAMES)[number];

/** Built-in thread choices (src/policy/interest.ts). */
export const THREAD_CHOICE_NAMES = ['first', 'idle-core'] as const;
export type ThreadChoiceName = (typeof THREAD_CHOICE_NAMES)[number];

/** Built-in pacer policies (src/policy/pacer.ts). */
export const PACER_NAMES = ['pacer-only', 'nic-short', 'qdisc'] as const;
export type PacerName = (typeof PACER_NAMES)[number];

/** How an app thread waits for a message (src/policy/wait.ts). */
export const WAIT_MODES = ['poll-then-block', 'poll', 'block'] as const;
export type WaitMode = (typeof WAIT_MODES)[number];

/** The policy kinds a user module can implement, named like their options. */
export const POLICY_KINDS = ['steering', 'thread-choice', 'pacer'] as const;
export type PolicyKind = (typeof POLICY_KINDS)[number];

/** Built-in names of each kind. */
export const BUILTIN_POLICIES: Readonly<Record<PolicyKind, readonly string[]>> = {
  steering: STEERING_NAMES,
  'thread-choice': THREAD_CHOICE_NAMES,
  pacer: PACER_NAMES,
};

export function isSteeringName(value: string): value is SteeringName {
  return (STEERING_NAMES as readonly string[]).includes(value);
}

export function isThreadChoiceName(value: string): value is ThreadChoiceName {
  return (THREAD_CHOICE_NAMES as readonly string[]).includes(value);
}

export function isPacerName(value: string): value is PacerName {
  return (PACER_NAMES as readonly string[]).includes(value);
}

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
