/**
 * RPCs (homa_rpc.c): allocation of client and server RPC slots from the host's slab pool,
 * lookup in the socket's hash tables (client and server buckets, hash `(id >> 1) & mask`, each
 * bucket guarded by its own lock: lookup-and-lock is one step, as in the kernel), and the end of
 * an RPC. Client ids are even, from a per-host counter that goes up by 2; the server's id for
 * the same RPC is `id ^ 1`, unique together with the peer. Ending unlinks the RPC from the grant
 * state, the throttled list, the ready list and its bucket, then frees its packets, pages and
 * slot. Simplification: the kernel defers that work to a reaper (dead_rpcs, reap_limit); here it
 * is done inline by whoever ends the RPC, except while an app thread copies data out with the
 * RPC lock released, in which case that thread frees the slot when it is done (FREE_PENDING).
 * A slot's `gen` changes at every allocation so a stale index (held across a lock release) can
 * be detected.
 */
import { TT_RPC_END } from '../metrics/timetrace.js';
import { H, HEADER_WORDS } from '../wire/packet.js';
import { HOMA_RPC_BUCKETS, LINE } from './layout.js';
import { GrantState, HomaErr, RpcFlag, RpcState, type Homa } from './homa.js';
import { M } from './metrics.js';
import { freeMsgPages } from './pool.js';
import { NOT_READY, readyListed, readyRemove } from './sock.js';
import { grantEndRpc } from './grant.js';
import { throttleRemove } from './pacer.js';

const BUCKET_MASK = HOMA_RPC_BUCKETS - 1;

function bucketHeads(hm: Homa, id: number): Int32Array {
  return (id & 1) === 0 ? hm.sCBuckets : hm.sSBuckets;
}

/** Finds RPC `id` from `peer` in socket `sockG` (its bucket lock held), or -1. */
export function rpcFind(hm: Homa, sockG: number, id: number, peer: number): number {
  let g = bucketHeads(hm, id)[sockG * HOMA_RPC_BUCKETS + ((id >> 1) & BUCKET_MASK)]!;
  while (g >= 0) {
    if (hm.rId[g] === id && hm.rPeer[g] === peer && hm.rState[g] !== RpcState.FREE) return g;
    g = hm.rBucketNext[g]!;
  }
  return -1;
}

function hashInsert(hm: Homa, g: number): void {
  const id = hm.rId[g]!;
  const heads = bucketHeads(hm, id);
  const i = hm.rSock[g]! * HOMA_RPC_BUCKETS + ((id >> 1) & BUCKET_MASK);
  hm.rBucketNext[g] = heads[i]!;
  heads[i] = g;
}

function hashRemove(hm: Homa, g: number): void {
  const id = hm.rId[g]!;
  const heads = bucketHeads(hm, id);
  const i = hm.rSock[g]! * HOMA_RPC_BUCKETS + ((id >> 1) & BUCKET_MASK);
  let prev = -1;
  let cur = heads[i]!;
  while (cur >= 0 && cur !== g) { prev = cur; cur = hm.rBucketNext[cur]!; }
  if (cur < 0) return;
  if (prev < 0) heads[i] = hm.rBucketNext[g]!; else hm.rBucketNext[prev] = hm.rBucketNext[g]!;
  hm.rBucketNext[g] = -1;
}

/** Resets every column of slot g for a new RPC that is read before it is written. */
function rpcInit(hm: Homa, g: number, sockG: number, id: number, peer: number, dport: number, state: number, now: number): void {
  hm.rId[g] = id;
  hm.rPeer[g] = peer;
  hm.rDport[g] = dport;
  hm.rSock[g] = sockG;
  hm.rGen[g] = (hm.rGen[g]! + 1) | 0;
  hm.rFlags[g] = 0; // plain: nobody else writes a fresh slot's flags (see RpcFlag)
  // Not reset: rpc.appNeedsLock, a counter that a stale app thread spinning for this slot's lock
  // brings back to 0 itself.
  hm.rError[g] = 0;
  hm.rSilent[g] = 0;
  hm.rBucketNext[g] = -1;
  hm.rDoneTicks[g] = 0;
  hm.rReadyNext[g] = NOT_READY;
  hm.rOutLen[g] = -1;
  hm.rOutNext[g] = 0;
  hm.rOutGranted[g] = 0;
  hm.rOutUnsched[g] = 0;
  hm.rOutSchedPrio[g] = 0;
  hm.rThrNext[g] = -1;
  hm.rThrPrev[g] = -1;
  hm.rInLen[g] = -1;
  hm.rInRemaining[g] = 0;
  hm.rInGranted[g] = 0;
  hm.rInUnsched[g] = 0;
  hm.rInRecvEnd[g] = 0;
  hm.rInNumGaps[g] = 0;
  hm.rInHead[g] = -1;
  hm.rInTail[g] = -1;
  hm.rInPrio[g] = 0;
  hm.rRecIncoming[g] = 0;
  hm.rGrantState[g] = GrantState.NONE;
  hm.rActiveSlot[g] = -1;
  hm.rGrantNext[g] = -1;
  hm.rGrantPrev[g] = -1;
  hm.rResends[g] = 0;
  hm.rCopiers[g] = 0;
  hm.rOutInitNs[g] = now;
  hm.rBirthNs[g] = now;
  hm.rStartNs[g] = now;
  // Not reset here: the page lists (every entry of a free slot is -1: initHoma fills them and
  // freeMsgPages, which rpcFreeSlot runs on both, restores it) and the gap list (entries at or
  // past rInNumGaps, reset above, are never read).
  hm.rState[g] = state;
}

