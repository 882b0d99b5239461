/**
 * The old pacer (homa_pacer.c, §3.2): RPCs whose transmission the NIC backlog estimate refused
 * wait on the host's throttled list, sorted by bytes left to transmit (SRPT), under the global
 * throttle lock; insertion is the kernel's linear scan from the front (`throttleInsert: 'back'`
 * scans from the tail instead; 'heap' is refused at setup). The pacer kernel thread
 * (`PacerContext`, role PACER, on the host's last core unless --pacer-core says otherwise) runs under the pacer trylock so only one
 * instance transmits: while the list is non-empty and the estimate is below the limit it picks
 * the head (or, every 1000/pacer_fifo_fraction picks, the oldest message) and calls xmitData
 * with force=true, so each pick sends at least one packet even if other threads filled the NIC
 * queue. The `pacer` option: 'nic-short' (default, the kernel's fix) lets any thread transmit
 * while the estimate is short; 'pacer-only' makes every other thread throttle long messages
 * as soon as anything is throttled. GRO calls `pacerXmit` as a helper when the backlog is below
 * half the limit (homa_pacer_check).
 */
import type { CoreAccount, KernelContext } from '../cpu/context.js';
import { Role } from '../cpu/context.js';
import { LINE } from './layout.js';
import { RpcFlag, RpcState, type Homa } from './homa.js';
import { M } from './metrics.js';
import { nicBacklogNs, xmitData } from './outgoing.js';

/** Picks per pacer pass (each sends at least one packet); bounds one run() call. */
export const PACER_MAX_PICKS = 16;

function bytesLeft(hm: Homa, g: number): number {
  return hm.rOutLen[g]! - hm.rOutNext[g]!;
}

/** The core of each host that runs the pacer thread (--pacer-core; default the last one). */
export function pacerCore(hm: Homa): number {
  return hm.layout.pacerCore;
}

/** homa_add_to_throttled: puts RPC g on the throttled list in SRPT order (RPC lock held). */
export function throttleAdd(hm: Homa, g: number): void {
  if ((Atomics.load(hm.rFlags, g) & RpcFlag.THROTTLED) !== 0) return;
  const h = hm.host;
  hm.locks.lock(hm.throttleLock);
  const left = bytesLeft(hm, g);
  let checks = 0;
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
  Atomics.or(hm.rFlags, g, RpcFlag.THROTTLED);
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
    const prev = hm.rThrPrev[g]!;
    const next = hm.rThrNext[g]!;
    if (prev < 0) hm.pThrHead[h] = next; else hm.rThrNext[prev] = next;
    if (next < 0) hm.pThrTail[h] = prev; else hm.rThrPrev[next] = prev;
    hm.rThrPrev[g] = -1;
    hm.rThrNext[g] = -1;
    Atomics.and(hm.rFlags, g, ~RpcFlag.THROTTLED);
    Atomics.sub(hm.pThrCount, h * LINE, 1);
  }
  hm.locks.unlock(hm.throttleLock);
}

/** RPCs on the throttled list (a snapshot). */
export function throttledCount(hm: Homa): number {
  return Atomics.load(hm.pThrCount, hm.host * LINE);
}

/** The throttled list in order (tests and diagnostics; allocates). */
export function throttledList(hm: Homa): number[] {
  const out: number[] = [];
  for (let g = hm.pThrHead[hm.host]!; g >= 0; g = hm.rThrNext[g]!) out.push(g);
  return out;
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
        for (let c = hm.rThrNext[g]!; c >= 0; c = hm.rThrNext[c]!) if (hm.rOutInitNs[c]! < hm.rOutInitNs[g]!) g = c;
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
    const n = xmitData(hm, g, true, now, true);
    const st = hm.rState[g]!;
    const done = st === RpcState.DEAD || hm.rError[g] !== 0 || hm.rOutNext[g]! >= hm.rOutGranted[g]!
      || hm.rOutNext[g]! >= hm.rOutLen[g]!;
    if (done) throttleRemove(hm, g);
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
  constructor(private readonly hm: Homa) {}
  run(now: number, acct: CoreAccount): number {
    void acct;
    return pacerXmit(this.hm, now, false);
  }
  hasWork(): boolean {
    return Atomics.load(this.hm.pThrCount, this.hm.host * LINE) > 0;
  }
}
