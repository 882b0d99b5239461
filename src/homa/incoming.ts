/**
 * The receive side of the protocol (homa_incoming.c). `dispatchPkts` handles a group of packets
 * from one sender for one RPC (homa_dispatch_pkts): socket lookup, RPC lookup-and-lock in the
 * bucket (a request's first DATA creates the server RPC), then each packet by type — DATA
 * (message init with its buffer pages, reassembly with [start, end) gaps, duplicates dropped,
 * packets queued on the RPC and handed off when PKTS_READY is clear), GRANT (raise granted,
 * transmit), RESEND (retransmit up to tx_end — a client even after its response started — or
 * BUSY), RPC_UNKNOWN (a client restarts its request, or aborts with ENOTCONN when no socket
 * listens; a server ends the RPC), BUSY, NEED_ACK (an ACK when the response is complete, else
 * RESENDs for what is missing), ACK (end acknowledged server RPCs), CUTOFFS — then one grant
 * check for the group (which releases the RPC lock) and the piggybacked acks. Between packets the RPC lock is
 * yielded to an app thread that spins for it (rpc.appNeedsLock, the kernel's APP_NEEDS_LOCK).
 * `copyOut` is the app's half: it detaches the queued packets under the RPC lock, copies their
 * payload into the message pages with the lock released, frees them, and relocks. Every packet that arrives is counted by type and
 * every packet slot is freed exactly once.
 */
import { TT_RESEND_RX, TT_RESEND_TX, TT_SOFTIRQ_DATA, TT_SOFTIRQ_GRANT, hostAddr } from '../metrics/timetrace.js';
import {
  ACK_IDS, DATA_FLAG_RETRANSMIT, H, HEADER_WORDS, PktType, UNKNOWN_FLAG_NO_SOCKET,
} from '../wire/packet.js';
import { ns32 } from '../shm/clock.js';
import { HOMA_MAX_GAPS } from './layout.js';
import { HomaErr, RpcFlag, RpcState, type Homa } from './homa.js';
import { M } from './metrics.js';
import { allocMsgPages, copyToMsg } from './pool.js';
import { rpcAllocServer, rpcEnd, rpcFind, rpcFreeSlot } from './rpc.js';
import { sockLookup } from './sock.js';
import { rpcHandoff } from './interest.js';
import { grantCheckRpc, grantEndRpc } from './grant.js';
import { allocControl, resendData, sendControl, xmitControl, xmitData } from './outgoing.js';
import { throttleRemove } from './pacer.js';
import { CUTOFF_VERSION, handleCutoffs, maybeSendCutoffs, peerFillAcks, unschedPriority } from './peer.js';

const HW = HEADER_WORDS;

/** homa_message_in_init: the first DATA of a message arrived; allocate its pages. */
export function msgInInit(hm: Homa, g: number, len: number, incoming: number, now: number): boolean {
  if (!allocMsgPages(hm, hm.rInPages, g, len)) return false;
  hm.rInLen[g] = len;
  hm.rInRemaining[g] = len;
  const unsched = incoming < len ? incoming : len;
  hm.rInGranted[g] = unsched;
  hm.rInUnsched[g] = unsched;
  hm.rInRecvEnd[g] = 0;
  hm.rInNumGaps[g] = 0;
  hm.rBirthNs[g] = now;
  return true;
}

/**
 * homa_add_packet: places DATA packet p in RPC g's message, tracking gaps. Returns true if p
 * was queued on the RPC, false if it was a duplicate (or no gap slot was left) and was freed.
 */
