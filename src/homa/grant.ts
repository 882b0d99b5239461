/**
 * The grant policy (homa_grant.c). Per host: `active_rpcs[8]` (unsorted, with a copy of
 * each RPC's bytes_remaining), the grantable RPCs that are not active (one list sorted by SRPT:
 * fewer bytes remaining first, ties to the older birth), `total_incoming` (atomic: granted but
 * unreceived bytes of grantable messages), the `needy` bit mask of active slots that wanted a
 * grant and could not get one, and the FIFO grant time. `grantCheckRpc` runs once per batch of
 * packets for one RPC at the end of dispatch: it (un)manages the RPC (grant lock), updates
 * total_incoming, promotes an inactive RPC whose rank changed (grant lock), grants an active
 * RPC `received + window - granted` bytes capped by `max_incoming - total_incoming` with only
 * the RPC lock and atomics (the lock-free fast path), sets priorities by rank (homa_grant.c), then
 * serves needy RPCs and FIFO grants. The grant lock is taken before RPC locks: code that holds
 * an RPC lock try-locks it, else drops the RPC lock, locks grant and relocks (then checks that
 * the slot still holds the same RPC). The window is `window`, or max_incoming/(num_active+1).
 * Simplification: the kernel keeps one grantable list per peer plus a list of peers sorted by
 * their head RPC; one host-wide SRPT list with per-peer active counts gives the same choices
 * (promote_queued: the peer with the fewest active RPCs, ties by SRPT order). Fields
 * grantState/activeSlot/grantNext/grantPrev and the grant.* columns belong to the grant lock.
 */
import { TT_SEND_GRANT } from '../metrics/timetrace.js';
import { H, HEADER_WORDS, PktType } from '../wire/packet.js';
import { HOMA_MAX_GRANTS, LINE } from './layout.js';
import { GrantState, RpcState, type Homa } from './homa.js';
import { M } from './metrics.js';
import { allocControl, sendControl } from './outgoing.js';

/** The grant window for `numActive` active RPCs. */
export function grantWindow(hm: Homa, numActive: number): number {
  return hm.window !== 0 ? hm.window : Math.floor(hm.maxIncoming / (numActive + 1));
}

/** SRPT order: does RPC a outrank RPC b (fewer bytes remaining, ties to the older)? */
export function outranks(hm: Homa, a: number, b: number): boolean {
  const ra = hm.rInRemaining[a]!;
  const rb = hm.rInRemaining[b]!;
  return ra < rb || (ra === rb && hm.rBirthNs[a]! < hm.rBirthNs[b]!);
}

export function totalIncoming(hm: Homa): number {
  return Atomics.load(hm.gTotalIncoming, hm.host * LINE);
}

export function numActive(hm: Homa): number {
  return hm.gNumActive[hm.host * LINE]!;
}

/** Scheduled priority of the RPC in active slot s, from its rank among active RPCs (homa_grant.c). */
export function grantPriority(hm: Homa, s: number): number {
  const base = hm.host * HOMA_MAX_GRANTS;
  const me = hm.gActive[base + s]!;
  const rem = hm.gActiveRemaining[base + s]!;
  let rank = 0;
  let n = 0;
  for (let t = 0; t < HOMA_MAX_GRANTS; t++) {
    const o = hm.gActive[base + t]!;
    if (o < 0) continue;
    n++;
    if (t === s) continue;
    const ro = hm.gActiveRemaining[base + t]!;
    if (ro < rem || (ro === rem && hm.rBirthNs[o]! < hm.rBirthNs[me]!)) rank++;
  }
  return priorityForRank(hm, rank, n);
}

/**
 * homa_grant_priority: the scheduled priority of the RPC with `rank` better-ranked active RPCs
 * among `numActive`: max_sched_prio - rank, shifted down by the levels fewer RPCs leave unused
 * (so that a new short message can preempt at once), at least 0.
 */
