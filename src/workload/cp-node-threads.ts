/**
 * cp_node's threads as they run on the cores (the hot path; planned by cp-node-plan.ts, merged
 * by cp-node-collect.ts). A client host has `ports` client ports, each a socket with ONE sender
 * thread and `portReceivers` receiver threads. The sender keeps its own Poisson schedule
 * (`PoissonSchedule`, rate `portRate(gbps, mean, ports)`, gaps added to the scheduled time, lag
 * tracked) and sends when the time gate AND the per-port cap max(1, floor(clientMax/ports)) on
 * outstanding RPCs both allow (it spins on the time gate, as cp_node does, and sleeps at the cap
 * until a completion wakes it); the RTT start stamp is the time of the send, after both gates.
 * Each request goes to a (server host != self, server port) pair drawn uniformly, with a length
 * drawn from the workload, and carries a byte pattern of (client host, RPC id, offset) that the
 * server echoes back, so every response is verified. Receivers take responses off the socket,
 * verify them and record (response length, RTT) per thread into an `RttSamples` ring (cp_node's
 * 500,000 per port) and an hdr histogram; with `portReceivers` 0 the sender waits for each
 * response itself. A server thread loops receive -> `serviceUsecs` of CPU in short slices ->
 * reply (the request's bytes, or min(len, 100) with `oneWay`). The outstanding count of a port is
 * an atomic in shared memory, because a port's threads may run on different cores; the
 * per-thread results are plain data each core returns at stop. With --wakeup-placement other
 * than `stay` receivers and servers have a replica on every core of their host (`WakeSeat`,
 * src/homa/migration.ts); each replica records what it completed while it ran.
 */
import { usToWallNs } from '../config/config.js';
import { AppState, type AppThread } from '../cpu/context.js';
import { WaitState } from '../policy/wait.js';
import { PlacementMode } from '../policy/placement.js';
import {
  LINE, HOMA_ERR_NAMES, type Homa, type PayloadSource, RecvState, WakeSeat, homaRpcDone, homaSendRequest, sockLookup,
  msgInByteAddr, msgInLength, msgOutLength, rpcError, rpcId, rpcStartNs, threadWakeWords, wakeReadyNs, wakeThread,
} from '../homa/syscalls.js';
import { recvOrWait } from './recv-wait.js';
import { CP_NODE_RTTS_PER_PORT, RttSamples } from '../metrics/digest.js';
import { LatencyTally } from '../metrics/tally.js';
import { parseWorkload, type Workload } from './dist.js';
import { ONE_WAY_BYTES, matchesPattern, patternByte } from './app-shared.js';
import { ServerLoop } from './server-loop.js';
import { recvNextNs } from './recv-wait.js';
import { PoissonSchedule, portRate } from './poisson.js';
import { Rng } from '../util/rng.js';
import { CP_SERVER_FIRST_PORT, outstandingIndex, portCap, type CpNodeSpec, type CpThreadPlan } from './cp-node-plan.js';

/** Stream ids mixed into `Rng.derive(seed, host, port, id)` for lengths and destinations. */
const STREAM_LENGTHS = 1;
const STREAM_DESTS = 2;

/** Client port results of one thread (sender or receiver), as a core returns them at stop. */
export interface CpClientThreadData {
  host: number;
  port: number;
  kind: 'sender' | 'receiver';
  sent: number;
  completed: number;
  bytesOut: number;
  bytesIn: number;
  lagNs: number;
  maxLagNs: number;
  mismatches: number;
  /** Errors by HomaErr code (index): aborted RPCs and refused sends together. */
  errors: number[];
  /** Sends refused at once (sendmsg failed, no RPC created): included in `errors`, not in `sent`. */
  refused: number;
  /** Samples oldest first: response length, RTT (emulated ns), completion time (wall ns, for ordering). */
  lengths: Int32Array;
  rttNs: Float64Array;
  doneNs: Float64Array;
  overwritten: number;
  rttHist: string;
}

export interface CpServerThreadData {
  host: number;
  port: number;
  requests: number;
  bytesIn: number;
  bytesOut: number;
}