/**
 * Unlinks an ending RPC from its socket's count (socket lock held). With sockLockOnArrival
 * 'twice' every change of the count is made under the socket lock, so plain arithmetic is
 * exact; with 'once' arrivals add without that lock (atomically), so this must subtract
 * atomically too.
 */
function sockCountDown(hm: Homa, sockG: number): void {
  if (hm.sockLockOnce) Atomics.sub(hm.sNumRpcs, sockG, 1);
  else hm.sNumRpcs[sockG] = hm.sNumRpcs[sockG]! - 1;
}

/** Links a new RPC into its socket's count (socket lock, as the kernel links active_rpcs). */
function sockLink(hm: Homa, sockG: number, delta: number): void {
  const lk = hm.socketLock(sockG);
  hm.locks.lock(lk);
  if (hm.sockLockOnce) Atomics.add(hm.sNumRpcs, sockG, delta);
  else hm.sNumRpcs[sockG] = hm.sNumRpcs[sockG]! + delta; // plain: see sockCountDown
  hm.locks.unlock(lk);
}

/**
 * homa_rpc_alloc_client: a new client RPC to (dstHost, dstPort) in socket `sockG`, state
 * OUTGOING. Returns the global slot with its bucket lock HELD, or -ENOMEM when the host's RPC
 * table is full (counted).
 */
export function rpcAllocClient(hm: Homa, sockG: number, dstHost: number, dstPort: number, now: number): number {
  const r = hm.rpcPool.alloc();
  if (r < 0) {
    hm.count(M.rpc_alloc_failures);
    return -HomaErr.ENOMEM;
  }
  const g = hm.rpcBase + r;
  let id = (Atomics.add(hm.nextId, hm.host * LINE, 2) + 2) & 0x7ffffffe;
  if (id === 0) id = 2;
  rpcInit(hm, g, sockG, id, dstHost, dstPort, RpcState.OUTGOING, now);
  hm.locks.lock(hm.bucketLock(sockG, id));
  hashInsert(hm, g);
  sockLink(hm, sockG, 1);
  return g;
}

/**
 * homa_rpc_alloc_server: the first DATA packet of a request created this RPC (caller holds the
 * bucket lock of (sockG, id)). State INCOMING. Returns the slot, or -1 when the table is full.
 */
export function rpcAllocServer(hm: Homa, sockG: number, id: number, peer: number, clientPort: number, now: number): number {
  const r = hm.rpcPool.alloc();
  if (r < 0) {
    hm.count(M.rpc_alloc_failures);
    return -1;
  }
  const g = hm.rpcBase + r;
  rpcInit(hm, g, sockG, id, peer, clientPort, RpcState.INCOMING, now);
  hashInsert(hm, g);
  // sockLockOnArrival 'twice' (the kernel): linking takes the socket lock here and the hand-off
  // takes it again; 'once' links without it, so only the hand-off takes it.
  if (hm.sockLockOnce) Atomics.add(hm.sNumRpcs, sockG, 1); else sockLink(hm, sockG, 1);
  return g;
}

/** Frees the packets queued on RPC g's incoming message. */
export function freeQueuedPackets(hm: Homa, g: number): void {
  let p = hm.rInHead[g]!;
  while (p >= 0) {
    const next = hm.pktHdr[p * HEADER_WORDS + H.NEXT]!;
    hm.pktPool.free(p);
    p = next;
  }
  hm.rInHead[g] = -1;
  hm.rInTail[g] = -1;
}

/** Returns slot g and everything it holds to the pools (the RPC is unlinked from everything). */
export function rpcFreeSlot(hm: Homa, g: number): void {
  freeQueuedPackets(hm, g);
  freeMsgPages(hm, hm.rInPages, g);
  freeMsgPages(hm, hm.rOutPages, g);
  hm.rFlags[g] = 0; // RPC lock held
  hm.rGen[g] = (hm.rGen[g]! + 1) | 0;
  hm.rState[g] = RpcState.FREE;
  hm.rpcPool.free(g - hm.rpcBase);
}

/**
 * homa_rpc_end: ends RPC g. The caller holds the RPC's bucket lock `lk` (computed before the
 * call) and still holds it afterwards; the slot may already be back in the pool then.
 */
export function rpcEnd(hm: Homa, g: number, lk: number): void {
  const st = hm.rState[g]!;
  if (st === RpcState.DEAD || st === RpcState.FREE) return;
  hm.rState[g] = RpcState.DEAD;
  hm.count(M.rpcs_ended);
  if (hm.tt !== null) hm.tt.record(hm.vc.t, TT_RPC_END, hm.rId[g]!, hm.sPort[hm.rSock[g]!]!, 0, 0);
  const gen = hm.rGen[g]!;
  if (hm.rGrantState[g] !== GrantState.NONE) grantEndRpc(hm, g, lk);
  if (hm.rGen[g] !== gen) return;
  if ((Atomics.load(hm.rFlags, g) & RpcFlag.THROTTLED) !== 0) throttleRemove(hm, g);
  const sockG = hm.rSock[g]!;
  const sl = hm.socketLock(sockG);
  hm.locks.lock(sl);
  if (readyListed(hm, g)) readyRemove(hm, sockG, g);
  sockCountDown(hm, sockG);
  hm.locks.unlock(sl);
  hashRemove(hm, g);
  if (hm.rCopiers[g]! > 0) {
    hm.rFlags[g] = hm.rFlags[g]! | RpcFlag.FREE_PENDING; // RPC lock held
    return;
  }
  rpcFreeSlot(hm, g);
}