export function priorityForRank(hm: Homa, rank: number, numActive: number): number {
  let prio = hm.maxSchedPrio - rank;
  const extra = hm.maxSchedPrio + 1 - numActive;
  if (extra >= 0) prio -= extra;
  return prio < 0 ? 0 : prio;
}

/**
 * grant_add_lock: takes the grant lock while holding RPC g's lock `lk` (trylock, else drop the
 * RPC lock, lock grant, relock). Returns false — holding only `lk` — if the slot no longer
 * holds the same live RPC after the relock.
 */
export function lockGrantFromRpc(hm: Homa, g: number, lk: number): boolean {
  if (hm.locks.trylock(hm.grantLock)) return true;
  const gen = hm.rGen[g]!;
  hm.locks.unlock(lk);
  hm.locks.lock(hm.grantLock);
  hm.locks.lock(lk);
  const st = hm.rState[g]!;
  if (hm.rGen[g] !== gen || st === RpcState.FREE) {
    hm.locks.unlock(hm.grantLock);
    return false;
  }
  return true;
}

// --- membership (grant lock held) ---

export function listInsert(hm: Homa, g: number): void {
  const h = hm.host;
  let prev = -1;
  let cur = hm.gListHead[h]!;
  while (cur >= 0 && !outranks(hm, g, cur)) { prev = cur; cur = hm.rGrantNext[cur]!; }
  hm.rGrantPrev[g] = prev;
  hm.rGrantNext[g] = cur;
  if (prev < 0) hm.gListHead[h] = g; else hm.rGrantNext[prev] = g;
  if (cur >= 0) hm.rGrantPrev[cur] = g;
  hm.rGrantState[g] = GrantState.GRANTABLE;
  hm.gNumGrantable[h] = hm.gNumGrantable[h]! + 1;
}

export function listRemove(hm: Homa, g: number): void {
  const h = hm.host;
  const prev = hm.rGrantPrev[g]!;
  const next = hm.rGrantNext[g]!;
  if (prev < 0) hm.gListHead[h] = next; else hm.rGrantNext[prev] = next;
  if (next >= 0) hm.rGrantPrev[next] = prev;
  hm.rGrantPrev[g] = -1;
  hm.rGrantNext[g] = -1;
  hm.rGrantState[g] = GrantState.NONE;
  hm.gNumGrantable[h] = hm.gNumGrantable[h]! - 1;
}

export function activate(hm: Homa, g: number, s: number): void {
  const base = hm.host * HOMA_MAX_GRANTS;
  hm.gActive[base + s] = g;
  hm.gActiveRemaining[base + s] = hm.rInRemaining[g]!;
  hm.rActiveSlot[g] = s;
  hm.rGrantState[g] = GrantState.ACTIVE;
  hm.gNumActive[hm.host * LINE] = hm.gNumActive[hm.host * LINE]! + 1;
  const p = hm.host * hm.hosts + hm.rPeer[g]!;
  hm.gPeerActive[p] = hm.gPeerActive[p]! + 1;
}

export function deactivate(hm: Homa, s: number): number {
  const base = hm.host * HOMA_MAX_GRANTS;
  const g = hm.gActive[base + s]!;
  hm.gActive[base + s] = -1;
  hm.rActiveSlot[g] = -1;
  hm.rGrantState[g] = GrantState.NONE;
  hm.gNumActive[hm.host * LINE] = hm.gNumActive[hm.host * LINE]! - 1;
  const p = hm.host * hm.hosts + hm.rPeer[g]!;
  hm.gPeerActive[p] = hm.gPeerActive[p]! - 1;
  Atomics.and(hm.gNeedy, hm.host * LINE, ~(1 << s));
  return g;
}

/**
 * find_victim: the active slot RPC g may take — the first empty slot among the first
 * max_overcommit, else the lowest-priority active RPC ("lp"): from the peer with the most
 * active RPCs, counting g's own peer as if g were active too, and among equal counts the one
 * with more bytes remaining (ties: the younger). Its slot is returned if lp's peer has more
 * than (g's peer's active + 1) RPCs, or if g outranks lp; otherwise -1 (g must wait).
 */