/** What one core's cp_node threads return at stop. */
export interface CpNodeCoreData {
  clients: CpClientThreadData[];
  servers: CpServerThreadData[];
  /**
   * Per client port with threads on this core: what this core's threads had added to the port's
   * outstanding count (sends minus completions and aborts) before the measured window began on
   * its clock. Summed over cores, the port's outstanding RPCs at the window start.
   */
  ports: Array<{ host: number; port: number; outstandingStart: number }>;
}

/** Response-side results of one thread that completes RPCs (a receiver, or a sender with no receivers). */
class Recorder {
  completed = 0;
  bytesOut = 0;
  bytesIn = 0;
  mismatches = 0;
  readonly errors = new Float64Array(HOMA_ERR_NAMES.length);
  samples = new RttSamples(CP_NODE_RTTS_PER_PORT);
  /** Completion time of each sample (same index as in `samples`). */
  doneNs = new Float64Array(this.samples.lengths.length);
  readonly hist = new LatencyTally();

  record(respLen: number, reqLen: number, rttNs: number, now: number): void {
    const s = this.samples;
    const i = s.count < s.maxSamples ? s.count : s.oldestIndex;
    s.push(respLen, rttNs);
    if (s.lengths.length > this.doneNs.length) {
      const d = new Float64Array(s.lengths.length);
      d.set(this.doneNs);
      this.doneNs = d;
    }
    this.doneNs[i] = now;
    this.hist.record(rttNs);
    this.completed++;
    this.bytesIn += respLen;
    this.bytesOut += reqLen;
  }

  reset(): void {
    this.completed = 0;
    this.bytesOut = 0;
    this.bytesIn = 0;
    this.mismatches = 0;
    this.errors.fill(0);
    this.samples.clear();
    this.hist.reset();
  }

  /** Samples oldest first. */
  fill(d: CpClientThreadData): void {
    const s = this.samples;
    const n = s.count;
    const start = s.oldestIndex;
    d.lengths = new Int32Array(n);
    d.rttNs = new Float64Array(n);
    d.doneNs = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const i = start + k < n ? start + k : start + k - n;
      d.lengths[k] = s.lengths[i]!;
      d.rttNs[k] = s.rttNs[i]!;
      d.doneNs[k] = this.doneNs[i]!;
    }
    d.completed = this.completed;
    d.bytesOut = this.bytesOut;
    d.bytesIn = this.bytesIn;
    d.mismatches = this.mismatches;
    for (let e = 1; e < this.errors.length; e++) d.errors[e] = this.errors[e]!;
    d.overwritten = s.overwritten;
    d.rttHist = this.hist.encode();
  }
}

/** State one client port's threads on this core share (plain; the outstanding count is shared memory). */
class ClientPort {
  readonly cap: number;
  readonly oneWay: boolean;
  /**
   * What this core's threads added to the shared outstanding count since the run began (+1 per
   * send, -1 per completion, abort or refused send), and its value when the measured window
   * began on this core's clock: each change is counted by the core that makes it, in the same
   * unit of work as the sent / completed / error counter it goes with, so the window's balance
   * is exact (see CpNodeCoreApps.reset).
   */
  delta = 0;
  deltaAtStart = 0;
  /** The port number (cp_node's client ports start at CP_CLIENT_FIRST_PORT). */
  readonly portNumber: number;
  /** The sender's thread (its index on this host) and global core. */
  private readonly senderT: number;
  private readonly senderGcore: number;
  constructor(readonly hm: Homa, readonly sockG: number, readonly outstanding: Int32Array, readonly senderWaiting: Int32Array,
    readonly belowCapNs: Float64Array, readonly outIdx: number, sender: CpThreadPlan, spec: CpNodeSpec) {
    this.cap = portCap(spec.clientMax, spec.ports);
    this.oneWay = spec.oneWay;
    this.senderT = hm.threadIndex(sender.t);
    this.senderGcore = hm.host * hm.cores + sender.core;
    this.portNumber = sender.port;
  }

