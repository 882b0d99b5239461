/**
 * The socket-call and SoftIRQ entry points (homa_plumbing.c). `homaSoftirq` is the IP protocol
 * handler for one GRO batch (a chain of packet slots): pass 1 dispatches every control packet
 * and every DATA packet of a message shorter than 1400 bytes one by one; pass 2 groups the
 * remaining DATA packets by (source host, sender id) and dispatches each group at once, so one
 * RPC lock hold and one grant check cover it (homa_softirq, homa_plumbing.c). `SoftirqContext` (role SOFTIRQ) drains the
 * core's backlog ring of batches. The app-facing calls: `homaSendRequest` (client sendmsg: new
 * RPC, copy into pages, transmit), `homaReply` (server sendmsg), `homaRecv` (recvmsg: take a
 * handed-off or ready RPC, copy its packets out, return it when the message is complete or the
 * RPC failed; otherwise register an interest and return -1 so the app thread can poll or block)
 * and `homaRpcDone` (the app is finished with a client RPC: record the ack, end it). Hand-off
 * latencies (docs/DESIGN.md §7) are recorded, through `hm.handoffTally`, into the core's `hm.handoff`
 * histograms in emulated ns: GRO->SoftIRQ per packet taken from the backlog (now - H.T_GRO),
 * SoftIRQ->app per hand-off an app thread picks up (now - rpc.handoffNs, stamped by rpcHandoff).
 */
import type { CoreAccount, KernelContext } from '../cpu/context.js';
import { Role } from '../cpu/context.js';
import { H, HEADER_WORDS, PktType } from '../wire/packet.js';
import { HOMA_MAX_MESSAGE_LENGTH } from './layout.js';
import { HomaErr, RpcFlag, RpcState, type Homa, type PayloadSource } from './homa.js';
import { M } from './metrics.js';
import { allocMsgPages, fillMsg, freeMsgPages } from './pool.js';
import { rpcAllocClient, rpcEnd } from './rpc.js';
import { readyPop } from './sock.js';
import { registerInterest } from './interest.js';
import { copyOut, dispatchPkts } from './incoming.js';
import { msgOutInit, xmitData } from './outgoing.js';
import { peerAddAck } from './peer.js';
import { ns32Diff, ns32 } from '../shm/clock.js';
import type { LatencyTally } from './latency.js';
import { ASSERT, assert } from '../util/assert.js';

export type { HandoffHistograms } from './homa.js';

const HW = HEADER_WORDS;
/** DATA of messages shorter than this is dispatched in pass 1 (the kernel's 1400). */
export const SHORT_MSG_BYTES = 1400;
/** Batches one SoftIRQ run() takes from the backlog. */
export const SOFTIRQ_BATCHES_PER_RUN = 16;