export function addPacket(hm: Homa, g: number, p: number): boolean {
  const hdr = hm.pktHdr;
  const off = hdr[p * HW + H.OFFSET]!;
  const n = hdr[p * HW + H.SEG_BYTES]!;
  const end = off + n;
  const recvEnd = hm.rInRecvEnd[g]!;
  const gb = g * HOMA_MAX_GAPS;
  const ng = hm.rInNumGaps[g]!;
  if (n <= 0 || end > hm.rInLen[g]!) {
    hm.count(M.data_dropped_duplicate);
    hm.pktPool.free(p);
    return false;
  }
  if (off >= recvEnd) {
    if (off > recvEnd) {
      if (ng >= HOMA_MAX_GAPS) {
        hm.count(M.data_dropped_gaps_full);
        hm.pktPool.free(p);
        return false;
      }
      hm.rGapStart[gb + ng] = recvEnd;
      hm.rGapEnd[gb + ng] = off;
      hm.rInNumGaps[g] = ng + 1;
    }
    hm.rInRecvEnd[g] = end;
  } else {
    let i = 0;
    while (i < ng && !(hm.rGapStart[gb + i]! <= off && end <= hm.rGapEnd[gb + i]!)) i++;
    if (i === ng) {
      hm.count(M.data_dropped_duplicate);
      hm.pktPool.free(p);
      return false;
    }
    const gs = hm.rGapStart[gb + i]!;
    const ge = hm.rGapEnd[gb + i]!;
    if (gs === off && ge === end) {
      for (let j = i; j < ng - 1; j++) {
        hm.rGapStart[gb + j] = hm.rGapStart[gb + j + 1]!;
        hm.rGapEnd[gb + j] = hm.rGapEnd[gb + j + 1]!;
      }
      hm.rInNumGaps[g] = ng - 1;
    } else if (gs === off) {
      hm.rGapStart[gb + i] = end;
    } else if (ge === end) {
      hm.rGapEnd[gb + i] = off;
    } else {
      if (ng >= HOMA_MAX_GAPS) {
        hm.count(M.data_dropped_gaps_full);
        hm.pktPool.free(p);
        return false;
      }
      for (let j = ng; j > i + 1; j--) {
        hm.rGapStart[gb + j] = hm.rGapStart[gb + j - 1]!;
        hm.rGapEnd[gb + j] = hm.rGapEnd[gb + j - 1]!;
      }
      hm.rGapStart[gb + i + 1] = end;
      hm.rGapEnd[gb + i + 1] = ge;
      hm.rGapEnd[gb + i] = off;
      hm.rInNumGaps[g] = ng + 1;
    }
  }
  hm.rInRemaining[g] = hm.rInRemaining[g]! - n;
  hdr[p * HW + H.NEXT] = -1;
  const tail = hm.rInTail[g]!;
  if (tail < 0) hm.rInHead[g] = p; else hdr[tail * HW + H.NEXT] = p;
  hm.rInTail[g] = p;
  return true;
}

function sendResend(hm: Homa, g: number, offset: number, length: number, now: number): void {
  const slot = allocControl(hm, PktType.RESEND, hm.rPeer[g]!, hm.sPort[hm.rSock[g]!]!, hm.rDport[g]!, hm.rId[g]!);
  if (slot < 0) return;
  const b = slot * HW;
  if (hm.tt !== null) hm.tt.record(now, TT_RESEND_TX, hm.rId[g]!, hostAddr(hm.rPeer[g]!), offset, length);
  hm.pktHdr[b + H.OFFSET] = offset;
  hm.pktHdr[b + H.INCOMING_OR_LENGTH] = length;
  hm.pktHdr[b + H.FLAGS_OR_PRIO] = hm.numPriorities - 1;
  sendControl(hm, slot, now);
}

/**
 * homa_request_retrans for RPC g (lock held): a RESEND for each gap of its incoming message and
 * for [recv_end, granted) if not empty; RESEND 0, -1 (everything sent so far) when no byte of
 * the message arrived yet.
 */
export function requestRetrans(hm: Homa, g: number, now: number): void {
  if (hm.rInLen[g]! < 0) {
    sendResend(hm, g, 0, -1, now);
    return;
  }
  const ng = hm.rInNumGaps[g]!;
  const gb = g * HOMA_MAX_GAPS;
  for (let i = 0; i < ng; i++) {
    sendResend(hm, g, hm.rGapStart[gb + i]!, hm.rGapEnd[gb + i]! - hm.rGapStart[gb + i]!, now);
  }
  const recvEnd = hm.rInRecvEnd[g]!;
  const length = hm.rInGranted[g]! - recvEnd;
  if (length > 0) sendResend(hm, g, recvEnd, length, now);
}

