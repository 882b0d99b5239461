/**
 * The pacer (homa_pacer.c; the homa_qdisc.c pacer in simplified form): RPCs whose
 * transmission the pacer policy refused wait on the host's throttled list in SRPT order (bytes
 * left to transmit), under the global throttle lock. --throttle-insert picks the structure:
 * 'front' (the kernel's sorted list, scanned from the head), 'back' (scanned from the tail) or
 * 'heap' (util/heap.ts's indexed min-heap in the preallocated `pacer.heap` column, each RPC's
 * heap position in rpc.thrPrev, ordered by `heapBefore`; ties go to the older message); all three give the same SRPT picks at
 * different costs (throttle_list_checks). The pacer kernel thread (`PacerContext`, role PACER,
 * on the host's last core unless --pacer-core says otherwise) runs under the pacer trylock so
 * only one instance transmits: while the list is non-empty and the NIC estimate is below the
 * limit it picks the head (or, every 1000/pacer_fifo_fraction picks, the oldest message) and
 * calls xmitData with force=true, so each pick sends at least one packet even if other threads
 * filled the NIC queue. Who else may transmit while RPCs are throttled is the pacer policy's
 * decision (src/policy/pacer.ts: nic-short, pacer-only, qdisc, or a user module), taken in
 * xmitData. GRO calls `pacerXmit` as a helper when the backlog is below half the limit
 * (homa_pacer_check; the qdisc's helper uses the same threshold).
 */
import { TT_CTR_NIC_BACKLOG, TT_CTR_THROTTLED, TT_PACER_XMIT } from '../metrics/timetrace.js';
import type { CoreAccount, KernelContext } from '../cpu/context.js';
import { Role } from '../cpu/context.js';
import { LINE } from './layout.js';
import { RpcFlag, RpcState, type Homa } from './homa.js';
import { M } from './metrics.js';
import { nicBacklogNs, xmitData } from './outgoing.js';
import { heapPush, heapRemove, heapSiftUp } from '../util/heap.js';

/** Picks per pacer pass (each sends at least one packet); bounds one run() call. */
export const PACER_MAX_PICKS = 16;

function bytesLeft(hm: Homa, g: number): number {
  return hm.rOutLen[g]! - hm.rOutNext[g]!;
}

/** The core of each host that runs the pacer thread (--pacer-core; default the last one). */
export function pacerCore(hm: Homa): number {
  return hm.layout.pacerCore;
}

/**
 * True when throttled RPC a goes before b: fewer bytes left (SRPT), then the older message
 * (rpc.outInitNs), then the lower slot. The order of the heap; the sorted lists use bytes left
 * only and keep arrival order among ties, as the kernel's list does.
 */
function heapBefore(hm: Homa, a: number, b: number): boolean {
  const la = bytesLeft(hm, a);
  const lb = bytesLeft(hm, b);
  if (la !== lb) return la < lb;
  const ta = hm.rOutInitNs[a]!;
  const tb = hm.rOutInitNs[b]!;
  if (ta !== tb) return ta < tb;
  return a < b;
}

/**
 * homa_add_to_throttled: puts RPC g on the throttled list in SRPT order (RPC lock held), under
 * the throttle lock. --throttle-insert: 'front' (the kernel) scans from the head past every
 * entry with no more bytes left, 'back' scans from the tail past every entry with more, 'heap'
 * sifts up a binary heap; throttle_list_checks counts the entries passed (front, back) or the
 * parent comparisons (heap).
 */
export function throttleAdd(hm: Homa, g: number): void {
  if ((Atomics.load(hm.rFlags, g) & RpcFlag.THROTTLED) !== 0) return;
  const h = hm.host;
  hm.locks.lock(hm.throttleLock);
  let checks = 0;
  if (hm.throttleHeap) {
    const base = hm.rpcBase;
    const size = Atomics.load(hm.pThrCount, h * LINE);
    checks = heapPush(hm.pThrHeap, base, hm.rThrPrev, size, g, heapBefore, hm);
    hm.pThrHead[h] = hm.pThrHeap[base]!;
    hm.rThrNext[g] = -1;
  } else {
    const left = bytesLeft(hm, g);
    let prev: number;
    let next: number;
    if (!hm.throttleBack) {
      prev = -1;
      next = hm.pThrHead[h]!;
      while (next >= 0 && bytesLeft(hm, next) <= left) { checks++; prev = next; next = hm.rThrNext[next]!; }
    } else {
      next = -1;
      prev = hm.pThrTail[h]!;
      while (prev >= 0 && bytesLeft(hm, prev) > left) { checks++; next = prev; prev = hm.rThrPrev[prev]!; }
    }
    hm.rThrPrev[g] = prev;
    hm.rThrNext[g] = next;
    if (prev < 0) hm.pThrHead[h] = g; else hm.rThrNext[prev] = g;
    if (next < 0) hm.pThrTail[h] = g; else hm.rThrPrev[next] = g;
  }
  Atomics.or(hm.rFlags, g, RpcFlag.THROTTLED);
  // The walk is a pointer chase held under the throttle lock: each element costs its cache miss.
  if (hm.vc.virtual) hm.vc.t += hm.vc.costs.listElem * (checks + 1);
  // The pacer may not act on the list before it became non-empty (its nextNs reads this stamp,
  // the time of the ring below).
  if (Atomics.load(hm.pThrCount, h * LINE) === 0) hm.pThrSinceNs[h] = hm.vc.t;
  Atomics.add(hm.pThrCount, h * LINE, 1);
  hm.locks.unlock(hm.throttleLock);
  hm.count(M.throttle_list_adds);
  hm.count(M.throttle_list_checks, checks);
  if (hm.doorbells !== null) hm.doorbells.ring(h * hm.cores + hm.layout.pacerCore);
}

