/**
 * The transmit path (homa_outgoing.c): a message is segmented at the MTU — each DATA packet
 * carries `maxSegBytes(mtu)` payload bytes, with a segment boundary forced at the unscheduled
 * limit — and its real bytes are copied from the message's pages into the packet slot.
 * `xmitData` sends whole segments while `next_xmit_offset < granted`, unscheduled segments at
 * the priority the peer's cutoffs give, scheduled ones at the priority of the last GRANT; a
 * message with more than `defer_min_bytes` left first asks the pacer policy (`pacerAdmit`:
 * the kernel's default 'nic-short' refuses when the NIC backlog estimate, the old pacer's
 * link_idle_time — an atomic ns32 any core CAS-updates — is too long; 'pacer-only', 'qdisc'
 * and user modules decide otherwise, src/policy/pacer.ts) and is put on the throttled list when
 * refused (homa_xmit_data, homa_pacer.c, homa_qdisc.c). `resendData` answers RESEND (forced, never throttled).
 * Control packets go out at the highest priority. GSO: the unit of transmission decisions is
 * an skb of max_gso_size bytes rounded down to whole segments (one segment when 0), which the
 * emulated NIC segments into MTU packets. Simplifications: the message is copied into pages at
 * sendmsg before the first packet leaves rather than overlapped with transmission; and the NIC
 * push (a ring push) happens with the RPC lock held instead of releasing it around
 * ip_queue_xmit.
 */
import { TT_IP_XMIT, TT_NIC_DATA, TT_NIC_GRANT, TT_RETRANSMIT, TT_SEND_DATA, hostAddr } from '../metrics/timetrace.js';
import { ns32, ns32Diff } from '../shm/clock.js';
import { DATA_FLAG_RETRANSMIT, H, HEADER_WORDS, PktType, setCommonHeader, wireBytes } from '../wire/packet.js';
import { LINE } from './layout.js';
import { RpcState, type Homa } from './homa.js';
import { M } from './metrics.js';
import { copyFromMsg } from './pool.js';
import { peerPiggybackAck, unschedPriority } from './peer.js';
import { throttleAdd } from './pacer.js';

/** ns of link time a packet of `bytes` wire bytes takes (homa_pacer_check_nic_q's cycles_for_packet). */
export function linkNs(hm: Homa, bytes: number): number {
  return Math.floor((bytes * hm.nsPerMbyte) / 1e6);
}

/** A NIC estimate further ahead than this is a stale (wrapped) ns32 stamp, not a backlog. */
const STALE_IDLE_NS = 1_000_000_000;

/**
 * Allocates a control packet of `type` to `dstHost` (common header filled, highest priority,
 * wire size set). Returns the slot, or -1 when the packet pool is exhausted (counted).
 */
export function allocControl(hm: Homa, type: number, dstHost: number, sport: number, dport: number, senderId: number): number {
  const slot = hm.pktPool.alloc();
  if (slot < 0) {
    hm.count(M.packet_alloc_failures);
    return -1;
  }
  setCommonHeader(hm.pktHdr, slot, type, hm.host, dstHost, sport, dport, senderId, hm.numPriorities - 1);
  hm.pktHdr[slot * HEADER_WORDS + H.WIRE_BYTES] = wireBytes(type, 0);
  return slot;
}

/** Hands any packet to the NIC and counts it by type (a full TX ring is counted: the NIC frees the slot). */
export function xmitPacket(hm: Homa, slot: number, now: number): void {
  const type = hm.pktHdr[slot * HEADER_WORDS + H.TYPE]!;
  // homa_qdisc charges control packets to the link-idle estimate without a limit.
  if (hm.qdisc && type !== PktType.DATA) checkNicQ(hm, hm.pktHdr[slot * HEADER_WORDS + H.WIRE_BYTES]!, now, true);
  hm.count(M.PKTS_SENT + type - PktType.DATA);
  const tt = hm.tt;
  if (tt !== null && (type === PktType.DATA || type === PktType.GRANT)) {
    const b = slot * HEADER_WORDS;
    if (type === PktType.DATA) {
      tt.record(hm.stamp(now), TT_IP_XMIT, hm.pktHdr[b + H.WIRE_BYTES]!, hostAddr(hm.pktHdr[b + H.DST_HOST]!),
        hm.pktHdr[b + H.SENDER_ID]!, hm.pktHdr[b + H.OFFSET]!);
    }
    tt.record(hm.stamp(now), type === PktType.DATA ? TT_NIC_DATA : TT_NIC_GRANT, hostAddr(hm.pktHdr[b + H.DST_HOST]!),
      hm.pktHdr[b + H.SENDER_ID]!, hm.pktHdr[b + H.OFFSET]!, 0);
  }
  if (hm.nic === null || !hm.nic.xmit(slot, now)) hm.count(M.tx_ring_full);
}

