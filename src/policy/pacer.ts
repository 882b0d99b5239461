/**
 * Pacer policies (homa_pacer.c and homa_qdisc.c): the decision every transmitting
 * thread makes before it hands a DATA skb of a long message to the NIC — send now, or throttle
 * the RPC so that only the pacer sends it later. 'nic-short' is the kernel's old pacer after
 * its fix (perf #8): any thread may transmit while the NIC backlog estimate is within
 * max_nic_est_backlog, even when RPCs wait on the throttled list. 'pacer-only' is the variant
 * before that fix: as soon as anything is throttled, only the pacer transmits long messages.
 * 'qdisc' is homa_qdisc in simplified form: once anything is deferred on a host, every later
 * DATA packet of a message of at least defer_min_bytes, from any thread, is deferred too, and
 * only the pacer sends them, in SRPT order; shorter messages and control packets go at once
 * but are charged to the estimate. The simplifications: one NIC queue per host, no TCP traffic
 * (so no homa_share), the two-limit test reduced to the link-idle estimate (no DQL bytes-in-NIC
 * limit), deferral by RPC (the RPC joins the throttled list and its packets are built when the
 * pacer sends them, not queued as built skbs), no 5-packet cap per pacer call, and RESENDs are
 * never deferred. The user's own policy implements `PacerPolicy` (src/policy/types.ts).
 */

import type { PacerCheck, PacerPolicy } from './types.js';
import type { PacerName } from '../config/policy-names.js';

export type { PacerCheck, PacerPolicy } from './types.js';
export { PACER_NAMES, isPacerName, type PacerName } from '../config/policy-names.js';
export const DEFAULT_PACER: PacerName = 'nic-short';

/** How the homa world applies a pacer policy (the built-in's kind; USER for a module). */
export const PacerKind = { NIC_SHORT: 0, PACER_ONLY: 1, QDISC: 2, USER: 3 } as const;

/** The kernel's old pacer with the perf #8 fix: transmit while the NIC estimate is short. */
class NicShortPacer implements PacerPolicy {
  readonly name = 'nic-short';
  mayTransmit(c: PacerCheck): boolean {
    return c.bytesLeft <= c.deferMinBytes || c.nicBacklogNs <= c.maxBacklogNs;
  }
}

/** Only the pacer transmits long messages while anything is throttled. */
class PacerOnlyPacer implements PacerPolicy {
  readonly name = 'pacer-only';
  mayTransmit(c: PacerCheck): boolean {
    if (c.bytesLeft <= c.deferMinBytes) return true;
    return (c.throttledCount === 0 || c.isPacer) && c.nicBacklogNs <= c.maxBacklogNs;
  }
}

/** homa_qdisc_enqueue, simplified: after the first deferral, long messages go through the pacer only. */
class QdiscPacer implements PacerPolicy {
  readonly name = 'qdisc';
  mayTransmit(c: PacerCheck): boolean {
    if (c.messageBytes < c.deferMinBytes) return true;
    return (c.throttledCount === 0 || c.isPacer) && c.nicBacklogNs <= c.maxBacklogNs;
  }
}

/** A new instance of built-in pacer policy `name`. */
export function createPacerPolicy(name: PacerName): PacerPolicy {
  switch (name) {
    case 'nic-short': return new NicShortPacer();
    case 'pacer-only': return new PacerOnlyPacer();
    case 'qdisc': return new QdiscPacer();
    default: throw new Error(`pacer: no built-in policy '${String(name)}'`);
  }
}

/** The PacerKind of a resolved --pacer value (a built-in name or a module path). */
export function pacerKindOf(resolved: string): number {
  switch (resolved) {
    case 'nic-short': return PacerKind.NIC_SHORT;
    case 'pacer-only': return PacerKind.PACER_ONLY;
    case 'qdisc': return PacerKind.QDISC;
    default: return PacerKind.USER;
  }
}

/** A PacerCheck with every field zero (one per Homa handle, refilled per decision). */
export function newPacerCheck(): PacerCheck {
  return { nicBacklogNs: 0, maxBacklogNs: 0, throttledCount: 0, isPacer: false, bytesLeft: 0, messageBytes: 0, deferMinBytes: 0 };
}
