/**
 * The SoftIRQ entry point (homa_plumbing.c's homa_softirq). `homaSoftirq` is the IP protocol
 * handler for one GRO batch (a chain of packet slots): pass 1 dispatches every control packet
 * and every DATA packet of a message shorter than 1400 bytes one by one; pass 2 groups the
 * remaining DATA packets by (source host, sender id) and dispatches each group at once, so one
 * RPC lock hold and one grant check cover it (docs/DESIGN.md, "Packet path"). `SoftirqContext`
 * (role SOFTIRQ) drains the core's backlog ring of batches, in virtual time each batch once its
 * stamp (GRO time + IPI) has come. The GRO->SoftIRQ hand-off latency is recorded per packet taken
 * from the backlog (now - H.T_GRO, emulated ns) into the core's `hm.handoff` histograms.
 */
import { TT_CTR_SOFTIRQ_BACKLOG, TT_SOFTIRQ_START } from '../metrics/timetrace.js';
import type { CoreAccount, KernelContext } from '../cpu/context.js';
import { Role } from '../cpu/context.js';
import { H, HEADER_WORDS, PktType } from '../wire/packet.js';
import type { Homa } from './homa.js';
import { M } from './metrics.js';
import { dispatchPkts } from './incoming.js';
import { ns32Diff, ns32 } from '../shm/clock.js';
import type { LatencyTally } from '../metrics/tally.js';

const HW = HEADER_WORDS;
/** DATA of messages shorter than this is dispatched in pass 1 (the kernel's 1400). */
export const SHORT_MSG_BYTES = 1400;
/** Batches one SoftIRQ run() takes from the backlog. */
export const SOFTIRQ_BATCHES_PER_RUN = 16;

/** homa_softirq: handles one batch (chain of slots through H.NEXT) on this core. */
export function homaSoftirq(hm: Homa, head: number, now: number): number {
  const hdr = hm.pktHdr;
  hm.off.noteSoftirqStart(hm.core, now);
  if (hm.tt !== null) hm.tt.record(now, TT_SOFTIRQ_START, 0, 0, 0, 0);
  hm.count(M.softirq_calls);
  let rest = -1;
  let restTail = -1;
  let pkts = 0;
  const vc = hm.vc;
  const perPkt = vc.costs.ipSoftirqPkt + vc.costs.homaSoftirqPkt;
  for (let p = head; p >= 0;) {
    const b = p * HW;
    const next = hdr[b + H.NEXT]!;
    pkts++;
    if (hdr[b + H.TYPE] !== PktType.DATA || hdr[b + H.MSG_LEN]! < SHORT_MSG_BYTES) {
      hdr[b + H.NEXT] = -1;
      if (vc.virtual) { vc.t += perPkt; now = vc.t; }
      dispatchPkts(hm, p, now);
    } else {
      hdr[b + H.NEXT] = -1;
      if (restTail < 0) rest = p; else hdr[restTail * HW + H.NEXT] = p;
      restTail = p;
    }
    p = next;
  }
  hm.count(M.softirq_packets, pkts);
  while (rest >= 0) {
    const first = rest;
    const src = hdr[first * HW + H.SRC_HOST]!;
    const id = hdr[first * HW + H.SENDER_ID]!;
    let groupTail = first;
    let groupPkts = 1;
    let newRest = -1;
    let newTail = -1;
    for (let q = hdr[first * HW + H.NEXT]!; q >= 0;) {
      const next = hdr[q * HW + H.NEXT]!;
      hdr[q * HW + H.NEXT] = -1;
      if (hdr[q * HW + H.SRC_HOST] === src && hdr[q * HW + H.SENDER_ID] === id) {
        hdr[groupTail * HW + H.NEXT] = q;
        groupTail = q;
        groupPkts++;
      } else {
        if (newTail < 0) newRest = q; else hdr[newTail * HW + H.NEXT] = q;
        newTail = q;
      }
      q = next;
    }
    hdr[groupTail * HW + H.NEXT] = -1;
    if (vc.virtual) { vc.t += perPkt * groupPkts; now = vc.t; }
    dispatchPkts(hm, first, now);
    rest = newRest;
  }
  return pkts;
}

/**
 * Records GRO->SoftIRQ (now - H.T_GRO, emulated ns) for every packet of the batch at `head`. The
 * packets of one NAPI pass share their stamp, so each run of equal stamps is one update with a
 * count: the same histogram as one record per packet.
 */
function recordGroToSoftirq(tally: LatencyTally, hdr: Int32Array, head: number, now32: number,
  dilation: number): void {
  let stamp = hdr[head * HW + H.T_GRO]!;
  let count = 0;
  for (let p = head; p >= 0; p = hdr[p * HW + H.NEXT]!) {
    const t = hdr[p * HW + H.T_GRO]!;
    if (t !== stamp) {
      tally.recordTimes(Math.round(ns32Diff(now32, stamp) / dilation), count);
      stamp = t;
      count = 0;
    }
    count++;
  }
  if (count > 0) tally.recordTimes(Math.round(ns32Diff(now32, stamp) / dilation), count);
}

/** SoftIRQ of one core: drains its backlog ring of GRO batches (role SOFTIRQ). */
export class SoftirqContext implements KernelContext {
  readonly role = Role.SOFTIRQ;
  readonly name = 'softirq';
  private readonly batch = new Int32Array(SOFTIRQ_BATCHES_PER_RUN);
  constructor(private readonly hm: Homa) {}
  run(now: number, acct: CoreAccount): number {
    void acct;
    const hm = this.hm;
    const ring = hm.softirqRings[hm.core]!;
    const vc = hm.vc;
    let pkts = 0;
    const hdr = hm.pktHdr;
    const tally = hm.handoff.groToSoftirq;
    const dilation = hm.cfg.dilation;
    if (hm.tt !== null) hm.tt.record(hm.stamp(now), TT_CTR_SOFTIRQ_BACKLOG, ring.size(), 0, 0, 0);
    if (vc.virtual) {
      // Batches in ring order, each once its stamp (GRO time + IPI) has come.
      for (let i = 0; i < SOFTIRQ_BATCHES_PER_RUN; i++) {
        const head = ring.peek();
        if (head < 0 || hm.pktVt[head]! > vc.t) break;
        ring.pop();
        vc.take(hm.pktVt[head]!);
        recordGroToSoftirq(tally, hdr, head, ns32(vc.t), 1);
        pkts += homaSoftirq(hm, head, vc.t);
        hm.off.noteSoftirqEnd(hm.core);
      }
      return pkts;
    }
    const n = ring.popBatch(this.batch, SOFTIRQ_BATCHES_PER_RUN);
    const now32 = ns32(now);
    for (let i = 0; i < n; i++) {
      recordGroToSoftirq(tally, hdr, this.batch[i]!, now32, dilation);
      pkts += homaSoftirq(hm, this.batch[i]!, now);
      hm.off.noteSoftirqEnd(hm.core);
    }
    return pkts;
  }
  hasWork(): boolean {
    return this.hm.softirqRings[this.hm.core]!.size() > 0;
  }
  /** Virtual time: the stamp of the oldest batch in this core's backlog. */
  nextNs(now: number): number {
    const hm = this.hm;
    if (!hm.vc.virtual) return this.hasWork() ? now : Infinity;
    const head = hm.softirqRings[hm.core]!.peek();
    return head < 0 ? Infinity : hm.pktVt[head]!;
  }
}
