/**
 * The socket calls an app makes (homa_plumbing.c's sendmsg/recvmsg side), and the only Homa file
 * the workload layer calls: `homaSendRequest` (client sendmsg: new RPC, copy into pages,
 * transmit), `homaReply` (server sendmsg), `homaRecv` (recvmsg: take a handed-off or ready RPC,
 * copy its packets out, return it when the message is complete or the RPC failed; otherwise
 * register an interest and return -1 so the app thread can poll or block) and `homaRpcDone` (the
 * app is finished with a client RPC: record the ack, end it). The SoftIRQ->app hand-off latency
 * is recorded per hand-off an app thread picks up (now - rpc.handoffNs, stamped by rpcHandoff),
 * in emulated ns, into the core's `hm.handoff` histograms.
 */
import {
  TT_RECVMSG_DONE, TT_RECVMSG_START, TT_SENDMSG_DONE, TT_SENDMSG_REQUEST, TT_SENDMSG_RESPONSE,
  TT_WAIT_FOUND_HANDOFF, TT_WAIT_FOUND_QUEUE, hostAddr,
} from '../metrics/timetrace.js';
import { HOMA_MAX_MESSAGE_LENGTH, LINE } from './layout.js';
import { HomaErr, RpcFlag, RpcState, type Homa, type PayloadSource } from './homa.js';
import { M } from './metrics.js';
import { allocMsgPages, fillMsg, freeMsgPages, msgByteAddr } from './pool.js';
import { rpcAllocClient, rpcEnd } from './rpc.js';
import { readyPop } from './sock.js';
import { registerInterest } from './interest.js';
import { appLockRpc, copyOut } from './incoming.js';
import { msgOutInit, xmitData } from './outgoing.js';
import { peerAddAck } from './peer.js';
import { ASSERT, assert } from '../util/assert.js';

export type { HandoffHistograms } from './homa.js';

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
  const tt = hm.tt;
  if (tt !== null) tt.record(start, TT_SENDMSG_REQUEST, hostAddr(dstHost), dstPort, hm.rId[g]!, len);
  const lk = hm.rpcLock(g);
  hm.locks.unlock(lk);
  if (!loadMessage(hm, g, lk, len, src)) return -HomaErr.ENOMEM;
  hm.locks.lock(lk);
  msgOutInit(hm, g, len, now);
  hm.rStartNs[g] = start;
  xmitData(hm, g, false, now);
  hm.locks.unlock(lk);
  if (tt !== null) tt.record(hm.stamp(now), TT_SENDMSG_DONE, hm.rId[g]!, 0, 0, 0);
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
  const tt = hm.tt;
  if (tt !== null) tt.record(hm.stamp(now), TT_SENDMSG_RESPONSE, hm.rId[g]!, hm.sPort[hm.rSock[g]!]!, 0, len);
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
  if (tt !== null) tt.record(hm.stamp(now), TT_SENDMSG_DONE, hm.rId[g]!, 0, 0, 0);
  hm.count(M.server_responses_started);
  hm.count(M.sent_msg_bytes, len);
  return 0;
}