/** Sends a control packet built with `allocControl`. */
export function sendControl(hm: Homa, slot: number, now: number): void {
  xmitPacket(hm, slot, now);
}

/** Sends a control packet of `type` for RPC context (src/dst ports, sender id); returns false if no slot. */
export function xmitControl(hm: Homa, type: number, dstHost: number, sport: number, dport: number, senderId: number,
  now: number, flagsOrPrio = 0): boolean {
  const slot = allocControl(hm, type, dstHost, sport, dport, senderId);
  if (slot < 0) return false;
  hm.pktHdr[slot * HEADER_WORDS + H.FLAGS_OR_PRIO] = flagsOrPrio;
  xmitPacket(hm, slot, now);
  return true;
}

/** homa_message_out_init: the message of `len` bytes (already in the RPC's pages) may start. */
export function msgOutInit(hm: Homa, g: number, len: number, now: number): void {
  hm.rOutLen[g] = len;
  const unsched = len < hm.unschedBytes ? len : hm.unschedBytes;
  hm.rOutUnsched[g] = unsched;
  hm.rOutGranted[g] = unsched;
  hm.rOutNext[g] = 0;
  hm.rOutSchedPrio[g] = 0;
  hm.rOutInitNs[g] = now;
}

/** Length of the segment of RPC g's message that starts at `off`. */
export function segLength(hm: Homa, g: number, off: number): number {
  const len = hm.rOutLen[g]!;
  const unsched = hm.rOutUnsched[g]!;
  let end = off + hm.maxSeg;
  if (off < unsched && end > unsched) end = unsched;
  if (end > len) end = len;
  return end - off;
}

/** Start of the segment that contains message byte `off`. */
export function segStart(hm: Homa, g: number, off: number): number {
  const unsched = hm.rOutUnsched[g]!;
  const seg = hm.maxSeg;
  if (off < unsched) return off - (off % seg);
  return unsched + (off - unsched) - ((off - unsched) % seg);
}

/**
 * homa_pacer_check_nic_q: may a packet of `wireBytes` go to the NIC now? If so (or if `force`,
 * or the DONT_THROTTLE flag is set) adds its link time to the shared link_idle_time estimate
 * with a CAS loop and returns true; returns false when the estimate is more than
 * max_nic_est_backlog beyond `now`.
 */
export function checkNicQ(hm: Homa, bytes: number, now: number, force: boolean): boolean {
  const words = hm.pLinkIdle;
  const i = hm.host * LINE;
  const nowS = ns32(now);
  const addNs = linkNs(hm, bytes);
  for (;;) {
    const idle = Atomics.load(words, i);
    let ahead = ns32Diff(idle, nowS);
    if (ahead > STALE_IDLE_NS) ahead = -1;
    if (!force && !hm.dontThrottle && ahead > hm.maxNicBacklogNs) return false;
    const start = ahead < 0 ? nowS : idle;
    if (Atomics.compareExchange(words, i, idle, (start + addNs) | 0) === idle) return true;
  }
}

/**
 * The pacer policy's admission of one DATA skb of RPC g (`bytes` on the wire): unless `force`
 * or DONT_THROTTLE, asks `hm.pacer.mayTransmit` with the estimate read now; if it may go, adds
 * its link time to the estimate with a CAS from the value the policy saw (a conflict re-asks),
 * so the decision and the update are one atomic step, as in checkNicQ. Returns false to throttle.
 */
