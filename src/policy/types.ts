/**
 * The interfaces a user implements to plug a policy of their own into homa-emu (pass
 * `--steering ./my-policy.mjs`, `--thread-choice ./my-choice.mjs` or `--pacer ./my-pacer.mjs`). A policy module is loaded
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

/**
 * What a pacer policy is told about one transmission decision. The caller owns the object and
 * refills it for every call (the hot path allocates nothing): read its fields during the call,
 * never keep it. Times are ns of emulated wall time (already stretched by --dilation).
 */
export interface PacerCheck {
  /** How far the host's NIC estimate (link_idle_time) is ahead of now; 0 when the link is idle. */
  nicBacklogNs: number;
  /** The limit max_nic_est_backlog_usecs in the same unit. */
  maxBacklogNs: number;
  /** RPCs on the host's throttled list (deferred RPCs with --pacer qdisc). */
  throttledCount: number;
  /** The sender is the pacer (its later skbs of one pick; the pacer's first skb is forced and never asks). */
  isPacer: boolean;
  /** Bytes of the message not yet transmitted. */
  bytesLeft: number;
  /** Length of the whole message. */
  messageBytes: number;
  /** The tunable defer_min_bytes. */
  deferMinBytes: number;
}

/**
 * Decides whether a sender may hand a DATA skb to the NIC now or must throttle the RPC (put it
 * on the throttled list, from which only the pacer sends). Runs on every core that transmits
 * (app threads in sendmsg, SoftIRQ on GRANT arrival, the pacer), once per skb of a message
 * with more than defer_min_bytes left (the old pacer's rule: shorter messages never ask and are
 * not charged to the NIC estimate), and may be called again for the same skb when another core
 * updated the estimate at the same moment. When it returns true the skb goes and its wire time
 * is added to the estimate. Forced transmissions (the pacer's first skb of a pick, RESENDs) and
 * the DONT_THROTTLE flag bypass it. Built-ins: 'nic-short' (default), 'pacer-only', 'qdisc'
 * (the last is asked for every skb of a message of at least defer_min_bytes, and every packet
 * it sends, control packets included, is charged to the estimate: src/policy/pacer.ts).
 */
export interface PacerPolicy {
  readonly name: string;
  mayTransmit(check: PacerCheck): boolean;
}