export function findVictim(hm: Homa, g: number): number {
  const base = hm.host * HOMA_MAX_GRANTS;
  const pa = hm.host * hm.hosts;
  const myPeer = hm.rPeer[g]!;
  let lp = -1;
  let lpCount = 0;
  let lpRemaining = 0;
  for (let s = 0; s < hm.maxOvercommit; s++) {
    const o = hm.gActive[base + s]!;
    if (o < 0) return s;
    const rem = hm.gActiveRemaining[base + s]!;
    let c = hm.gPeerActive[pa + hm.rPeer[o]!]!;
    if (hm.rPeer[o] === myPeer) c++;
    if (c !== lpCount) {
      if (c > lpCount) { lp = s; lpCount = c; lpRemaining = rem; }
      continue;
    }
    if (lpRemaining > rem) continue;
    if (lpRemaining === rem && hm.rBirthNs[hm.gActive[base + lp]!]! > hm.rBirthNs[o]!) continue;
    lp = s; lpCount = c; lpRemaining = rem;
  }
  if (lp < 0) return -1;
  if (lpCount > hm.gPeerActive[pa + myPeer]! + 1) return lp;
  const mine = hm.rInRemaining[g]!;
  if (lpRemaining > mine) return lp;
  if (lpRemaining < mine) return -1;
  return hm.rBirthNs[hm.gActive[base + lp]!]! > hm.rBirthNs[g]! ? lp : -1;
}

/** manage_rpc: RPC g becomes grantable — active if a slot is free or a victim yields one. */
export function manage(hm: Homa, g: number): void {
  const s = findVictim(hm, g);
  if (s < 0) { listInsert(hm, g); return; }
  if (hm.gActive[hm.host * HOMA_MAX_GRANTS + s]! >= 0) listInsert(hm, deactivate(hm, s));
  activate(hm, g, s);
}

/** promote_queued: fills free slot s from the grantable list (peer with fewest active, then SRPT). */
export function promoteQueued(hm: Homa, s: number): void {
  const pa = hm.host * hm.hosts;
  let best = -1;
  let bestCount = 1 << 30;
  for (let c = hm.gListHead[hm.host]!; c >= 0; c = hm.rGrantNext[c]!) {
    const n = hm.gPeerActive[pa + hm.rPeer[c]!]!;
    if (n < bestCount) { best = c; bestCount = n; if (n === 0) break; }
  }
  if (best < 0) return;
  listRemove(hm, best);
  activate(hm, best, s);
  Atomics.or(hm.gNeedy, hm.host * LINE, 1 << s);
}

/** Removes RPC g from the grant state and returns its incoming bytes (grant lock held). */
export function unmanage(hm: Homa, g: number): void {
  const st = hm.rGrantState[g]!;
  if (st === GrantState.ACTIVE) {
    const s = hm.rActiveSlot[g]!;
    deactivate(hm, s);
    promoteQueued(hm, s);
  } else if (st === GrantState.GRANTABLE) {
    listRemove(hm, g);
  }
  hm.rGrantState[g] = GrantState.NONE;
  hm.rActiveSlot[g] = -1;
  const inc = hm.rRecIncoming[g]!;
  if (inc !== 0) {
    Atomics.sub(hm.gTotalIncoming, hm.host * LINE, inc);
    hm.rRecIncoming[g] = 0;
  }
}

/**
 * promote_rpc: an inactive RPC's rank may have changed: reposition it in the grantable list;
 * if it now leads its peer's RPCs there, it may take an active slot (find_victim).
 */
