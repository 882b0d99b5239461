/**
 * The timer (homa_timer.c): a kernel thread (`TimerContext`, role TIMER, on the host's last core)
 * that ticks every tick_usecs x dilation. Each tick it visits every live RPC of its host under
 * the RPC's lock: `silent_ticks` grows unless DATA/GRANT/BUSY arrived; at resend_ticks, and
 * every resend_interval ticks after, a receiver sends a RESEND for each gap and for
 * [recv_end, granted), and a client whose request is sent asks for its response (RESEND 0, -1:
 * a server that is still working answers BUSY, one that lost the RPC answers RPC_UNKNOWN and the
 * client retransmits); at timeout_ticks the RPC is aborted (the client's app sees ETIMEDOUT, a
 * server RPC is ended); a server whose response is fully sent sends NEED_ACK every
 * request_ack_ticks until the client acknowledges. Emulator choice: when everything granted has
 * arrived but the message is not complete, the receiver re-sends its last GRANT instead of
 * nothing (a lost GRANT would otherwise stall the RPC until the timeout); and a tick also
 * serves needy grants left over by ended RPCs.
 */
import type { CoreAccount, KernelContext } from '../cpu/context.js';
import { Role } from '../cpu/context.js';
import { H, HEADER_WORDS, PktType } from '../wire/packet.js';
import { HOMA_MAX_GAPS, LINE } from './layout.js';
import { HomaErr, RpcFlag, RpcState, type Homa } from './homa.js';
import { M } from './metrics.js';
import { allocControl, sendControl, xmitControl } from './outgoing.js';
import { rpcEnd } from './rpc.js';
import { rpcAbort } from './incoming.js';
import { checkNeedy } from './grant.js';

const HW = HEADER_WORDS;

function sendResend(hm: Homa, g: number, offset: number, length: number, now: number): void {
  const slot = allocControl(hm, PktType.RESEND, hm.rPeer[g]!, hm.sPort[hm.rSock[g]!]!, hm.rDport[g]!, hm.rId[g]!);
  if (slot < 0) return;
  const b = slot * HW;
  hm.pktHdr[b + H.OFFSET] = offset;
  hm.pktHdr[b + H.INCOMING_OR_LENGTH] = length;
  hm.pktHdr[b + H.FLAGS_OR_PRIO] = hm.rInPrio[g]!;
  sendControl(hm, slot, now);
}

function resendDue(hm: Homa, silent: number): boolean {
  const r = hm.cfg.resendTicks;
  return silent >= r && (silent - r) % hm.cfg.resendInterval === 0;
}