  /**
   * The sender found the port at its cap: it may sleep (true) unless a completion raced with
   * it. cp_node's sender spins here; sleeping until a completion wakes it is equivalent (the RTT
   * stamp is taken after the gate either way) and lets an oversubscribed host park the core.
   */
  sleepAtCap(): boolean {
    Atomics.store(this.senderWaiting, this.outIdx, 1);
    if (Atomics.load(this.outstanding, this.outIdx) >= this.cap) return true;
    Atomics.store(this.senderWaiting, this.outIdx, 0);
    return false;
  }

  /** One RPC of the port is finished: release its place under the cap and wake a sleeping sender. */
  release(): void {
    // The completion that makes room under the cap stamps it, before the count shows the room.
    if (Atomics.load(this.outstanding, this.outIdx) >= this.cap) this.belowCapNs[this.outIdx >> 1] = this.hm.vc.t;
    Atomics.sub(this.outstanding, this.outIdx, 1);
    this.delta--;
    const hm = this.hm;
    if (Atomics.load(this.senderWaiting, this.outIdx) !== 0 && Atomics.exchange(this.senderWaiting, this.outIdx, 0) === 1) {
      wakeThread(hm, this.senderT, this.senderGcore);
    } else if (hm.vc.virtual && hm.doorbells !== null) {
      // A sender spinning at its cap may send again from now on: its core must look.
      hm.doorbells.ring(this.senderGcore);
    }
  }

  /**
   * A response (or error) for client RPC g reached the app: verify, record, end the RPC and
   * release its place under the cap.
   */
  complete(g: number, rec: Recorder, now: number): void {
    const hm = this.hm;
    now = hm.stamp(now);
    const err = rpcError(hm, g);
    if (err !== 0) {
      rec.errors[err]! += 1;
    } else {
      const reqLen = msgOutLength(hm, g);
      const respLen = msgInLength(hm, g);
      if (this.verify(g, reqLen, respLen)) rec.record(respLen, reqLen, (now - rpcStartNs(hm, g)) / hm.cfg.dilation, now);
      else rec.mismatches++;
    }
    homaRpcDone(hm, g, now);
    this.release();
  }

  /** The response must be as long as the server sends (echo, or min(len, 100)) and equal the request's pattern. */
  private verify(g: number, reqLen: number, respLen: number): boolean {
    const hm = this.hm;
    const expect = this.oneWay ? Math.min(reqLen, ONE_WAY_BYTES) : reqLen;
    return respLen === expect && matchesPattern(hm, g, respLen);
  }
}

const S_SEND = 0;
const S_WAIT = 1;

/** cp_node's per-port sender thread (and, with portReceivers 0, its own receiver). */
export class CpNodeSender implements AppThread, PayloadSource {
  readonly name: string;
  state: number = AppState.RUNNABLE;
  readonly wakeWords: Int32Array;
  readonly wakeIndex: number;
  readonly schedule: PoissonSchedule;
  /** Requests sent in the measured window. */
  sent = 0;
  /** Errors at send time by HomaErr code. */
  readonly sendErrors = new Float64Array(HOMA_ERR_NAMES.length);
  /** Largest lag in the measured window (wall ns). */
  maxLagNs = 0;
  /** Set when the sender waits for its own responses (portReceivers 0). */
  readonly recorder: Recorder | null;
  private phase = S_SEND;
  private started = false;
  private readonly rngLen: Rng;
  private readonly rngDst: Rng;
  readonly rs: RecvState;
  readonly wait: WaitState;

  constructor(private readonly port: ClientPort, private readonly workload: Workload, private readonly dstHosts: Int32Array,
    private readonly dstPorts: Int32Array, readonly plan: CpThreadPlan, spec: CpNodeSpec) {
    const hm = port.hm;
    this.name = `cp-sender.${plan.host}.${plan.port}`;
    const tg = hm.threadIndex(plan.t);
    this.wakeWords = threadWakeWords(hm);
    this.wakeIndex = tg * LINE;
    // Rates are per emulated second; the clock is wall ns, so a dilated run spaces sends D times wider.
    const rate = portRate(spec.gbps, workload.meanBytes, spec.ports) / hm.cfg.dilation;
    this.schedule = new PoissonSchedule(rate, Rng.derive(spec.seed, plan.host, plan.port), 0);
    this.rngLen = Rng.derive(spec.seed, plan.host, plan.port, STREAM_LENGTHS);
    this.rngDst = Rng.derive(spec.seed, plan.host, plan.port, STREAM_DESTS);
    this.rs = new RecvState(port.sockG, tg, hm.core);
    this.wait = new WaitState(hm.cfg.waitMode, hm.pollNs);
    this.recorder = spec.portReceivers === 0 ? new Recorder() : null;
  }

