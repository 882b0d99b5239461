/**
 * NAPI and GRO (homa_offload.c: homa_gro_receive, homa_gro_complete). `NapiContext` (role NAPI) polls the RX channels its
 * core owns, up to `napiBudget` packets per pass. For each packet `homa_gro_receive` decides:
 * when GRO on this core is not busy (its last GRO returned at least gro_busy_usecs ago), a DATA
 * packet that holds a whole message (SHORT_BYPASS) or a GRANT (FAST_GRANTS) is processed inline
 * (homa_softirq on the GRO core; its time is moved from NAPI to Role.BYPASS); otherwise the
 * packet joins the core's one held batch, whatever its flow, and a batch of `max_gro_skbs`
 * packets is pushed at once. At the end of the poll the held batch is flushed: a single packet
 * stays on this core (SAME_CORE), a larger batch goes to the core the steering policy chooses
 * (Gen2, Gen3, ... from src/policy). A batch travels as its head slot through that core's MPSC
 * backlog ring (the IPI is a doorbell ring when the core is parked); a full ring drops the batch
 * (counted). After a non-bypass pass GRO helps the pacer when the NIC backlog is below half the
 * limit (homa_pacer_check).
 */
import { TT_GRO_CTL, TT_GRO_DATA, TT_GRO_GRANT, TT_GRO_HANDOFF, hostAddr } from '../metrics/timetrace.js';
import type { CoreAccount, KernelContext } from '../cpu/context.js';
import { Role } from '../cpu/context.js';
import { ns32 } from '../shm/clock.js';
import { groBusy, shouldBypassData, shouldBypassGrant } from '../policy/gro-policy.js';
import { steerBatch } from '../policy/steering.js';
import { H, HEADER_WORDS, PktType } from '../wire/packet.js';
import type { Homa } from './homa.js';
import { M } from './metrics.js';
import { nicBacklogNs } from './outgoing.js';
import { pacerXmit, throttledCount } from './pacer.js';
import { homaSoftirq } from './softirq.js';
import { Rss } from '../net/rss.js';

const HW = HEADER_WORDS;

/**
 * The flow hash RPS steers by: as in Linux, the NIC's own RSS hash (Toeplitz, src/net/rss.ts)
 * of the packet's addresses, or addresses and ports (`rps-ports`).
 */
export function flowHash(rss: Rss, hdr: Int32Array, slot: number): number {
  const b = slot * HW;
  return rss.hash(hdr[b + H.SRC_HOST]!, hdr[b + H.DST_HOST]!, hdr[b + H.SPORT]!, hdr[b + H.DPORT]!);
}

export class NapiContext implements KernelContext {
  readonly role = Role.NAPI;
  readonly name = 'napi';
  private heldHead = -1;
  private heldTail = -1;
  private heldCount = 0;
  /** Bypass timing: start and end readings (a Float64Array, so reading the clock makes no garbage). */
  private readonly bypassTimes = new Float64Array(2);
  /** The NIC's hash function, with the fields the steering policy hashes (for RPS). */
  private readonly rss: Rss;

  /** `channels`: the RX channels of this host that this core owns. */
  constructor(private readonly hm: Homa, readonly channels: Int32Array) {
    this.rss = new Rss(hm.hosts, 1, hm.steering.rpsHash === 'ip-ports' ? 'ip-ports' : 'ip');
  }

  run(now: number, acct: CoreAccount): number {
    const hm = this.hm;
    const nic = hm.nic;
    if (nic === null) return 0;
    const budget = hm.cfg.napiBudget;
    const buf = hm.pollScratch;
    const vc = hm.vc;
    const virtual = vc.virtual;
    let work = 0;
    let nonBypass = false;
    for (let i = 0; i < this.channels.length && work < budget; i++) {
      const n = nic.pollChannel(this.channels[i]!, buf, budget - work);
      if (n > 0 && virtual) {
        // The interrupt and the start of the NAPI poll, once per poll.
        if (work === 0) { vc.take(hm.pktVt[buf[0]!]!); vc.t += vc.costs.napiPoll; }
      }
      for (let k = 0; k < n; k++) {
        const p = buf[k]!;
        if (virtual) {
          vc.take(hm.pktVt[p]!);
          vc.t += vc.costs.napiPkt + vc.costs.groPkt;
          now = vc.t;
        }
        if (this.groReceive(p, now, acct)) nonBypass = true;
      }
      work += n;
    }
    if (virtual) now = vc.t;
    if (this.heldCount > 0) this.flush(now);
    if (nonBypass && throttledCount(hm) > 0 && nicBacklogNs(hm, now) < hm.maxNicBacklogNs / 2) pacerXmit(hm, now, true);
    return work;
  }