export function pacerAdmit(hm: Homa, g: number, bytes: number, now: number, force: boolean, isPacer: boolean): boolean {
  const words = hm.pLinkIdle;
  const i = hm.host * LINE;
  const nowS = ns32(now);
  const addNs = linkNs(hm, bytes);
  const check = hm.pacerCheck;
  for (;;) {
    const idle = Atomics.load(words, i);
    let ahead = ns32Diff(idle, nowS);
    if (ahead > STALE_IDLE_NS) ahead = -1;
    if (!force && !hm.dontThrottle) {
      check.nicBacklogNs = ahead > 0 ? ahead : 0;
      check.throttledCount = Atomics.load(hm.pThrCount, i);
      check.isPacer = isPacer;
      check.bytesLeft = hm.rOutLen[g]! - hm.rOutNext[g]!;
      check.messageBytes = hm.rOutLen[g]!;
      if (!hm.pacer.mayTransmit(check)) return false;
    }
    const start = ahead < 0 ? nowS : idle;
    if (Atomics.compareExchange(words, i, idle, (start + addNs) | 0) === idle) return true;
  }
}

/** ns the NIC estimate is ahead of `now` (0 when idle). */
export function nicBacklogNs(hm: Homa, now: number): number {
  const ahead = ns32Diff(Atomics.load(hm.pLinkIdle, hm.host * LINE), ns32(now));
  return ahead > 0 && ahead <= STALE_IDLE_NS ? ahead : 0;
}

/** Writes DATA segment [off, off + n) of RPC g into packet `slot` (header and payload). */
function buildData(hm: Homa, g: number, slot: number, off: number, n: number, prio: number, incoming: number, flags: number): void {
  const hdr = hm.pktHdr;
  const peer = hm.rPeer[g]!;
  setCommonHeader(hdr, slot, PktType.DATA, hm.host, peer, hm.sPort[hm.rSock[g]!]!, hm.rDport[g]!, hm.rId[g]!, prio);
  const b = slot * HEADER_WORDS;
  hdr[b + H.WIRE_BYTES] = wireBytes(PktType.DATA, n);
  hdr[b + H.SEG_BYTES] = n;
  hdr[b + H.MSG_LEN] = hm.rOutLen[g]!;
  hdr[b + H.OFFSET] = off;
  hdr[b + H.INCOMING_OR_LENGTH] = incoming;
  hdr[b + H.FLAGS_OR_PRIO] = flags;
  hdr[b + H.CUTOFF_VERSION] = hm.peerCutoffVersion[hm.host * hm.hosts + peer]!;
  copyFromMsg(hm, hm.rOutPages, g, off, n, hm.pktData(slot));
  peerPiggybackAck(hm, peer, slot);
}

/**
 * Index of the segment starting at `off` within its region (the unscheduled bytes, or the
 * scheduled rest): GSO skbs are built from `gsoSegs` consecutive segments of one region.
 */
function segIndex(hm: Homa, g: number, off: number): number {
  const unsched = hm.rOutUnsched[g]!;
  return off < unsched ? Math.floor(off / hm.maxSeg) : Math.floor((off - unsched) / hm.maxSeg);
}

/** Segments and wire bytes of the GSO skb that starts at `off`: writes them into hm.gsoScratch[0..1]. */
function gsoSkb(hm: Homa, g: number, off: number): void {
  const len = hm.rOutLen[g]!;
  const unsched = hm.rOutUnsched[g]!;
  let segs = 0;
  let wire = 0;
  let o = off;
  while (segs < hm.gsoSegs && o < len) {
    const n = segLength(hm, g, o);
    wire += wireBytes(PktType.DATA, n);
    segs++;
    o += n;
    if (o === unsched) break; // a skb never crosses the unscheduled limit
  }
  hm.gsoScratch[0] = segs;
  hm.gsoScratch[1] = wire;
}

/**
 * homa_xmit_data: sends RPC g's skbs while next_xmit_offset < granted (RPC lock held). An skb
 * is `gsoSegs` MTU segments (max_gso_size rounded down to whole segments, at least one); the
 * grant and the NIC estimate are checked once per skb and the whole skb goes out, so the sender
 * may overshoot the grant by up to one skb, as the kernel does. `force` lets the first skb pass
 * the NIC check (the pacer); `isPacer` marks the pacer's calls (counted as pacer packets;
 * exempt from the pacer-only rule). Returns packets sent.
 */