  /** Outstanding RPCs of this port now. */
  get outstanding(): number {
    return Atomics.load(this.port.outstanding, this.port.outIdx);
  }

  fill(dst: Uint8Array, dstOff: number, msgOff: number, n: number, g: number): void {
    const host = this.port.hm.host;
    const id = rpcId(this.port.hm, g);
    for (let i = 0; i < n; i++) dst[dstOff + i] = patternByte(host, id, msgOff + i);
  }

  step(now: number, sliceNs: number): number {
    void sliceNs;
    const port = this.port;
    const hm = port.hm;
    if (this.phase === S_WAIT) {
      const r = recvOrWait(hm, this, now);
      if (r < 0) return 0;
      port.complete(r, this.recorder!, now);
      this.phase = S_SEND;
      return 1;
    }
    const sched = this.schedule;
    if (!this.started) {
      // next_start begins when the thread starts.
      this.started = true;
      sched.nextStartNs = now;
    }
    if (!sched.due(now)) return 0; // the time gate: gaps are microseconds, so spin as cp_node does
    if (Atomics.load(port.outstanding, port.outIdx) >= port.cap) {
      if (port.sleepAtCap()) this.state = AppState.BLOCKED;
      return 0;
    }
    const d = this.dstHosts.length === 1 ? 0 : this.rngDst.nextBelow(this.dstHosts.length);
    const len = this.workload.sample(this.rngLen);
    // Take the place under the cap before sending, so a fast response cannot make the count negative.
    Atomics.add(port.outstanding, port.outIdx, 1);
    port.delta++;
    const g = homaSendRequest(hm, port.sockG, this.dstHosts[d]!, this.dstPorts[d]!, len, this, now);
    sched.started(now);
    if (sched.lagNs > this.maxLagNs) this.maxLagNs = sched.lagNs;
    if (g < 0) {
      port.release();
      this.sendErrors[-g]! += 1;
      return 1;
    }
    this.sent++;
    if (this.recorder !== null) {
      this.phase = S_WAIT;
      this.wait.start(now);
    }
    return 1;
  }

  /** Virtual time: the next Poisson send (or the response it waits for; never while at its cap). */
  nextNs(now: number): number {
    const st = this.state;
    if (st === AppState.BLOCKED) return wakeReadyNs(this.port.hm, this.wakeIndex / LINE, now);
    if (st !== AppState.RUNNABLE) return Infinity;
    if (this.phase === S_WAIT) return recvNextNs(this.port.hm, this, now);
    if (!this.started) return now;
    const port = this.port;
    if (Atomics.load(port.outstanding, port.outIdx) >= port.cap) return Infinity;
    // Not before the completion that last made room under the cap (it may be ahead of this core).
    const room = port.belowCapNs[port.outIdx >> 1]!;
    const t = this.schedule.nextStartNs;
    const u = t > now ? t : now;
    return room > u ? room : u;
  }

  reset(): void {
    this.sent = 0;
    this.sendErrors.fill(0);
    this.maxLagNs = 0;
    this.recorder?.reset();
  }

  data(): CpClientThreadData {
    const D = this.port.hm.cfg.dilation;
    const d = emptyClientData(this.plan, 'sender');
    if (this.recorder !== null) this.recorder.fill(d);
    d.sent = this.sent;
    d.lagNs = this.schedule.lagNs / D;
    d.maxLagNs = this.maxLagNs / D;
    for (let e = 1; e < this.sendErrors.length; e++) { d.errors[e]! += this.sendErrors[e]!; d.refused += this.sendErrors[e]!; }
    return d;
  }
}