/** homa_timer_check_rpc for RPC g (its lock `lk` held; still held on return, the slot may be free). */
export function timerCheckRpc(hm: Homa, g: number, lk: number, now: number): void {
  const st = hm.rState[g]!;
  const isClient = (hm.rId[g]! & 1) === 0;
  if (st === RpcState.IN_SERVICE || hm.rError[g] !== 0) return;
  if (isClient && (Atomics.load(hm.rFlags, g) & RpcFlag.DELIVERED) !== 0) return;
  const timeout = hm.cfg.timeoutTicks;
  if (st === RpcState.OUTGOING) {
    if (hm.rOutLen[g]! < 0 || hm.rOutNext[g]! < hm.rOutGranted[g]!) return; // filling, or ours to send
    const silent = hm.rSilent[g]! + 1;
    hm.rSilent[g] = silent;
    if (silent >= timeout) {
      hm.count(M.rpc_timeouts);
      if (isClient) { hm.count(M.aborts_etimedout); rpcAbort(hm, g, lk, HomaErr.ETIMEDOUT, now); } else rpcEnd(hm, g, lk);
      return;
    }
    if (!isClient) {
      if (hm.rOutNext[g]! >= hm.rOutLen[g]!) {
        const d = hm.rDoneTicks[g]! + 1;
        hm.rDoneTicks[g] = d;
        if (d >= hm.cfg.requestAckTicks) {
          hm.rDoneTicks[g] = 0;
          xmitControl(hm, PktType.NEED_ACK, hm.rPeer[g]!, hm.sPort[hm.rSock[g]!]!, hm.rDport[g]!, hm.rId[g]!, now);
        }
      }
      return;
    }
    if (resendDue(hm, silent)) sendResend(hm, g, 0, -1, now);
    return;
  }
  if (st !== RpcState.INCOMING) return;
  if (hm.rInLen[g]! >= 0 && hm.rInRemaining[g] === 0) return;
  const silent = hm.rSilent[g]! + 1;
  hm.rSilent[g] = silent;
  if (silent >= timeout) {
    hm.count(M.rpc_timeouts);
    if (isClient) { hm.count(M.aborts_etimedout); rpcAbort(hm, g, lk, HomaErr.ETIMEDOUT, now); } else rpcEnd(hm, g, lk);
    return;
  }
  if (!resendDue(hm, silent)) return;
  if (hm.rInLen[g]! < 0) {
    sendResend(hm, g, 0, -1, now);
    return;
  }
  const ng = hm.rInNumGaps[g]!;
  const recvEnd = hm.rInRecvEnd[g]!;
  const granted = hm.rInGranted[g]!;
  if (ng === 0 && recvEnd >= granted) {
    if (granted > hm.rInUnsched[g]!) {
      const slot = allocControl(hm, PktType.GRANT, hm.rPeer[g]!, hm.sPort[hm.rSock[g]!]!, hm.rDport[g]!, hm.rId[g]!);
      if (slot >= 0) {
        hm.pktHdr[slot * HW + H.OFFSET] = granted;
        hm.pktHdr[slot * HW + H.FLAGS_OR_PRIO] = hm.rInPrio[g]!;
        sendControl(hm, slot, now);
      }
    }
    return;
  }
  const gb = g * HOMA_MAX_GAPS;
  for (let i = 0; i < ng; i++) {
    sendResend(hm, g, hm.rGapStart[gb + i]!, hm.rGapEnd[gb + i]! - hm.rGapStart[gb + i]!, now);
  }
  if (recvEnd < granted) sendResend(hm, g, recvEnd, granted - recvEnd, now);
}

export class TimerContext implements KernelContext {
  readonly role = Role.TIMER;
  readonly name = 'timer';
  private nextTickNs = -1;
  /** Ticks run so far. */
  ticks = 0;
  constructor(private readonly hm: Homa) {}

  run(now: number, acct: CoreAccount): number {
    void acct;
    if (this.nextTickNs < 0) { this.nextTickNs = now + this.hm.tickNs; return 0; }
    if (now < this.nextTickNs) return 0;
    this.nextTickNs = now + this.hm.tickNs;
    return this.tick(now);
  }

  /** One pass over the host's RPCs; returns RPCs visited + 1. */
  tick(now: number): number {
    const hm = this.hm;
    this.ticks++;
    let visited = 1;
    const end = hm.rpcBase + hm.rpcsPerHost;
    for (let g = hm.rpcBase; g < end; g++) {
      const st = hm.rState[g]!;
      if (st === RpcState.FREE || st === RpcState.DEAD || st === RpcState.IN_SERVICE) continue;
      const gen = hm.rGen[g]!;
      const lk = hm.rpcLock(g);
      hm.locks.lock(lk);
      if (hm.vc.virtual) hm.vc.t += hm.vc.costs.timerRpc;
      if (hm.rGen[g] === gen) timerCheckRpc(hm, g, lk, now);
      hm.locks.unlock(lk);
      visited++;
    }
    if (Atomics.load(hm.gNeedy, hm.host * LINE) !== 0) checkNeedy(hm, now);
    return visited;
  }

  hasWork(): boolean {
    return false;
  }

  /** Virtual time: the next tick (the first pass only arms it). */
  nextNs(now: number): number {
    return this.nextTickNs < 0 ? now : this.nextTickNs;
  }
}