/** homa_data_pkt (RPC lock held): consumes DATA packet p for RPC g. */
function dataPkt(hm: Homa, g: number, p: number, now: number): void {
  const hdr = hm.pktHdr;
  const b = p * HW;
  const tt = hm.tt;
  if (tt !== null) tt.record(now, TT_SOFTIRQ_DATA, hm.rId[g]!, hostAddr(hm.rPeer[g]!), hdr[b + H.OFFSET]!, hdr[b + H.MSG_LEN]!);
  const isClient = (hm.rId[g]! & 1) === 0;
  const st = hm.rState[g]!;
  if (isClient) {
    if (st === RpcState.OUTGOING) {
      // The response started: the request is complete at the server. Its pages stay until the
      // RPC ends, as the kernel keeps the request's skbs: a RESEND may still ask for them.
      if (hm.rError[g] !== 0) { hm.pktPool.free(p); return; }
      hm.rState[g] = RpcState.INCOMING;
      if ((Atomics.load(hm.rFlags, g) & RpcFlag.THROTTLED) !== 0) throttleRemove(hm, g);
      hm.rOutGranted[g] = hm.rOutNext[g]!;
    } else if (st !== RpcState.INCOMING) {
      hm.count(M.data_dropped_duplicate);
      hm.pktPool.free(p);
      return;
    }
  } else if (st !== RpcState.INCOMING) {
    hm.count(M.data_dropped_duplicate);
    hm.pktPool.free(p);
    return;
  }
  hm.rSilent[g] = 0;
  if (hdr[b + H.CUTOFF_VERSION] !== CUTOFF_VERSION) {
    maybeSendCutoffs(hm, hm.rPeer[g]!, hm.sPort[hm.rSock[g]!]!, hm.rDport[g]!, now);
  }
  if (hm.rInLen[g]! < 0) {
    if (!msgInInit(hm, g, hdr[b + H.MSG_LEN]!, hdr[b + H.INCOMING_OR_LENGTH]!, now)) {
      hm.count(M.data_dropped_no_bufs);
      hm.pktPool.free(p);
      return;
    }
  }
  if (!addPacket(hm, g, p)) return;
  const f = hm.rFlags[g]!; // rpc.flags changes only under the RPC lock, held here
  if ((f & (RpcFlag.PKTS_READY | RpcFlag.DELIVERED)) === 0) {
    hm.rFlags[g] = f | RpcFlag.PKTS_READY;
    rpcHandoff(hm, g, now);
  }
}

/** A GRANT for RPC g (its sender side): raise granted, transmit. */
function grantPkt(hm: Homa, g: number, p: number, now: number): void {
  const b = p * HW;
  const tt = hm.tt;
  if (tt !== null) {
    const off = hm.pktHdr[b + H.OFFSET]!;
    tt.record(now, TT_SOFTIRQ_GRANT, hm.rId[g]!, off, hm.pktHdr[b + H.FLAGS_OR_PRIO]!, off - hm.rOutGranted[g]!);
  }
  hm.rSilent[g] = 0;
  if (hm.rState[g] === RpcState.OUTGOING && hm.rOutLen[g]! >= 0) {
    let off = hm.pktHdr[b + H.OFFSET]!;
    if (off > hm.rOutLen[g]!) off = hm.rOutLen[g]!;
    if (off > hm.rOutGranted[g]!) {
      hm.rOutGranted[g] = off;
      hm.rOutSchedPrio[g] = hm.pktHdr[b + H.FLAGS_OR_PRIO]!;
    }
    xmitData(hm, g, false, now);
  }
  hm.pktPool.free(p);
}

/**
 * homa_resend_pkt: a RESEND for RPC g (its sender side). A server with no response yet answers
 * BUSY; otherwise the requested range, cut at tx_end (what was handed to the NIC so far; a length
 * of -1 means up to tx_end), is retransmitted at the RESEND's priority — by a client even after
 * its response started — and a range past the grant raises the grant (a GRANT was lost). A
 * RESEND that starts at or past tx_end gets BUSY: we are alive, just not sending yet.
 */
function resendPkt(hm: Homa, g: number, p: number, now: number): void {
  const b = p * HW;
  const hdr = hm.pktHdr;
  const sport = hdr[b + H.DPORT]!;
  const dport = hdr[b + H.SPORT]!;
  const src = hdr[b + H.SRC_HOST]!;
  const off = hdr[b + H.OFFSET]!;
  const length = hdr[b + H.INCOMING_OR_LENGTH]!;
  const prio = hdr[b + H.FLAGS_OR_PRIO]!;
  hm.pktPool.free(p);
  if (hm.tt !== null) hm.tt.record(now, TT_RESEND_RX, hm.rId[g]!, off, length, prio);
  const isClient = (hm.rId[g]! & 1) === 0;
  const len = hm.rOutLen[g]!;
  if ((!isClient && hm.rState[g] !== RpcState.OUTGOING) || len < 0) {
    // A server still receiving or servicing the request (or a message not yet filled).
    hm.count(M.busy_sent);
    xmitControl(hm, PktType.BUSY, src, sport, dport, hm.rId[g]!, now);
    return;
  }
  const next = hm.rOutNext[g]!;
  const txEnd = next < len ? next : len;
  const end = length === -1 ? txEnd : off + length;
  resendData(hm, g, off, end > txEnd ? txEnd : end, prio, now);
  const st = hm.rState[g]!;
  if (st === RpcState.DEAD || st === RpcState.FREE) return;
  if (end > hm.rOutGranted[g]! && st === RpcState.OUTGOING) {
    hm.rOutGranted[g] = end > len ? len : end;
    xmitData(hm, g, false, now);
  }
  if (off >= txEnd) {
    hm.count(M.busy_sent);
    xmitControl(hm, PktType.BUSY, src, sport, dport, hm.rId[g]!, now);
  }
}