/** An app thread's receive state (plain object owned by the thread). */
export class RecvState {
  /** Registered on the socket's waiter list. */
  registered = false;
  /** Time trace: a recvmsg is under way (its start recorded), how the RPC was found (1 hand-off, 2 ready list), whether it waited. */
  ttStarted = false;
  ttVia = 0;
  ttWaited = 0;
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
  const tt = hm.tt;
  if (tt !== null && !rs.ttStarted) {
    rs.ttStarted = true;
    rs.ttWaited = 0;
    tt.record(now, TT_RECVMSG_START, hm.sPort[rs.sockG]!, rs.t, 0, 0);
  }
  // After copying part of a message, or finding a stale hand-off, try again: take the next ready
  // RPC or register as waiting. Every retry consumed a hand-off or a ready-list entry.
  for (let round = 0; round < 64; round++) {
    const r = recvOnce(hm, rs, now);
    if (r !== -2) {
      // recvmsg's fixed cost for a message returned (the copy-out is charged per byte as it copies).
      if (r >= 0 && hm.vc.virtual) hm.vc.t += hm.vc.costs.homaRecv;
      if (tt !== null) {
        if (r >= 0) {
          const t = hm.stamp(now);
          tt.record(t, rs.ttVia === 1 ? TT_WAIT_FOUND_HANDOFF : TT_WAIT_FOUND_QUEUE, hm.rId[r]!, rs.t, hm.sPort[rs.sockG]!, rs.ttWaited);
          const len = hm.rInLen[r]!;
          tt.record(t, TT_RECVMSG_DONE, len > 0 ? len : 0, hm.rId[r]!, 0, 0);
          rs.ttStarted = false;
        } else {
          rs.ttWaited = 1;
        }
      }
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
    rs.ttVia = 1;
    gen = hm.tGen[t]!;
  } else {
    if (rs.registered) return -1;
    const sl = hm.socketLock(rs.sockG);
    hm.locks.lock(sl);
    g = readyPop(hm, rs.sockG);
    rs.ttVia = 2;
    gen = g >= 0 ? hm.rGen[g]! : 0;
    if (g < 0) rs.registered = registerInterest(hm, rs.sockG, t, rs.core);
    hm.locks.unlock(sl);
    if (g < 0) return -1;
  }
  const lk = hm.rpcLock(g);
  appLockRpc(hm, g, lk);
  const st = hm.rState[g]!;
  if (hm.rGen[g] !== gen || st === RpcState.FREE || st === RpcState.DEAD
    || (hm.rFlags[g]! & RpcFlag.DELIVERED) !== 0) {
    hm.locks.unlock(lk);
    return -2;
  }
  // A hand-off picked up (from the thread's interest or the ready list): SoftIRQ->app latency.
  // (Rounded here so that a Smi, not a boxed double, is passed on.)
  hm.handoff.softirqToApp.record(Math.round((now - hm.rHandoffNs[g]!) / hm.cfg.dilation));
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

// What an app may read about its RPCs and threads (the app layer reads no protocol column itself).

/** Length of RPC g's incoming message (the request at a server, the response at a client; -1 before it starts). */
export function msgInLength(hm: Homa, g: number): number { return hm.rInLen[g]!; }
/** Length of RPC g's outgoing message. */
export function msgOutLength(hm: Homa, g: number): number { return hm.rOutLen[g]!; }
/** RPC g's error (a HomaErr; 0: none). */
export function rpcError(hm: Homa, g: number): number { return hm.rError[g]!; }
/** RPC g's id on this host. */
export function rpcId(hm: Homa, g: number): number { return hm.rId[g]!; }
/** RPC g's peer host. */
export function rpcPeer(hm: Homa, g: number): number { return hm.rPeer[g]!; }
/** When the client's sendmsg for RPC g began (the RTT's start; runtime clock ns). */
export function rpcStartNs(hm: Homa, g: number): number { return hm.rStartNs[g]!; }
/** Where byte `off` of RPC g's incoming message lies in `hm.u8` (read it while the app owns the RPC). */
export function msgInByteAddr(hm: Homa, g: number, off: number): number { return msgByteAddr(hm, hm.rInPages, g, off); }
/** The wake words of this host's app threads (the core loop's `wakeWords`; thread t's word is at t x LINE). */
export function threadWakeWords(hm: Homa): Int32Array { return hm.tWake; }
/** The RPC handed to waiting thread `t` and not yet picked up, or -1. */
export function handedOff(hm: Homa, t: number): number { return Atomics.load(hm.tRpc, t); }
/** When SoftIRQ handed RPC g off (or queued it as ready), runtime clock ns. */
export function handoffNs(hm: Homa, g: number): number { return hm.rHandoffNs[g]!; }
/**
 * Virtual time: when a thread blocked with its wake word set may run, given its core's clock
 * `now`: not before the waker's clock at the wake-up (Infinity if no wake-up is pending).
 */
export function wakeReadyNs(hm: Homa, t: number, now: number): number {
  if (Atomics.load(hm.tWake, t * LINE) === 0) return Infinity;
  const w = hm.tWakeNs[t]!;
  return w > now ? w : now;
}

// What the app layer (src/workload) may use besides the calls above: it imports nothing else
// from src/homa (test/layers checks imports; the column reads apps still make are listed there).
export { BPAGE_BYTES, HOMA_MAX_MESSAGE_LENGTH, HOMA_MAX_SOCKETS, HOMA_MAX_THREADS, LINE, AppResult, APP_RESULT_FIELDS } from './layout.js';
export { HOMA_ERR_NAMES, type Homa, type PayloadSource } from './homa.js';
export { sockLookup } from './sock.js';
export { M } from './metrics.js';
export { WakeSeat, wakeThread } from './migration.js';
