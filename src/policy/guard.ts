/**
 * Guards around the calls into a user's policy module (--steering / --thread-choice / --pacer
 * given as a path). While a core is inside such a call, its word of the shared `userCall` column
 * holds which policy it is in; a call that never returns leaves it set, so the watchdog can name
 * the module, the method and the core it hung on rather than the bystanders that waited on that
 * core. Built-in policies are not wrapped: the guard costs two plain stores per call, paid only
 * by user modules.
 */

export const USER_CALL_KINDS = ['steering', 'thread-choice', 'pacer'] as const;
export type UserCallKind = (typeof USER_CALL_KINDS)[number];

let words: Int32Array | null = null;
let slot = 0;

/** Called once by a core worker: its word of the shared `userCall` column. */
export function setUserCallSlot(column: Int32Array, index: number): void {
  words = column;
  slot = index;
}

/** Kind stored in the word while inside a call (0 = none). */
export function userCallCode(kind: UserCallKind): number {
  return USER_CALL_KINDS.indexOf(kind) + 1;
}

/** The kind a word holds, or null for 0 / an unknown value. */
export function userCallKind(code: number): UserCallKind | null {
  return USER_CALL_KINDS[code - 1] ?? null;
}

/**
 * Wraps `obj[method]` in place so every call marks this core's word. Without a slot (the main
 * thread, tests) the object is returned unchanged.
 */
export function guardPolicy<T extends object>(obj: T, kind: UserCallKind, method: string): T {
  const w = words;
  if (w === null) return obj;
  const i = slot;
  const code = userCallCode(kind);
  type Method = (a: unknown, b: unknown, c: unknown, d: unknown, e: unknown, f: unknown) => unknown;
  const rec = obj as unknown as Record<string, Method>;
  const fn = rec[method]!;
  // Fixed parameters (the policy methods take at most six), so the hot path allocates nothing.
  rec[method] = function guarded(this: unknown, a: unknown, b: unknown, c: unknown, d: unknown, e: unknown, f: unknown): unknown {
    w[i] = code;
    try {
      return fn.call(this, a, b, c, d, e, f);
    } finally {
      w[i] = 0;
    }
  };
  return obj;
}