/**
 * An RPC_UNKNOWN for RPC g. Returns true if g was ended (its slot may be free now).
 */
function unknownPkt(hm: Homa, g: number, p: number, lk: number, now: number): boolean {
  const flags = hm.pktHdr[p * HW + H.FLAGS_OR_PRIO]!;
  hm.pktPool.free(p);
  if ((hm.rId[g]! & 1) === 0) {
    if ((flags & UNKNOWN_FLAG_NO_SOCKET) !== 0) {
      rpcAbort(hm, g, lk, HomaErr.ENOTCONN, now);
      hm.count(M.aborts_enotconn);
    } else if (hm.rState[g] === RpcState.OUTGOING && hm.rOutLen[g]! >= 0) {
      // The server lost (or never got) the request: retransmit everything sent so far.
      resendData(hm, g, 0, hm.rOutNext[g]!, unschedPriority(hm, hm.rPeer[g]!, hm.rOutLen[g]!), now);
    }
    return false;
  }
  // A server RPC the app is servicing belongs to the app until it replies; its response's
  // NEED_ACK is answered with an ACK by a client that forgot the RPC, which ends it then.
  if (hm.rState[g] === RpcState.IN_SERVICE) return false;
  rpcEnd(hm, g, lk);
  return true;
}

/**
 * Aborts client RPC g with `err` (RPC lock `lk` held): transmission stops, it leaves the grant
 * and throttle state, and the app gets the error through the usual hand-off.
 */
export function rpcAbort(hm: Homa, g: number, lk: number, err: number, now: number): void {
  if (hm.rError[g] !== 0 || hm.rState[g] === RpcState.DEAD) return;
  if ((Atomics.load(hm.rFlags, g) & RpcFlag.DELIVERED) !== 0) return; // the app has its response
  hm.rError[g] = err;
  hm.rOutGranted[g] = hm.rOutNext[g]!;
  if ((Atomics.load(hm.rFlags, g) & RpcFlag.THROTTLED) !== 0) throttleRemove(hm, g);
  const gen = hm.rGen[g]!;
  grantEndRpc(hm, g, lk);
  if (hm.rGen[g] !== gen) return;
  const f = hm.rFlags[g]!; // RPC lock held
  if ((f & (RpcFlag.PKTS_READY | RpcFlag.DELIVERED)) === 0) {
    hm.rFlags[g] = f | RpcFlag.PKTS_READY;
    rpcHandoff(hm, g, now);
  }
}

/** Ends server RPC (peer, clientId ^ 1) on `serverPort` because the client acknowledged it. */
function ackRpc(hm: Homa, peer: number, clientId: number, serverPort: number): void {
  const sockG = sockLookup(hm, serverPort);
  if (sockG < 0) return;
  const id = clientId ^ 1;
  const lk = hm.bucketLock(sockG, id);
  hm.locks.lock(lk);
  const g = rpcFind(hm, sockG, id, peer);
  if (g >= 0 && hm.rState[g] === RpcState.OUTGOING) {
    hm.count(M.acks_received);
    rpcEnd(hm, g, lk);
  }
  hm.locks.unlock(lk);
}

/** Sends an ACK for client RPC `clientId` (and every buffered ack) to `peer`. */
function sendAck(hm: Homa, peer: number, sport: number, dport: number, clientId: number, now: number): void {
  const slot = allocControl(hm, PktType.ACK, peer, sport, dport, clientId);
  if (slot < 0) return;
  const b = slot * HW;
  hm.pktHdr[b + H.EXTRA] = 1;
  hm.pktHdr[b + ACK_IDS] = clientId;
  hm.pktHdr[b + ACK_IDS + 1] = dport;
  peerFillAcks(hm, peer, slot);
  sendControl(hm, slot, now);
}