/** Unlinks RPC g from the throttled list if it is there. */
export function throttleRemove(hm: Homa, g: number): void {
  const h = hm.host;
  hm.locks.lock(hm.throttleLock);
  if ((Atomics.load(hm.rFlags, g) & RpcFlag.THROTTLED) !== 0) {
    if (hm.throttleHeap) {
      const base = hm.rpcBase;
      const size = Atomics.load(hm.pThrCount, h * LINE);
      heapRemove(hm.pThrHeap, base, hm.rThrPrev, size, g, heapBefore, hm);
      hm.pThrHead[h] = size > 1 ? hm.pThrHeap[base]! : -1;
    } else {
      const prev = hm.rThrPrev[g]!;
      const next = hm.rThrNext[g]!;
      if (prev < 0) hm.pThrHead[h] = next; else hm.rThrNext[prev] = next;
      if (next < 0) hm.pThrTail[h] = prev; else hm.rThrPrev[next] = prev;
    }
    hm.rThrPrev[g] = -1;
    hm.rThrNext[g] = -1;
    Atomics.and(hm.rFlags, g, ~RpcFlag.THROTTLED);
    Atomics.sub(hm.pThrCount, h * LINE, 1);
  }
  hm.locks.unlock(hm.throttleLock);
}

/**
 * After RPC g (throttled, RPC lock held) sent packets, its bytes left shrank: restore the heap
 * order (heap mode only; the sorted lists, like the kernel's, are not re-sorted).
 */
function throttleResort(hm: Homa, g: number): void {
  if (!hm.throttleHeap) return;
  hm.locks.lock(hm.throttleLock);
  if ((Atomics.load(hm.rFlags, g) & RpcFlag.THROTTLED) !== 0) {
    heapSiftUp(hm.pThrHeap, hm.rpcBase, hm.rThrPrev, hm.rThrPrev[g]!, heapBefore, hm);
    hm.pThrHead[hm.host] = hm.pThrHeap[hm.rpcBase]!;
  }
  hm.locks.unlock(hm.throttleLock);
}

/** RPCs on the throttled list (a snapshot). */
export function throttledCount(hm: Homa): number {
  return Atomics.load(hm.pThrCount, hm.host * LINE);
}

/** The throttled list in pick order (tests and diagnostics; allocates; call with the list quiet). */
export function throttledList(hm: Homa): number[] {
  const out: number[] = [];
  if (hm.throttleHeap) {
    const size = Atomics.load(hm.pThrCount, hm.host * LINE);
    for (let i = 0; i < size; i++) out.push(hm.pThrHeap[hm.rpcBase + i]!);
    return out.sort((a, b) => (heapBefore(hm, a, b) ? -1 : heapBefore(hm, b, a) ? 1 : 0));
  }
  for (let g = hm.pThrHead[hm.host]!; g >= 0; g = hm.rThrNext[g]!) out.push(g);
  return out;
}

/** The oldest message (rpc.outInitNs) among the throttled RPCs, given the head `g` (throttle lock held). */
function oldestThrottled(hm: Homa, g: number): number {
  if (hm.throttleHeap) {
    const base = hm.rpcBase;
    const size = Atomics.load(hm.pThrCount, hm.host * LINE);
    for (let i = 1; i < size; i++) {
      const c = hm.pThrHeap[base + i]!;
      if (hm.rOutInitNs[c]! < hm.rOutInitNs[g]!) g = c;
    }
    return g;
  }
  for (let c = hm.rThrNext[g]!; c >= 0; c = hm.rThrNext[c]!) if (hm.rOutInitNs[c]! < hm.rOutInitNs[g]!) g = c;
  return g;
}

/**
 * homa_pacer_xmit: transmits from the throttled list while the NIC estimate is below the limit.
 * Returns packets sent (0 if another core holds the pacer trylock). `help` counts the packets
 * as GRO-side help (pacer_help_packets).
 */
