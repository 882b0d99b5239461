/**
 * Assertions (TigerBeetle's habit): the invariants of every shared-memory hand-off are checked
 * on both sides (ring push/pop, slot alloc/free, lock acquire/release owner, RPC hand-off and
 * pick-up), so a broken invariant fails where it breaks, naming it, instead of surfacing after
 * the run as a leak or a wrong figure. On in tests (vitest sets VITEST) and with
 * HOMA_EMU_ASSERT=1 in the environment; HOMA_EMU_ASSERT=0 turns them off in tests too. `ASSERT`
 * is read once, when this module loads, and never changes, so a guard `if (ASSERT && !ok)` is a
 * branch on a constant that the optimiser drops when assertions are off (the pipeline bench
 * before/after is in bench/RESULTS.md). Call sites build their message only behind the guard.
 */

/** Whether assertions are on for an environment (HOMA_EMU_ASSERT=1/0 wins; else on under vitest). */
export function assertEnabled(env: Readonly<Record<string, string | undefined>>): boolean {
  const v = env['HOMA_EMU_ASSERT'];
  if (v === '1') return true;
  if (v === '0') return false;
  return env['VITEST'] !== undefined;
}

/** On for this process (and, through the inherited environment, for its worker threads). */
export const ASSERT: boolean = typeof process !== 'undefined' && assertEnabled(process.env);

/** A broken invariant: `code` EASSERT, the message names the invariant and what was seen. */
export class AssertionFailed extends Error {
  readonly code = 'EASSERT';
  constructor(invariant: string) {
    super(`assertion failed: ${invariant}`);
    this.name = 'AssertionFailed';
  }
}

/** Throws AssertionFailed naming `invariant` unless `ok`. Call it behind `if (ASSERT)`. */
export function assert(ok: boolean, invariant: string): asserts ok {
  if (!ok) throw new AssertionFailed(invariant);
}