  /** Virtual time: the earliest stamp at the head of this core's RX channels. */
  nextNs(now: number): number {
    const nic = this.hm.nic;
    if (nic === null) return Infinity;
    if (!this.hm.vc.virtual || nic.rxNextNs === undefined) return this.hasWork() ? now : Infinity;
    let t = Infinity;
    for (let i = 0; i < this.channels.length; i++) {
      const s = nic.rxNextNs(this.channels[i]!);
      if (s < t) t = s;
    }
    return t;
  }

  hasWork(): boolean {
    const nic = this.hm.nic;
    if (nic === null) return false;
    for (let i = 0; i < this.channels.length; i++) if (nic.rxPending(this.channels[i]!) > 0) return true;
    return false;
  }

  /** homa_gro_receive for packet p; returns true if it was batched (not bypassed). */
  private groReceive(p: number, now: number, acct: CoreAccount): boolean {
    const hm = this.hm;
    const hdr = hm.pktHdr;
    const b = p * HW;
    const core = hm.core;
    const busy = groBusy(now, hm.off.lastGroNs[core]!, hm.groBusyNs);
    hm.off.noteGroStart(core, now);
    hdr[b + H.T_GRO] = ns32(now);
    hdr[b + H.NEXT] = -1;
    const type = hdr[b + H.TYPE]!;
    const tt = hm.tt;
    if (tt !== null) {
      if (type === PktType.DATA || type === PktType.GRANT) {
        tt.record(now, type === PktType.DATA ? TT_GRO_DATA : TT_GRO_GRANT, hostAddr(hdr[b + H.SRC_HOST]!),
          hdr[b + H.SENDER_ID]! ^ 1, hdr[b + H.OFFSET]!, hdr[b + H.PRIORITY]!);
      } else {
        tt.record(now, TT_GRO_CTL, hostAddr(hdr[b + H.SRC_HOST]!), hdr[b + H.SENDER_ID]! ^ 1, type, 0);
      }
    }
    let bypass = false;
    if (type === PktType.DATA && shouldBypassData(hm.gro, busy, hdr[b + H.SEG_BYTES]!, hdr[b + H.MSG_LEN]!)) {
      hm.count(M.gro_data_bypasses);
      bypass = true;
    } else if (type === PktType.GRANT && shouldBypassGrant(hm.gro, busy)) {
      hm.count(M.gro_grant_bypasses);
      bypass = true;
    }
    if (bypass) {
      const tb = this.bypassTimes;
      hm.clockInto(tb, 0);
      homaSoftirq(hm, p, now);
      hm.clockInto(tb, 1);
      const dt = tb[1]! - tb[0]!;
      if (dt > 0) { acct.move(Role.NAPI, Role.BYPASS, dt); hm.count(M.bypass_ns, dt); }
    } else {
      if (this.heldTail < 0) this.heldHead = p; else hdr[this.heldTail * HW + H.NEXT] = p;
      this.heldTail = p;
      this.heldCount++;
      if (this.heldCount >= hm.cfg.maxGroSkbs) this.flush(now);
    }
    hm.off.noteGroEnd(core, now);
    return !bypass;
  }

  /** Pushes the held batch to the SoftIRQ core chosen for it. */
  private flush(now: number): void {
    const hm = this.hm;
    const head = this.heldHead;
    const count = this.heldCount;
    this.heldHead = -1;
    this.heldTail = -1;
    this.heldCount = 0;
    const hash = flowHash(this.rss, hm.pktHdr, head);
    const target = steerBatch(hm.steering, hm.gro.sameCoreForSingle, hm.core, count, hash, now, hm.off, hm.busyNs);
    hm.count(M.gro_batches);
    hm.count(M.gro_batch_packets, count);
    if (hm.tt !== null) hm.tt.record(now, TT_GRO_HANDOFF, target, 0, 0, 0);
    // The batch reaches its SoftIRQ core after the IPI (none when it stays on this core).
    if (hm.vc.virtual) hm.pktVt[head] = hm.vc.t + (target !== hm.core ? hm.vc.costs.softirqIpi : 0);
    if (!hm.softirqRings[target]!.push(head)) {
      hm.count(M.softirq_ring_full_drops, count);
      for (let p = head; p >= 0;) {
        const next = hm.pktHdr[p * HW + H.NEXT]!;
        hm.pktPool.free(p);
        p = next;
      }
      return;
    }
    if (target !== hm.core && hm.doorbells !== null) hm.doorbells.ring(hm.host * hm.cores + target);
  }
}
