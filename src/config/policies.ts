/**
 * The policy choices of a run, resolved once (issue 9): config resolution (`resolveConfig`)
 * turns --gro-policy, --steering, --thread-choice, --pacer and --wakeup-placement into
 * `cfg.policies`, validating each with its own error (EINVALIDOPT naming the option, what it
 * accepts and the value) on the main thread before any worker starts. Everything downstream
 * reads the result: the cores build their policy objects from it (src/policy/registry.ts),
 * the NAPI core keeps `gro`, the wake-up placement uses `wakeupPlacement`, and the report names
 * the steering in force with `steeringInForce`. Module paths are absolute (resolved against the
 * working directory), so every worker loads the same file. Only names and syntax here:
 * constructing policy objects and loading modules is src/policy/'s job.
 */
import { parseGroPolicy, type GroPolicy } from './gro-policy.js';
import { resolvePolicyName } from './policy-names.js';
import { parseWakeupPlacement, type WakeupPlacement } from './wakeup-placement.js';

/** The resolved policy choices of one run (`cfg.policies`). */
export interface PolicyChoices {
  /** --gro-policy: the mask and the flags it sets. */
  readonly gro: GroPolicy;
  /** The SoftIRQ steering in force: --steering when given, else the one the --gro-policy mask selects (built-in name or absolute module path). */
  readonly steering: string;
  /** Where `steering` comes from, for reports: '--steering' or 'default of --gro-policy 0x72'. */
  readonly steeringSource: string;
  /** --thread-choice: a built-in name or an absolute module path. */
  readonly threadChoice: string;
  /** --pacer: a built-in name or an absolute module path. */
  readonly pacer: string;
  /** --wakeup-placement, parsed. */
  readonly wakeupPlacement: WakeupPlacement;
}

/** The options `resolvePolicies` reads. */
export interface PolicyOptions {
  groPolicy: string; steering: string; threadChoice: string; pacer: string; wakeupPlacement: string;
}

/**
 * Resolves and validates every policy option (module paths against `baseDir`, default the
 * working directory). Throws the option's ConfigError for a bad value.
 */
export function resolvePolicies(o: PolicyOptions, baseDir: string = process.cwd()): PolicyChoices {
  const gro = parseGroPolicy(o.groPolicy);
  const given = o.steering !== '';
  return Object.freeze({
    gro: Object.freeze(gro),
    steering: given ? resolvePolicyName('steering', o.steering, baseDir) : gro.steering,
    steeringSource: given ? '--steering' : `default of --gro-policy ${String(o.groPolicy).trim()}`,
    threadChoice: resolvePolicyName('thread-choice', o.threadChoice, baseDir),
    pacer: resolvePolicyName('pacer', o.pacer, baseDir),
    wakeupPlacement: Object.freeze(parseWakeupPlacement(o.wakeupPlacement)),
  });
}

/** The steering in force with its source, as reports print it: `gen2 (default of --gro-policy 0x72)`. */
export function steeringInForce(p: PolicyChoices): string {
  return `${p.steering} (${p.steeringSource})`;
}
