/**
 * The one server thread of the workload layer: receive a request (recvmsg, polling then
 * blocking as --wait-mode says), burn the service time in slices, reply; again. Echo's server
 * and cp_node's server are this loop with their own response (its length and bytes) and their
 * own bookkeeping of what they served; a cp_node server that may wake on another core
 * (--wakeup-placement) runs through its core's `WakeSeat` replica (src/homa/migration.ts).
 */
import { AppState, type AppThread } from '../cpu/context.js';
import { WaitState } from '../policy/wait.js';
import {
  LINE, RecvState, homaReply, sockLookup, type Homa, type PayloadSource, type WakeSeat, msgInLength, rpcError,
  threadWakeWords,
} from '../homa/syscalls.js';
import { burnServiceSlice } from './app-shared.js';
import { recvNextNs, recvOrWait } from './recv-wait.js';

const RECV = 0;
const SERVICE = 1;
const REPLY = 2;

export abstract class ServerLoop implements AppThread, PayloadSource {
  abstract readonly name: string;
  readonly wakeWords: Int32Array;
  readonly wakeIndex: number;
  readonly rs: RecvState;
  readonly wait: WaitState;
  private phase = RECV;
  private g = -1;
  private serviceUntil = 0;
  private waiting = false;
  private st: number;

  /**
   * Thread `t` of its host, serving `port`, `serviceNs` of CPU per request (wall ns of the
   * runtime clock: emulated x dilation). `seat`: this core's seat when the thread may migrate on
   * wake-up (null: it lives on this core); `home`: whether this core runs it first.
   */
  constructor(protected readonly hm: Homa, port: number, t: number, private readonly serviceNs: number,
    readonly seat: WakeSeat | null, home: boolean, what: string) {
    const sockG = sockLookup(hm, port);
    if (sockG < 0) throw new Error(`${what}: port ${port} is not bound on host ${hm.host}`);
    const tg = hm.threadIndex(t);
    this.wakeWords = threadWakeWords(hm);
    this.wakeIndex = tg * LINE;
    this.rs = new RecvState(sockG, tg, hm.core);
    this.wait = new WaitState(hm.cfg.waitMode, hm.pollNs);
    this.st = seat === null || home ? AppState.RUNNABLE : AppState.BLOCKED;
  }

  get state(): number { return this.seat === null ? this.st : this.seat.view(this.st); }
  set state(v: number) { this.st = this.seat === null ? v : this.seat.change(this.st, v, this.wait); }

  /** The bytes of the response to request `g` (PayloadSource). */
  abstract fill(dst: Uint8Array, dstOff: number, msgOff: number, n: number, g: number): void;
  /** Bytes of the response to a request of `reqLen` bytes. */
  protected abstract responseLength(reqLen: number): number;
  /** The reply of `len` bytes to a `reqLen`-byte request went out (`err` 0) or Homa refused it (`err` < 0). */
  protected abstract replied(reqLen: number, len: number, err: number): void;

  step(now: number, sliceNs: number): number {
    const hm = this.hm;
    if (this.phase === RECV) {
      if (this.seat !== null && this.seat.resumed) { this.seat.resume(this.wait); this.waiting = true; }
      if (!this.waiting) { this.wait.start(now); this.waiting = true; }
      const r = recvOrWait(hm, this, now);
      if (r < 0) return 0;
      this.waiting = false;
      if (rpcError(hm, r) !== 0) return 1;
      this.g = r;
      this.serviceUntil = hm.stamp(now) + this.serviceNs;
      this.phase = this.serviceNs > 0 ? SERVICE : REPLY;
      return 1;
    }
    if (this.phase === SERVICE) {
      if (now < this.serviceUntil) {
        burnServiceSlice(hm, now, this.serviceUntil, sliceNs);
        return 1;
      }
      this.phase = REPLY;
    }
    const g = this.g;
    const req = msgInLength(hm, g);
    const len = this.responseLength(req);
    this.g = -1;
    this.phase = RECV;
    this.replied(req, len, homaReply(hm, g, len, this, now));
    return 1;
  }

  /** Virtual time: waiting in recvmsg, or due now (service and reply). */
  nextNs(now: number): number {
    return this.phase === RECV ? recvNextNs(this.hm, this, now) : now;
  }
}
