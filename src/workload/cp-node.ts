/**
 * cp_node's client and server as app threads of the Homa world (HomaModule util/cp_node.cc), in
 * three files by lifetime: cp-node-plan.ts (main thread, before the run: spec, validation,
 * placement, shared words), cp-node-threads.ts (the threads on the cores) and cp-node-collect.ts
 * (main thread, after the run: the per-port merge). This file re-exports the three.
 */
export * from './cp-node-plan.js';
export * from './cp-node-threads.js';
export * from './cp-node-collect.js';