export function promote(hm: Homa, g: number): void {
  listRemove(hm, g);
  listInsert(hm, g);
  const peer = hm.rPeer[g]!;
  for (let c = hm.gListHead[hm.host]!; c !== g; c = hm.rGrantNext[c]!) if (hm.rPeer[c] === peer) return;
  const s = findVictim(hm, g);
  if (s < 0) return;
  if (hm.gActive[hm.host * HOMA_MAX_GRANTS + s]! >= 0) listInsert(hm, deactivate(hm, s));
  listRemove(hm, g);
  activate(hm, g, s);
}

/** homa_grant_end_rpc: RPC g ends (RPC lock `lk` held, still held after). */
export function grantEndRpc(hm: Homa, g: number, lk: number): void {
  if (!lockGrantFromRpc(hm, g, lk)) return;
  unmanage(hm, g);
  hm.locks.unlock(hm.grantLock);
}

/** update_incoming: recomputes RPC g's granted-but-unreceived bytes; returns the change. */
export function updateIncoming(hm: Homa, g: number): number {
  const received = hm.rInLen[g]! - hm.rInRemaining[g]!;
  let inc = hm.rInGranted[g]! - received;
  if (inc < 0) inc = 0;
  const delta = inc - hm.rRecIncoming[g]!;
  if (delta !== 0) {
    Atomics.add(hm.gTotalIncoming, hm.host * LINE, delta);
    hm.rRecIncoming[g] = inc;
  }
  return delta;
}

/** Builds a GRANT for RPC g (offset = its granted bytes, priority `prio`); returns the slot or -1. */
export function buildGrant(hm: Homa, g: number, prio: number): number {
  const slot = allocControl(hm, PktType.GRANT, hm.rPeer[g]!, hm.sPort[hm.rSock[g]!]!, hm.rDport[g]!, hm.rId[g]!);
  if (slot < 0) return -1;
  const b = slot * HEADER_WORDS;
  hm.pktHdr[b + H.OFFSET] = hm.rInGranted[g]!;
  hm.pktHdr[b + H.FLAGS_OR_PRIO] = prio;
  return slot;
}

/**
 * try_send: the grant an active RPC g may get now (RPC lock held). Returns a GRANT packet to
 * send after the RPC lock is released, or -1. `checkNeedy`: defer to needy RPCs if any.
 */
export function trySend(hm: Homa, g: number, checkNeedy: boolean): number {
  const s = hm.rActiveSlot[g]!;
  const hb = hm.host * LINE;
  if (s < 0 || hm.gActive[hm.host * HOMA_MAX_GRANTS + s] !== g) return -1;
  const bit = 1 << s;
  const inLen = hm.rInLen[g]!;
  const granted = hm.rInGranted[g]!;
  const received = inLen - hm.rInRemaining[g]!;
  let want = received + grantWindow(hm, hm.gNumActive[hb]!) - granted;
  if (granted + want > inLen) want = inLen - granted;
  if (want <= 0) {
    Atomics.and(hm.gNeedy, hb, ~bit);
    return -1;
  }
  const avail = hm.maxIncoming - Atomics.load(hm.gTotalIncoming, hb);
  if (avail <= 0 || (checkNeedy && Atomics.load(hm.gNeedy, hb) !== 0)) {
    Atomics.or(hm.gNeedy, hb, bit);
    return -1;
  }
  const grant = want < avail ? want : avail;
  hm.rInGranted[g] = granted + grant;
  Atomics.add(hm.gTotalIncoming, hb, grant);
  hm.rRecIncoming[g] = hm.rRecIncoming[g]! + grant;
  if (grant < want) Atomics.or(hm.gNeedy, hb, bit); else Atomics.and(hm.gNeedy, hb, ~bit);
  const prio = grantPriority(hm, s);
  hm.rInPrio[g] = prio;
  hm.count(M.grants);
  hm.count(M.grant_bytes, grant);
  if (hm.tt !== null) hm.tt.record(hm.vc.t, TT_SEND_GRANT, hm.rId[g]!, granted + grant, prio, grant);
  return buildGrant(hm, g, prio);
}