/**
 * homa_dispatch_pkts: handles the chain of packets starting at `head` (linked through H.NEXT),
 * all from one sender for one RPC (same source host and sender id), and frees or queues each.
 */
export function dispatchPkts(hm: Homa, head: number, now: number): void {
  const hdr = hm.pktHdr;
  const hb = head * HW;
  const src = hdr[hb + H.SRC_HOST]!;
  const dport = hdr[hb + H.DPORT]!;
  const sport = hdr[hb + H.SPORT]!;
  const senderId = hdr[hb + H.SENDER_ID]!;
  const localId = senderId ^ 1;
  const stamp = ns32(now);
  const sockG = sockLookup(hm, dport);
  let g = -1;
  let lk = -1;
  let looked = false;
  let acks = 0;
  let gen = 0;
  for (let p = head; p >= 0;) {
    const b = p * HW;
    const next = hdr[b + H.NEXT]!;
    const type = hdr[b + H.TYPE]!;
    hdr[b + H.T_SOFTIRQ] = stamp;
    if (type >= PktType.DATA && type <= PktType.ACK) hm.count(M.PKTS_RCVD + type - PktType.DATA);
    if (type === PktType.ACK) {
      const n = hdr[b + H.EXTRA]!;
      for (let i = 0; i < n && i < 5; i++) ackRpc(hm, src, hdr[b + ACK_IDS + 2 * i]!, hdr[b + ACK_IDS + 2 * i + 1]!);
      hm.pktPool.free(p);
      p = next;
      continue;
    }
    if (type === PktType.CUTOFFS) {
      handleCutoffs(hm, src, hdr[b + H.CUTOFF_VERSION]!);
      hm.pktPool.free(p);
      p = next;
      continue;
    }
    if (sockG < 0) {
      // Nobody listens on dport: the kernel answers with ICMP port unreachable (ENOTCONN).
      if (type === PktType.DATA && (localId & 1) === 1 && hdr[b + H.OFFSET] === 0) {
        xmitControl(hm, PktType.RPC_UNKNOWN, src, dport, sport, localId, now, UNKNOWN_FLAG_NO_SOCKET);
      }
      hm.count(M.unknown_rpcs);
      hm.pktPool.free(p);
      p = next;
      continue;
    }
    if (!looked) {
      looked = true;
      lk = hm.bucketLock(sockG, localId);
      hm.locks.lock(lk);
      g = rpcFind(hm, sockG, localId, src);
      if (g < 0 && type === PktType.DATA && (localId & 1) === 1) {
        if (hm.vc.virtual) hm.vc.t += hm.vc.costs.rpcAlloc;
        g = rpcAllocServer(hm, sockG, localId, src, sport, now);
        if (g < 0) hm.count(M.server_cant_create_rpcs);
      }
      if (g >= 0) gen = hm.rGen[g]!;
    } else if (g >= 0 && Atomics.load(hm.rAppNeedsLock, g) !== 0) {
      // Let the app thread that spins for the lock copy out (the kernel spins 100 ns here).
      hm.locks.unlock(lk);
      hm.locks.lock(lk);
      if (hm.rGen[g] !== gen) g = -1;
    }
    if (g < 0) {
      unknownRpc(hm, p, type, src, sport, dport, localId, now);
      p = next;
      continue;
    }
    switch (type) {
      case PktType.DATA: {
        const ackId = hdr[b + H.ACK_CLIENT_ID]!;
        if (ackId !== 0 && acks < hm.ackScratch.length / 2) {
          hm.ackScratch[2 * acks] = ackId;
          hm.ackScratch[2 * acks + 1] = hdr[b + H.ACK_SERVER_PORT]!;
          acks++;
        }
        if ((hdr[b + H.FLAGS_OR_PRIO]! & DATA_FLAG_RETRANSMIT) !== 0) hm.rResends[g] = hm.rResends[g]! + 1;
        dataPkt(hm, g, p, now);
        break;
      }
      case PktType.GRANT:
        grantPkt(hm, g, p, now);
        break;
      case PktType.RESEND:
        resendPkt(hm, g, p, now);
        break;
      case PktType.RPC_UNKNOWN:
        if (unknownPkt(hm, g, p, lk, now)) g = -1;
        break;
      case PktType.BUSY:
        hm.rSilent[g] = 0;
        hm.pktPool.free(p);
        break;
      case PktType.NEED_ACK: {
        // homa_need_ack_pkt: ACK only a response fully received; otherwise ask for what is missing.
        hm.pktPool.free(p);
        const complete = (Atomics.load(hm.rFlags, g) & RpcFlag.DELIVERED) !== 0
          || (hm.rState[g] === RpcState.INCOMING && hm.rInLen[g]! >= 0 && hm.rInRemaining[g] === 0);
        if (hm.rError[g] !== 0) hm.count(M.ignored_need_acks);
        else if (complete) sendAck(hm, src, dport, sport, localId, now);
        else requestRetrans(hm, g, now);
        break;
      }
      default:
        hm.pktPool.free(p);
    }
    p = next;
  }
  if (g >= 0) grantCheckRpc(hm, g, lk, now);
  else if (lk >= 0) hm.locks.unlock(lk);
  for (let i = 0; i < acks; i++) ackRpc(hm, src, hm.ackScratch[2 * i]!, hm.ackScratch[2 * i + 1]!);
}