function emptyClientData(plan: CpThreadPlan, kind: 'sender' | 'receiver'): CpClientThreadData {
  return {
    host: plan.host, port: plan.port, kind, sent: 0, completed: 0, bytesOut: 0, bytesIn: 0, lagNs: 0, maxLagNs: 0, mismatches: 0, refused: 0,
    errors: new Array<number>(HOMA_ERR_NAMES.length).fill(0), lengths: new Int32Array(0), rttNs: new Float64Array(0),
    doneNs: new Float64Array(0), overwritten: 0, rttHist: '',
  };
}

/** One of a client port's response-receiving threads (a replica on every core of its host when it may migrate). */
export class CpNodeReceiver implements AppThread {
  readonly name: string;
  readonly wakeWords: Int32Array;
  readonly wakeIndex: number;
  readonly recorder = new Recorder();
  readonly rs: RecvState;
  readonly wait: WaitState;
  private waiting = false;
  private st: number;

  /** `seat`: this core's seat when the thread may migrate on wake-up (null: it lives on plan.core only). */
  constructor(private readonly port: ClientPort, readonly plan: CpThreadPlan, readonly seat: WakeSeat | null = null) {
    const hm = port.hm;
    this.name = `cp-receiver.${plan.host}.${plan.port}.${plan.t}`;
    const tg = hm.threadIndex(plan.t);
    this.wakeWords = threadWakeWords(hm);
    this.wakeIndex = tg * LINE;
    this.rs = new RecvState(port.sockG, tg, hm.core);
    this.wait = new WaitState(hm.cfg.waitMode, hm.pollNs);
    this.st = seat === null || plan.core === hm.core ? AppState.RUNNABLE : AppState.BLOCKED;
  }

  get state(): number { return this.seat === null ? this.st : this.seat.view(this.st); }
  set state(v: number) { this.st = this.seat === null ? v : this.seat.change(this.st, v, this.wait); }

  step(now: number, sliceNs: number): number {
    void sliceNs;
    const hm = this.port.hm;
    if (this.seat !== null && this.seat.resumed) { this.seat.resume(this.wait); this.waiting = true; }
    if (!this.waiting) { this.wait.start(now); this.waiting = true; }
    const r = recvOrWait(hm, this, now);
    if (r < 0) return 0;
    this.waiting = false;
    this.port.complete(r, this.recorder, now);
    return 1;
  }

  nextNs(now: number): number {
    return recvNextNs(this.port.hm, this, now);
  }

  reset(): void {
    this.recorder.reset();
  }

  data(): CpClientThreadData {
    const d = emptyClientData(this.plan, 'receiver');
    this.recorder.fill(d);
    return d;
  }
}


/** One cp_node server thread: receive -> service -> reply, on its port. */
export class CpNodeServer extends ServerLoop {
  readonly name: string;
  requests = 0;
  bytesIn = 0;
  bytesOut = 0;
  /** Replies Homa refused (counted, never silent). */
  replyErrors = 0;
  private readonly oneWay: boolean;

  /** `seat`: this core's seat when the thread may migrate on wake-up (null: it lives on plan.core only). */
  constructor(hm: Homa, readonly plan: CpThreadPlan, spec: CpNodeSpec, seat: WakeSeat | null = null) {
    super(hm, plan.port, plan.t, usToWallNs(hm.cfg, spec.serviceUsecs), seat, plan.core === hm.core, 'cp_node server');
    this.name = `cp-server.${plan.host}.${plan.port}.${plan.t}`;
    this.oneWay = spec.oneWay;
  }

  /** The response is a prefix of the request (its cp_node header and pattern). */
  fill(dst: Uint8Array, dstOff: number, msgOff: number, n: number, g: number): void {
    const src = msgInByteAddr(this.hm, g, msgOff);
    dst.copyWithin(dstOff, src, src + n);
  }

  protected responseLength(req: number): number {
    return this.oneWay ? Math.min(req, ONE_WAY_BYTES) : req;
  }