/**
 * homa_grant_check_rpc: called once per batch of packets for RPC g at the end of dispatch,
 * with its lock `lk` held; returns with `lk` RELEASED (GRANTs go out without the RPC lock).
 */
export function grantCheckRpc(hm: Homa, g: number, lk: number, now: number): void {
  hm.count(M.grant_check_calls);
  const inLen = hm.rInLen[g]!;
  const st = hm.rState[g]!;
  if (inLen < 0 || inLen <= hm.rInUnsched[g]! || st === RpcState.DEAD || st === RpcState.FREE) {
    hm.locks.unlock(lk);
    return;
  }
  // Modelled CPU only for a message that needs grants (the early return above costs a few ns).
  if (hm.vc.virtual) hm.vc.t += hm.vc.costs.grantCheck;
  if (hm.rInRemaining[g] === 0) {
    if (hm.rGrantState[g] !== GrantState.NONE && lockGrantFromRpc(hm, g, lk)) {
      unmanage(hm, g);
      hm.locks.unlock(hm.grantLock);
    }
    hm.locks.unlock(lk);
    if (Atomics.load(hm.gNeedy, hm.host * LINE) !== 0) checkNeedy(hm, now);
    return;
  }
  if (hm.rGrantState[g] === GrantState.NONE) {
    if (!lockGrantFromRpc(hm, g, lk)) { hm.locks.unlock(lk); return; }
    if (hm.rGrantState[g] === GrantState.NONE && hm.rState[g] !== RpcState.DEAD) manage(hm, g);
    hm.locks.unlock(hm.grantLock);
  }
  const delta = updateIncoming(hm, g);
  if (hm.rGrantState[g] === GrantState.GRANTABLE && delta !== 0) {
    if (!lockGrantFromRpc(hm, g, lk)) { hm.locks.unlock(lk); return; }
    if (hm.rGrantState[g] === GrantState.GRANTABLE) promote(hm, g);
    hm.locks.unlock(hm.grantLock);
  }
  let pkt = -1;
  if (hm.rGrantState[g] === GrantState.ACTIVE) {
    hm.gActiveRemaining[hm.host * HOMA_MAX_GRANTS + hm.rActiveSlot[g]!] = hm.rInRemaining[g]!;
    pkt = trySend(hm, g, true);
  }
  hm.locks.unlock(lk);
  if (pkt >= 0) {
    sendControl(hm, pkt, now);
    checkFifo(hm, now);
  }
  if (Atomics.load(hm.gNeedy, hm.host * LINE) !== 0) checkNeedy(hm, now);
}

/**
 * check_needy: while total_incoming < max_incoming, grant to the best (SRPT) needy active RPC
 * (grant lock to pick it, then its RPC lock). Counted as needy_grants.
 */
export function checkNeedy(hm: Homa, now: number): void {
  const hb = hm.host * LINE;
  const base = hm.host * HOMA_MAX_GRANTS;
  for (let iter = 0; iter <= HOMA_MAX_GRANTS; iter++) {
    if (Atomics.load(hm.gNeedy, hb) === 0 || Atomics.load(hm.gTotalIncoming, hb) >= hm.maxIncoming) return;
    hm.locks.lock(hm.grantLock);
    const needy = Atomics.load(hm.gNeedy, hb);
    let best = -1;
    let bs = -1;
    for (let s = 0; s < HOMA_MAX_GRANTS; s++) {
      if ((needy & (1 << s)) === 0) continue;
      const o = hm.gActive[base + s]!;
      if (o < 0) { Atomics.and(hm.gNeedy, hb, ~(1 << s)); continue; }
      if (best < 0 || outranks(hm, o, best)) { best = o; bs = s; }
    }
    if (best < 0) { hm.locks.unlock(hm.grantLock); return; }
    Atomics.and(hm.gNeedy, hb, ~(1 << bs));
    const lk = hm.rpcLock(best);
    const gen = hm.rGen[best]!;
    hm.locks.lock(lk);
    hm.locks.unlock(hm.grantLock);
    let pkt = -1;
    if (hm.rGen[best] === gen && hm.rState[best] !== RpcState.DEAD && hm.rActiveSlot[best] === bs) {
      pkt = trySend(hm, best, false);
    }
    hm.locks.unlock(lk);
    if (pkt >= 0) {
      hm.count(M.needy_grants);
      sendControl(hm, pkt, now);
    }
  }
}