export function xmitData(hm: Homa, g: number, force: boolean, now: number, isPacer = false): number {
  let sent = 0;
  let inSkb = 0;
  for (;;) {
    const st = hm.rState[g]!;
    if (st === RpcState.DEAD || st === RpcState.FREE || hm.rError[g] !== 0) break;
    const off = hm.rOutNext[g]!;
    const len = hm.rOutLen[g]!;
    if (off >= len) break;
    if (inSkb === 0) {
      // Start of an skb (or the rest of one a failed allocation cut short).
      if (off >= hm.rOutGranted[g]!) break;
      gsoSkb(hm, g, off);
      const idx = segIndex(hm, g, off) % hm.gsoSegs;
      const segs = idx === 0 ? hm.gsoScratch[0]! : 1;
      const wire = idx === 0 ? hm.gsoScratch[1]! : wireBytes(PktType.DATA, segLength(hm, g, off));
      // The old pacer asks only for messages with more than defer_min_bytes left (shorter ones
      // neither ask nor touch the estimate); homa_qdisc asks for every packet of a message of
      // at least defer_min_bytes and charges shorter ones without a limit.
      if (hm.qdisc ? len >= hm.deferMinBytes : len - off > hm.deferMinBytes) {
        if (!pacerAdmit(hm, g, wire, now, force, isPacer)) {
          throttleAdd(hm, g);
          hm.count(M.nic_throttled);
          break;
        }
      } else if (hm.qdisc) {
        checkNicQ(hm, wire, now, true);
      }
      force = false;
      inSkb = segs;
    }
    const n = segLength(hm, g, off);
    const slot = hm.pktPool.alloc();
    if (slot < 0) {
      hm.count(M.packet_alloc_failures);
      throttleAdd(hm, g); // the pacer retries
      break;
    }
    const prio = off < hm.rOutUnsched[g]! ? unschedPriority(hm, hm.rPeer[g]!, len) : hm.rOutSchedPrio[g]!;
    buildData(hm, g, slot, off, n, prio, hm.rOutUnsched[g]!, 0);
    hm.rOutNext[g] = off + n;
    if (hm.tt !== null) hm.tt.record(hm.stamp(now), TT_SEND_DATA, hm.rId[g]!, off, n, 0);
    if (isPacer) {
      hm.count(M.pacer_packets);
      hm.count(M.pacer_bytes, wireBytes(PktType.DATA, n));
    } else {
      hm.count(M.other_data_packets);
    }
    xmitPacket(hm, slot, now);
    sent++;
    inSkb--;
  }
  return sent;
}

/**
 * homa_resend_data: retransmits the segments of RPC g that overlap [start, end) and were sent
 * already (RPC lock held), at priority `prio`, forced past the NIC check. Returns packets sent.
 */
export function resendData(hm: Homa, g: number, start: number, end: number, prio: number, now: number): number {
  const len = hm.rOutLen[g]!;
  let limit = hm.rOutNext[g]!;
  if (limit > len) limit = len;
  if (end > limit) end = limit;
  if (end <= start) return 0; // an empty range (once cut at what was sent) asks for nothing
  let sent = 0;
  for (let off = segStart(hm, g, start < 0 ? 0 : start); off < end;) {
    const n = segLength(hm, g, off);
    if (n <= 0) break;
    const slot = hm.pktPool.alloc();
    if (slot < 0) { hm.count(M.packet_alloc_failures); break; }
    const wire = wireBytes(PktType.DATA, n);
    checkNicQ(hm, wire, now, true);
    buildData(hm, g, slot, off, n, prio, end, DATA_FLAG_RETRANSMIT);
    if (hm.tt !== null) hm.tt.record(hm.stamp(now), TT_RETRANSMIT, off, n, hm.rId[g]!, 0);
    hm.count(M.resent_packets);
    xmitPacket(hm, slot, now);
    sent++;
    off += n;
  }
  return sent;
}