  protected replied(req: number, len: number, err: number): void {
    if (err !== 0) {
      this.replyErrors++;
      return;
    }
    this.requests++;
    this.bytesIn += req;
    this.bytesOut += len;
  }

  reset(): void {
    this.requests = 0;
    this.bytesIn = 0;
    this.bytesOut = 0;
    this.replyErrors = 0;
  }

  data(): CpServerThreadData {
    return { host: this.plan.host, port: this.plan.port, requests: this.requests, bytesIn: this.bytesIn, bytesOut: this.bytesOut };
  }
}

/** The cp_node threads of one core. */
export class CpNodeCoreApps {
  readonly senders: CpNodeSender[] = [];
  readonly receivers: CpNodeReceiver[] = [];
  readonly servers: CpNodeServer[] = [];
  private readonly ports: ClientPort[] = [];

  /**
   * Builds the threads `plan` puts on (hm.host, hm.core) — and, when threads may migrate on
   * wake-up (--wakeup-placement not `stay`), a replica of every receiver and server of the host
   * (each replica reads as ELSEWHERE while another core runs its thread). `outstanding` is the
   * `cp.outstanding` column.
   */
  constructor(hm: Homa, spec: CpNodeSpec | undefined, plan: readonly CpThreadPlan[], outstanding: Int32Array, senderWaiting: Int32Array,
    belowCapNs: Float64Array) {
    const migrate = hm.placement.mode !== PlacementMode.STAY;
    const mine = plan.filter((a) => a.host === hm.host && (a.core === hm.core || (migrate && a.kind !== 'sender')));
    if (spec === undefined || mine.length === 0) return;
    const workload = parseWorkload(spec.workload);
    const dstH: number[] = [];
    const dstP: number[] = [];
    for (const s of spec.serverHosts) {
      if (s === hm.host) continue;
      for (let j = 0; j < spec.serverPorts; j++) { dstH.push(s); dstP.push(CP_SERVER_FIRST_PORT + j); }
    }
    const ports = new Map<number, ClientPort>();
    const portOf = (a: CpThreadPlan): ClientPort => {
      let p = ports.get(a.port);
      if (p === undefined) {
        const sockG = sockLookup(hm, a.port);
        if (sockG < 0) throw new Error(`cp_node client: port ${a.port} is not bound on host ${hm.host}`);
        const sender = plan.find((x) => x.kind === 'sender' && x.host === hm.host && x.portIndex === a.portIndex)!;
        p = new ClientPort(hm, sockG, outstanding, senderWaiting, belowCapNs, outstandingIndex(hm.host, a.portIndex), sender, spec);
        ports.set(a.port, p);
        this.ports.push(p);
      }
      return p;
    };
    for (const a of mine) {
      if (a.kind === 'sender') this.senders.push(new CpNodeSender(portOf(a), workload, Int32Array.from(dstH), Int32Array.from(dstP), a, spec));
      else if (a.kind === 'receiver') this.receivers.push(new CpNodeReceiver(portOf(a), a, migrate ? new WakeSeat(hm, hm.threadIndex(a.t)) : null));
      else this.servers.push(new CpNodeServer(hm, a, spec, migrate ? new WakeSeat(hm, hm.threadIndex(a.t)) : null));
    }
  }

  get apps(): AppThread[] {
    return [...this.senders, ...this.receivers, ...this.servers];
  }

  /**
   * The measured window starts (virtual time: this core's clock reached the warm-up instant, the
   * same emulated instant on every core): forget every counter and sample, and remember what
   * this core had added to each port's outstanding count so far (the window-start outstanding).
   */
  reset(): void {
    for (const p of this.ports) p.deltaAtStart = p.delta;
    for (const s of this.senders) s.reset();
    for (const r of this.receivers) r.reset();
    for (const s of this.servers) s.reset();
  }

  data(): CpNodeCoreData {
    return {
      clients: [...this.senders.map((s) => s.data()), ...this.receivers.map((r) => r.data())],
      servers: this.servers.map((s) => s.data()),
      ports: this.ports.map((p) => ({ host: p.hm.host, port: p.portNumber, outstandingStart: p.deltaAtStart })),
    };
  }
}