function fifoBetter(hm: Homa, c: number, oldest: number, limit: number): boolean {
  return hm.rInGranted[c]! < hm.rInLen[c]! && hm.rRecIncoming[c]! < limit
    && (oldest < 0 || hm.rBirthNs[c]! < hm.rBirthNs[oldest]!);
}

/**
 * find_oldest: the oldest managed RPC that is not fully granted and has less than `limit`
 * bytes granted but not received — the grantable list first, then the active slots, a later
 * candidate replacing the pick only if strictly older (so the list wins ties). -1 if none.
 */
export function findOldest(hm: Homa, limit: number): number {
  let oldest = -1;
  for (let c = hm.gListHead[hm.host]!; c >= 0; c = hm.rGrantNext[c]!) if (fifoBetter(hm, c, oldest, limit)) oldest = c;
  const base = hm.host * HOMA_MAX_GRANTS;
  for (let s = 0; s < HOMA_MAX_GRANTS; s++) {
    const o = hm.gActive[base + s]!;
    if (o >= 0 && fifoBetter(hm, o, oldest, limit)) oldest = o;
  }
  return oldest;
}

/**
 * FIFO ("pity") grants: when the FIFO grant time has come, give fifo_grant_increment bytes to the
 * oldest grantable message that is not fully granted and has less than window + 2 x increment
 * outstanding; its data is to be sent at homa_high_priority (P6). The next one is due
 * fifo_grant_increment bytes of link time at link_mbps x grant_fifo_fraction later.
 */
export function checkFifo(hm: Homa, now: number): void {
  const h = hm.host;
  // fifo_grant_time starts at 0: the first check after start grants at once.
  if (now < hm.gFifoTimeNs[h]!) return;
  hm.locks.lock(hm.grantLock);
  if (now < hm.gFifoTimeNs[h]!) { hm.locks.unlock(hm.grantLock); return; }
  hm.gFifoTimeNs[h] = now + hm.fifoIntervalNs;
  if (hm.cfg.grantFifoFraction === 0 || hm.fifoIncrement === 0) { hm.locks.unlock(hm.grantLock); return; }
  const limit = grantWindow(hm, hm.gNumActive[h * LINE]!) + 2 * hm.fifoIncrement;
  const oldest = findOldest(hm, limit);
  if (oldest < 0) { hm.locks.unlock(hm.grantLock); return; }
  const g = oldest;
  const lk = hm.rpcLock(g);
  hm.locks.lock(lk);
  hm.locks.unlock(hm.grantLock);
  let pkt = -1;
  let inc = 0;
  if (hm.rState[g] !== RpcState.DEAD && hm.rGrantState[g] !== GrantState.NONE) {
    inc = hm.rInLen[g]! - hm.rInGranted[g]!;
    if (inc > hm.fifoIncrement) inc = hm.fifoIncrement;
    hm.rInGranted[g] = hm.rInGranted[g]! + inc;
    Atomics.add(hm.gTotalIncoming, h * LINE, inc);
    hm.rRecIncoming[g] = hm.rRecIncoming[g]! + inc;
    pkt = buildGrant(hm, g, hm.numPriorities >= 2 ? hm.numPriorities - 2 : 0);
  }
  hm.locks.unlock(lk);
  if (pkt >= 0) {
    hm.count(M.fifo_grants);
    hm.count(M.fifo_grant_bytes, inc);
    sendControl(hm, pkt, now);
  }
}