/** homa_softirq: handles one batch (chain of slots through H.NEXT) on this core. */
export function homaSoftirq(hm: Homa, head: number, now: number): number {
  const hdr = hm.pktHdr;
  hm.off.noteSoftirqStart(hm.core, now);
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
    const tally = hm.handoffTally.groToSoftirq;
    const dilation = hm.cfg.dilation;
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

/** Checks a message length; returns 0 or a negative HomaErr. */
export function checkMsgLength(len: number): number {
  if (!Number.isInteger(len) || len < 1) return -HomaErr.EINVAL;
  if (len > HOMA_MAX_MESSAGE_LENGTH) return -HomaErr.EMSGSIZE;
  return 0;
}

/**
 * Client sendmsg: starts an RPC carrying a `len`-byte request (bytes from `src`) from socket
 * `sockG` to (dstHost, dstPort). Returns the RPC slot, or a negative HomaErr: -EMSGSIZE above
 * 1,000,000 bytes, -EINVAL below 1, -ENOMEM when the RPC table or the buffer pages are full.
 */
export function homaSendRequest(hm: Homa, sockG: number, dstHost: number, dstPort: number, len: number,
  src: PayloadSource, now: number): number {
  const bad = checkMsgLength(len);
  if (bad !== 0) return bad;
  const vc = hm.vc;
  const start = now = hm.stamp(now);
  if (vc.virtual) { vc.t += vc.costs.homaSend + vc.costs.rpcAlloc + vc.costs.copyInPerByte * len; now = vc.t; }
  hm.off.noteAppActive(hm.core, now);
  const g = rpcAllocClient(hm, sockG, dstHost, dstPort, now);
  if (g < 0) return g;
  const lk = hm.rpcLock(g);
  hm.locks.unlock(lk);
  if (!loadMessage(hm, g, lk, len, src)) return -HomaErr.ENOMEM;
  hm.locks.lock(lk);
  msgOutInit(hm, g, len, now);
  hm.rStartNs[g] = start;
  xmitData(hm, g, false, now);
  hm.locks.unlock(lk);
  hm.count(M.client_requests_started);
  hm.count(M.sent_msg_bytes, len);
  return g;
}

/**
 * The sendmsg copy (RPC lock `lk` NOT held): takes pages for `len` bytes of RPC g's outgoing
 * message and fills them from `src`. With too few pages it ends the RPC and returns false.
 */
function loadMessage(hm: Homa, g: number, lk: number, len: number, src: PayloadSource): boolean {
  if (!allocMsgPages(hm, hm.rOutPages, g, len)) {
    hm.locks.lock(lk);
    rpcEnd(hm, g, lk);
    hm.locks.unlock(lk);
    return false;
  }
  fillMsg(hm, hm.rOutPages, g, len, src);
  return true;
}

/**
 * Server sendmsg: replies to server RPC g (state IN_SERVICE, returned by homaRecv) with `len`
 * bytes from `src` (which may still read the request's pages). Returns 0 or a negative HomaErr
 * (the RPC is ended on failure).
 */
export function homaReply(hm: Homa, g: number, len: number, src: PayloadSource, now: number): number {
  const lk = hm.rpcLock(g);
  const bad = checkMsgLength(len);
  if (bad !== 0 || hm.rState[g] !== RpcState.IN_SERVICE) {
    hm.locks.lock(lk);
    rpcEnd(hm, g, lk);
    hm.locks.unlock(lk);
    return bad !== 0 ? bad : -HomaErr.EINVAL;
  }
  const vc = hm.vc;
  if (vc.virtual) { vc.t += vc.costs.homaSend + vc.costs.copyInPerByte * len; now = vc.t; }
  hm.off.noteAppActive(hm.core, now);
  if (!loadMessage(hm, g, lk, len, src)) return -HomaErr.ENOMEM;
  hm.locks.lock(lk);
  freeMsgPages(hm, hm.rInPages, g);
  hm.rState[g] = RpcState.OUTGOING;
  hm.rSilent[g] = 0;
  msgOutInit(hm, g, len, now);
  xmitData(hm, g, false, now);
  hm.locks.unlock(lk);
  hm.count(M.server_responses_started);
  hm.count(M.sent_msg_bytes, len);
  return 0;
}

/** An app thread's receive state (plain object owned by the thread). */
export class RecvState {
  /** Registered on the socket's waiter list. */
  registered = false;
  constructor(readonly sockG: number, readonly t: number, readonly core: number) {}
}

/**
 * recvmsg for any RPC of the socket. Returns an RPC slot whose message is complete (server:
 * state IN_SERVICE now; client: the response) or that failed (rError != 0), or -1 when nothing
 * is complete yet (the thread is then registered as waiting and woken by a hand-off).
 */
export function homaRecv(hm: Homa, rs: RecvState, now: number): number {
  now = hm.stamp(now);
  hm.off.noteAppActive(rs.core, now);
  // After copying part of a message, or finding a stale hand-off, try again: take the next ready
  // RPC or register as waiting. Every retry consumed a hand-off or a ready-list entry.
  for (let round = 0; round < 64; round++) {
    const r = recvOnce(hm, rs, now);
    if (r !== -2) {
      // recvmsg's fixed cost for a message returned (the copy-out is charged per byte as it copies).
      if (r >= 0 && hm.vc.virtual) hm.vc.t += hm.vc.costs.homaRecv;
      return r;
    }
  }
  return -1;
}

/** Sets the bits `set` and clears the bits `clear` of flags[g] (RPC lock held: plain). */
function flagsSetClear(flags: Int32Array, g: number, set: number, clear: number): void {
  flags[g] = (flags[g]! | set) & ~clear;
}

/**
 * One attempt: an RPC slot (complete or failed), -1 (nothing: registered as waiting), -2 (try
 * again). Every rpc.flags bit changes only under the RPC lock, so while it is held the flags
 * are read and written with plain accesses; an atomic operation costs ~8 ns in V8.
 */
function recvOnce(hm: Homa, rs: RecvState, now: number): number {
  const t = rs.t;
  let g = Atomics.load(hm.tRpc, t);
  let gen: number;
  if (g >= 0) {
    // Plain: the hand-off removed this thread from the waiters before storing tRpc, so nobody
    // else writes the word now; and the hand-off stored tGen before tRpc, so the atomic load
    // of tRpc above makes tGen's value visible to a plain load.
    if (ASSERT) assert(g < hm.rGen.length, 'rpc pick-up: the handed-off value is an RPC slot');
    hm.tRpc[t] = -1;
    rs.registered = false;
    gen = hm.tGen[t]!;
  } else {
    if (rs.registered) return -1;
    const sl = hm.socketLock(rs.sockG);
    hm.locks.lock(sl);
    g = readyPop(hm, rs.sockG);
    gen = g >= 0 ? hm.rGen[g]! : 0;
    if (g < 0) rs.registered = registerInterest(hm, rs.sockG, t, rs.core);
    hm.locks.unlock(sl);
    if (g < 0) return -1;
  }
  const lk = hm.rpcLock(g);
  if (!hm.locks.trylock(lk)) {
    Atomics.add(hm.rAppNeedsLock, g, 1);
    hm.locks.lock(lk);
    Atomics.sub(hm.rAppNeedsLock, g, 1);
  }
  const st = hm.rState[g]!;
  if (hm.rGen[g] !== gen || st === RpcState.FREE || st === RpcState.DEAD
    || (hm.rFlags[g]! & RpcFlag.DELIVERED) !== 0) {
    hm.locks.unlock(lk);
    return -2;
  }
  // A hand-off picked up (from the thread's interest or the ready list): SoftIRQ->app latency.
  // (Rounded here so that a Smi, not a boxed double, is passed on.)
  hm.handoffTally.softirqToApp.record(Math.round((now - hm.rHandoffNs[g]!) / hm.cfg.dilation));
  if (hm.rError[g] !== 0) {
    flagsSetClear(hm.rFlags, g, RpcFlag.DELIVERED, RpcFlag.PKTS_READY);
    hm.locks.unlock(lk);
    return g;
  }
  if (!copyOut(hm, g, lk)) {
    hm.locks.unlock(lk);
    return -2;
  }
  // Complete: every byte arrived, nothing is queued, and no other thread is still copying.
  if (hm.rInLen[g]! >= 0 && hm.rInRemaining[g] === 0 && hm.rInHead[g]! < 0 && hm.rCopiers[g] === 0
    && hm.rState[g] === RpcState.INCOMING && (hm.rFlags[g]! & RpcFlag.DELIVERED) === 0) {
    flagsSetClear(hm.rFlags, g, RpcFlag.DELIVERED, RpcFlag.PKTS_READY);
    if ((hm.rId[g]! & 1) === 1) {
      hm.rState[g] = RpcState.IN_SERVICE;
      hm.count(M.server_requests_done);
    } else {
      hm.count(M.client_responses_done);
    }
    hm.locks.unlock(lk);
    return g;
  }
  hm.locks.unlock(lk);
  return -2;
}

/** The app is done with client RPC g (response read, or error seen): record the ack, end it. */
export function homaRpcDone(hm: Homa, g: number, now: number): void {
  const lk = hm.rpcLock(g);
  const peer = hm.rPeer[g]!;
  const id = hm.rId[g]!;
  const dport = hm.rDport[g]!;
  const sport = hm.sPort[hm.rSock[g]!]!;
  const ok = hm.rError[g] === 0;
  hm.locks.lock(lk);
  rpcEnd(hm, g, lk);
  hm.locks.unlock(lk);
  if (ok) peerAddAck(hm, peer, id, dport, sport, now);
}
