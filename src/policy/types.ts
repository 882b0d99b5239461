/**
 * The interfaces a user implements to plug a policy of their own into homa-emu (pass
 * `--steering ./my-policy.mjs` or `--thread-choice ./my-choice.mjs`). A policy module is loaded
 * in every core worker; its default export (or its export named `policy`) must be an object, or
 * a class with a no-argument constructor, that has the members below. A policy runs on the hot
 * path (once per GRO batch, once per hand-off): it must not allocate, must not block, must
 * not read a clock (`now` is given, in ns on the emulator's shared clock), and must return a
 * core that exists (0..st.numCores-1). See test/policy/fixtures/least-backlog.mjs for an example.
 *
 * What a policy may read and write in `st` (one host's `homa_offload_core` array, shared by
 * every core of the host, indexed by the host's core numbers):
 *   st.numCores                     cores of this host
 *   st.lastActiveNs[c]              last NAPI/GRO or SoftIRQ activity on core c (kernel last_active)
 *   st.lastGroNs[c]                 when GRO last returned on core c (last_gro)
 *   st.lastAppActiveNs[c]           last app-thread activity on core c (last_app_active)
 *   st.backlog(c) / st.addBacklog(c) batches queued to core c's SoftIRQ (softirq_backlog); core c
 *                                   decrements it after every batch it runs, so if your policy
 *                                   wants to use it, count your choices with addBacklog
 *   st.gen3Candidate(c, i)          Gen3 candidate i (0..2) of GRO core c, -1 ends the list
 */

import type { OffloadState } from './offload.js';

export type { OffloadState } from './offload.js';

/** Chooses the core that runs SoftIRQ for a GRO batch (runs on the NAPI core). */
export interface SteeringPolicy {
  /** Shown in reports. */
  readonly name: string;
  /**
   * Which hash the caller should pass as `hash`: the NIC-style IP-only flow hash or the
   * IP + ports hash. Optional; built-in RPS policies set it, others ignore the hash.
   */
  readonly rpsHash?: 'ip' | 'ip-ports';
  /**
   * Returns the host core (0..st.numCores-1) that runs SoftIRQ for a batch of `batchPkts`
   * packets that GRO collected on `groCore`. `hash` is the batch's flow hash (unsigned 32-bit),
   * `now` the current time in ns, `busyNs` the kernel's busy_usecs in ns.
   */
  chooseSoftirqCore(groCore: number, batchPkts: number, hash: number, now: number, st: OffloadState, busyNs: number): number;
}

/** Chooses which waiting app thread gets a ready message (runs on the SoftIRQ core). */
export interface ThreadChoicePolicy {
  readonly name: string;
  /**
   * Returns an index 0..n-1 into the waiter list (index 0 is the front of the list; with the
   * kernel's LIFO queueing, the most recent waiter). `waiterCores[i]` is the core on which
   * waiter i started waiting. Called only with n >= 1.
   */
  chooseInterest(waiterCores: Int32Array, n: number, now: number, st: OffloadState, busyNs: number): number;
}
