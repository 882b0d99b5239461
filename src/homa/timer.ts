/**
 * The timer (homa_timer.c): a kernel thread (`TimerContext`, role TIMER, on the host's last core)
 * that ticks every tick_usecs x dilation. Each tick (homa_timer) bumps the host's timer_ticks and
 * visits every live RPC of its host under the RPC's lock: an IN_SERVICE RPC only has its
 * `silent_ticks` reset; any other gets silent_ticks + 1 (DATA/GRANT/BUSY reset it) and
 * `timerCheckRpc` (homa_timer_check_rpc): a server whose response is fully handed to the NIC
 * notes the tick, and sends NEED_ACK on every tick from request_ack_ticks later until the client
 * acknowledges; a receiver that has every granted byte, a server that is not receiving, and a
 * sender with granted bytes still to transmit are not waiting for the peer (silent_ticks back
 * to 0); otherwise, from resend_ticks, every resend_interval ticks it asks for retransmission
 * (homa_request_retrans: a RESEND per gap and for [recv_end, granted), or RESEND 0, -1 when
 * nothing of the message arrived yet — a server still working answers BUSY, one that lost the
 * RPC answers RPC_UNKNOWN and the client retransmits), all at priority num_priorities - 1; at
 * timeout_ticks a client RPC is aborted with ETIMEDOUT (a server RPC, which only gets there
 * while receiving its request, is ended). A tick also serves needy grants left over by ended
 * RPCs (emulator addition).
 */
import { TT_TIMER_START } from '../metrics/timetrace.js';
import type { CoreAccount, KernelContext } from '../cpu/context.js';
import { Role } from '../cpu/context.js';
import { PktType } from '../wire/packet.js';
import { LINE } from './layout.js';
import { HomaErr, RpcFlag, RpcState, type Homa } from './homa.js';
import { M } from './metrics.js';
import { xmitControl } from './outgoing.js';
import { rpcEnd } from './rpc.js';
import { requestRetrans, rpcAbort } from './incoming.js';
import { checkNeedy } from './grant.js';

/** homa_rpc_tx_end: the end of the part of RPC g's outgoing message handed to the NIC (0 if none). */
function txEnd(hm: Homa, g: number): number {
  const len = hm.rOutLen[g]!;
  if (len < 0) return 0;
  const next = hm.rOutNext[g]!;
  return next < len ? next : len;
}

/**
 * homa_timer_check_rpc for RPC g (its lock `lk` held; still held on return, the slot may be
 * free). The caller (the tick) has already counted this tick in rpc.silent.
 */
export function timerCheckRpc(hm: Homa, g: number, lk: number, now: number): void {
  const st = hm.rState[g]!;
  const isClient = (hm.rId[g]! & 1) === 0;
  // Ours: an aborted RPC, or a client whose response the app has, only waits for its app.
  if (hm.rError[g] !== 0) return;
  if (isClient && (Atomics.load(hm.rFlags, g) & RpcFlag.DELIVERED) !== 0) return;
  const outLen = hm.rOutLen[g]!;
  const tx = txEnd(hm, g);
  if (!isClient && st === RpcState.OUTGOING && outLen >= 0 && tx === outLen) {
    const d = hm.rDoneTicks[g]!;
    if (d === 0) {
      hm.rDoneTicks[g] = hm.timerTicks;
    } else if (((d + hm.cfg.requestAckTicks - 1 - hm.timerTicks) & (1 << 31)) !== 0) {
      xmitControl(hm, PktType.NEED_ACK, hm.rPeer[g]!, hm.sPort[hm.rSock[g]!]!, hm.rDport[g]!, hm.rId[g]!, now);
    }
  }
  if (st === RpcState.INCOMING) {
    // Everything granted arrived: nothing to expect until we grant more. (A message that found
    // no buffer pages was dropped here, so the kernel's num_bpages == 0 case does not arise.)
    if (hm.rInLen[g]! >= 0 && hm.rInLen[g]! - hm.rInRemaining[g]! >= hm.rInGranted[g]!) {
      hm.rSilent[g] = 0;
      return;
    }
  } else if (!isClient) {
    // A server that has its request: no retries to worry about.
    hm.rSilent[g] = 0;
    return;
  }
  if (st === RpcState.OUTGOING && (outLen < 0 || tx < hm.rOutGranted[g]!)) {
    hm.rSilent[g] = 0; // granted bytes not yet transmitted: the ball is in our court
    return;
  }
  const silent = hm.rSilent[g]!;
  const resendTicks = hm.cfg.resendTicks;
  if (silent < resendTicks) return;
  if (silent >= hm.cfg.timeoutTicks) {
    hm.count(M.rpc_timeouts);
    if (isClient) {
      hm.count(M.aborts_etimedout);
      rpcAbort(hm, g, lk, HomaErr.ETIMEDOUT, now);
    } else {
      rpcEnd(hm, g, lk);
    }
    return;
  }
  if ((silent - resendTicks) % hm.cfg.resendInterval === 0) requestRetrans(hm, g, now);
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
    hm.timerTicks = (hm.timerTicks + 1) | 0;
    if (hm.tt !== null) hm.tt.record(hm.stamp(now), TT_TIMER_START, hm.timerTicks, 0, 0, 0);
    let visited = 1;
    const end = hm.rpcBase + hm.rpcsPerHost;
    for (let g = hm.rpcBase; g < end; g++) {
      const st = hm.rState[g]!;
      if (st === RpcState.FREE || st === RpcState.DEAD) continue;
      const gen = hm.rGen[g]!;
      const lk = hm.rpcLock(g);
      hm.locks.lock(lk);
      if (hm.vc.virtual) hm.vc.t += hm.vc.costs.timerRpc;
      if (hm.rGen[g] === gen) {
        if (hm.rState[g] === RpcState.IN_SERVICE) {
          hm.rSilent[g] = 0;
        } else {
          hm.rSilent[g] = hm.rSilent[g]! + 1;
          timerCheckRpc(hm, g, lk, now);
        }
      }
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
