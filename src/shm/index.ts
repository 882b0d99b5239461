/**
 * The shared-memory toolkit in one import: layout of struct-of-arrays columns in a
 * SharedArrayBuffer, the shared nanosecond clock, doorbells (emulated IPIs), rings of slot
 * indices, the slab pool and the instrumented lock table. Nothing here knows about Homa; the
 * runtime and the protocol build on these pieces.
 */
export * from './layout.js';
export * from './clock.js';
export * from './doorbell.js';
export * from './ring.js';
export * from './pool.js';
export * from './lock.js';