/**
 * An app thread takes RPC g's lock `lk`: it announces its spin in rpc.appNeedsLock, so SoftIRQ
 * yields the lock between packets, only when the lock is busy (two atomic RMWs saved in the
 * common, uncontended case). Used by recvmsg and by the copy-out's relock.
 */
export function appLockRpc(hm: Homa, g: number, lk: number): void {
  if (hm.locks.trylock(lk)) return;
  Atomics.add(hm.rAppNeedsLock, g, 1);
  hm.locks.lock(lk);
  Atomics.sub(hm.rAppNeedsLock, g, 1);
}

/** A packet for an RPC this host does not have (frees p). */
function unknownRpc(hm: Homa, p: number, type: number, src: number, sport: number, dport: number, localId: number,
  now: number): void {
  hm.pktPool.free(p);
  // Counted as the kernel does: not RESEND or NEED_ACK (answered below), nor a GRANT for a
  // server RPC (one that ended while its response was being granted).
  if (type !== PktType.RESEND && type !== PktType.NEED_ACK && (type !== PktType.GRANT || (localId & 1) === 0)) {
    hm.count(M.unknown_rpcs);
  }
  if (type === PktType.RESEND) {
    xmitControl(hm, PktType.RPC_UNKNOWN, src, dport, sport, localId, now);
  } else if (type === PktType.NEED_ACK) {
    sendAck(hm, src, dport, sport, localId, now);
  }
}

/**
 * The app's copy-out (homa_copy_to_user), RPC lock `lk` held on entry and on return: detaches
 * the queued packets (clearing PKTS_READY: packets that arrive later trigger a new hand-off),
 * releases the lock, copies each payload into the message pages and frees the packet, and
 * relocks (announcing itself in rpc.appNeedsLock, so that SoftIRQ yields the lock, when it finds
 * it held).
 * Returns false if the RPC ended meanwhile (the slot was freed here: the caller must not touch
 * it).
 */
export function copyOut(hm: Homa, g: number, lk: number): boolean {
  const hdr = hm.pktHdr;
  let p = hm.rInHead[g]!;
  hm.rInHead[g] = -1;
  hm.rInTail[g] = -1;
  hm.rFlags[g] = hm.rFlags[g]! & ~RpcFlag.PKTS_READY; // RPC lock held
  if (p < 0) return true;
  hm.rCopiers[g] = hm.rCopiers[g]! + 1;
  hm.locks.unlock(lk);
  let bytes = 0;
  while (p >= 0) {
    const b = p * HW;
    const next = hdr[b + H.NEXT]!;
    const n = hdr[b + H.SEG_BYTES]!;
    copyToMsg(hm, hm.rInPages, g, hdr[b + H.OFFSET]!, n, hm.pktData(p));
    bytes += n;
    hm.pktPool.free(p);
    p = next;
  }
  hm.count(M.recv_msg_bytes, bytes);
  if (hm.vc.virtual) hm.vc.t += hm.vc.costs.copyOutPerByte * bytes; // copied with the RPC lock released
  appLockRpc(hm, g, lk);
  const copiers = hm.rCopiers[g]! - 1;
  hm.rCopiers[g] = copiers;
  if ((hm.rFlags[g]! & RpcFlag.FREE_PENDING) !== 0) { // set only under the RPC lock, held again
    if (copiers > 0) return false; // another thread still copies: the last one frees
    rpcFreeSlot(hm, g);
    return false;
  }
  return true;
}
