/**
 * The policy layer in one import: per-core offload state, SoftIRQ steering, gro_policy flags,
 * core layouts, thread choice and waiter queues, the wait state machine, pacer policies, the registry of
 * built-in names with user-module loading, and the interfaces user policies implement.
 */

export * from './offload.js';
export * from './steering.js';
export * from './gro-policy.js';
export * from './layout.js';
export * from './interest.js';
export * from './wait.js';
export * from './registry.js';
export * from './pacer.js';
export type { ThreadChoicePolicy, PacerCheck, PacerPolicy } from './types.js';
export * from './placement.js';