export function pacerXmit(hm: Homa, now: number, help = false): number {
  const h = hm.host;
  if (Atomics.load(hm.pThrCount, h * LINE) === 0) return 0;
  if (!hm.locks.trylock(hm.pacerLock)) return 0;
  let sent = 0;
  for (let pick = 0; pick < PACER_MAX_PICKS; pick++) {
    if (Atomics.load(hm.pThrCount, h * LINE) === 0) break;
    if (nicBacklogNs(hm, now) > hm.maxNicBacklogNs) break;
    hm.locks.lock(hm.throttleLock);
    let g = hm.pThrHead[h]!;
    if (g < 0) { hm.locks.unlock(hm.throttleLock); break; }
    if (hm.pacerFifoFraction > 0) {
      hm.pFifoCount[h] = hm.pFifoCount[h]! - hm.pacerFifoFraction;
      if (hm.pFifoCount[h]! <= 0) {
        hm.pFifoCount[h] = hm.pFifoCount[h]! + 1000;
        g = oldestThrottled(hm, g);
      }
    }
    const lk = hm.rpcLock(g);
    const gen = hm.rGen[g]!;
    hm.locks.unlock(hm.throttleLock);
    hm.locks.lock(lk);
    if (hm.rGen[g] !== gen || (Atomics.load(hm.rFlags, g) & RpcFlag.THROTTLED) === 0) {
      hm.locks.unlock(lk);
      continue;
    }
    const tt = hm.tt;
    if (tt !== null) {
      tt.record(hm.stamp(now), TT_PACER_XMIT, hm.rId[g]!, hm.sPort[hm.rSock[g]!]!, hm.rOutNext[g]!, hm.rOutLen[g]! - hm.rOutNext[g]!);
      tt.record(hm.stamp(now), TT_CTR_THROTTLED, Atomics.load(hm.pThrCount, h * LINE), 0, 0, 0);
      tt.record(hm.stamp(now), TT_CTR_NIC_BACKLOG, Math.min(nicBacklogNs(hm, now), 0x7fffffff), 0, 0, 0);
    }
    const n = xmitData(hm, g, true, now, true);
    const st = hm.rState[g]!;
    const done = st === RpcState.DEAD || hm.rError[g] !== 0 || hm.rOutNext[g]! >= hm.rOutGranted[g]!
      || hm.rOutNext[g]! >= hm.rOutLen[g]!;
    if (done) throttleRemove(hm, g); else if (n > 0) throttleResort(hm, g);
    hm.locks.unlock(lk);
    sent += n;
    if (n === 0 && !done) break; // no packet slot: try again on the next pass
  }
  hm.locks.unlock(hm.pacerLock);
  if (help) hm.count(M.pacer_help_packets, sent);
  return sent;
}

/** The pacer kernel thread (homa_pacer_main): role PACER. */
export class PacerContext implements KernelContext {
  readonly role = Role.PACER;
  readonly name = 'pacer';
  private lastSampleNs = -1;
  constructor(private readonly hm: Homa) {}
  run(now: number, acct: CoreAccount): number {
    void acct;
    this.sample(now);
    const hm = this.hm;
    if (hm.vc.virtual && Atomics.load(hm.pThrCount, hm.host * LINE) > 0) hm.vc.t += hm.vc.costs.pacerPass;
    return pacerXmit(hm, hm.stamp(now), false);
  }

  /**
   * Virtual time: with something throttled, when the NIC backlog estimate falls to the limit
   * (now if it already has); else never (a throttling sender rings this core).
   */
  nextNs(now: number): number {
    const hm = this.hm;
    if (Atomics.load(hm.pThrCount, hm.host * LINE) === 0) return Infinity;
    if (!hm.vc.virtual) return now;
    const over = nicBacklogNs(hm, now) - hm.maxNicBacklogNs;
    const t = over > 0 ? now + over : now;
    // Not before the list became non-empty: a sender ahead of this core in virtual time may
    // have throttled an RPC "in the future" of this core's clock.
    const since = hm.pThrSinceNs[hm.host]!;
    return since > t ? since : t;
  }

  /**
   * Time-weighted statistics of the throttled list (metrics.py's throttle-list length and
   * nic_backlog_cycles: time during which something was throttled), sampled once per pass of the
   * pacer's core, so their resolution is one loop pass. Plain adds to this core's metrics row.
   */
  private sample(now: number): void {
    const hm = this.hm;
    if (this.lastSampleNs >= 0 && now > this.lastSampleNs) {
      const dt = now - this.lastSampleNs;
      const n = Atomics.load(hm.pThrCount, hm.host * LINE);
      const row = hm.metrics;
      const b = hm.mrow;
      row[b + M.throttled_sample_ns]! += dt;
      if (n > 0) {
        row[b + M.throttled_integral]! += n * dt;
        row[b + M.nic_backlog_ns]! += dt;
        if (n > row[b + M.throttled_max]!) row[b + M.throttled_max] = n;
      }
    }
    this.lastSampleNs = now;
  }
  hasWork(): boolean {
    return Atomics.load(this.hm.pThrCount, this.hm.host * LINE) > 0;
  }
}
