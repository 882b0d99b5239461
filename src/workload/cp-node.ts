/**
 * cp_node's client and server, as app threads of the Homa world (HomaModule util/cp_node.cc,
 * as summarised in cp-node-workloads.md (b) and (c)). A client host has `ports` client ports,
 * each a socket with ONE sender thread and `portReceivers` receiver threads. The sender keeps its
 * own Poisson schedule (`PoissonSchedule`, rate `portRate(gbps, mean, ports)`, gaps added to the
 * scheduled time, lag tracked) and sends when the time gate AND the per-port cap
 * max(1, floor(clientMax/ports)) on outstanding RPCs both allow (it spins on the time gate, as
 * cp_node does, and sleeps at the cap until a completion wakes it, so an oversubscribed host can
 * park the core); the RTT start stamp is the time of the send, after both gates. Each request
 * goes to a (server host != self, server port) pair drawn uniformly, with a length drawn from
 * the workload, and carries a byte pattern of (client host, RPC id, offset) that the server
 * echoes back, so every response is verified. Receivers
 * take responses off the socket, verify them and record (response length, RTT) per thread into
 * an `RttSamples` ring (cp_node's 500,000 per port) and an hdr histogram; with `portReceivers` 0
 * the sender waits for each response itself (closed loop, one in flight). A server host has
 * `serverPorts` ports x `portThreads` threads looping receive -> `serviceUsecs` x dilation of
 * CPU in short slices -> reply (the request's bytes, or min(len, 100) with `oneWay`). Times are
 * wall ns inside; everything reported is emulated (divided by dilation). The outstanding count
 * of a port is an atomic in shared memory (`cp.outstanding`), because a port's threads may run
 * on different cores; the per-thread results are plain data each core returns at stop, merged
 * per port by `collectCpNode` (the newest 500,000 samples of a port by completion time).
 * Wake-up migration (--wakeup-placement): receivers and servers sleep in recvmsg, so with a
 * placement other than `stay` each core of a host builds a replica of every one of them
 * (`WakeSeat`); only the replica of the core that owns the thread runs it, and each replica
 * records what it completed while it ran, so the per-port merge adds them up exactly once.
 */
import type { EmuConfig } from '../config/config.js';
import { UserError } from '../config/errors.js';
import { AppState, type AppThread } from '../cpu/context.js';
import { WaitPhase, WaitState } from '../policy/wait.js';
import { PlacementMode } from '../policy/placement.js';
import { LayoutBuilder, type LayoutDesc } from '../shm/layout.js';
import { BPAGE_BYTES, HOMA_MAX_SOCKETS, HOMA_MAX_THREADS, LINE } from '../homa/layout.js';
import { HOMA_ERR_NAMES, type Homa, type PayloadSource } from '../homa/homa.js';
import { msgByteAddr } from '../homa/pool.js';
import { RecvState, homaReply, homaRpcDone, homaSendRequest } from '../homa/plumbing.js';
import { sockLookup } from '../homa/sock.js';
import { recvOrWait } from './recv-wait.js';
import { CP_NODE_RTTS_PER_PORT, RttSamples } from '../metrics/digest.js';
import { encodeHistogram, mergeEncoded, newHistogram, recordNs, type Histogram } from '../metrics/histo.js';
import { parseWorkload, type Workload } from './dist.js';
import { ONE_WAY_BYTES, burnServiceSlice, patternByte, type HomaAppsSpec } from './echo.js';
import { recvNextNs } from './recv-wait.js';
import { PoissonSchedule, portRate } from './poisson.js';
import { Rng } from './rng.js';

/** cp_node's first Homa server port (--first-port). */
export const CP_SERVER_FIRST_PORT = 4000;
/** Client ports are bound from here (cp_node's client sockets get ephemeral ports). */
export const CP_CLIENT_FIRST_PORT = 32768;
/** Stream ids mixed into `Rng.derive(seed, host, port, id)` for lengths and destinations. */
const STREAM_LENGTHS = 1;
const STREAM_DESTS = 2;

/** What the cp_node apps of a run do (from the config by `cpNodeSpec`; tests build their own). */
export interface CpNodeSpec {
  workload: string;
  /** Request payload each client host offers, Gbps (0 = closed loop at the cap). */
  gbps: number;
  clientMax: number;
  ports: number;
  portReceivers: number;
  serverPorts: number;
  portThreads: number;
  oneWay: boolean;
  serviceUsecs: number;
  clientHosts: readonly number[];
  serverHosts: readonly number[];
  seed: number;
}

/** Apps of a Homa world: echo apps (possibly none) plus, optionally, cp_node. */
export interface CpNodeAppsSpec extends HomaAppsSpec {
  cpNode?: CpNodeSpec;
}

/**
 * cp_node as cperf runs it, from the config: `roles: both` (cp_vs_tcp) makes every host a client
 * and a server; `split` makes the first floor(hosts/2) hosts clients of the rest; `incast` makes
 * every host but the last a client of the last one (many senders into one server).
 */
export function cpNodeSpec(cfg: EmuConfig): CpNodeSpec {
  const all = Array.from({ length: cfg.hosts }, (_, h) => h);
  const split = cfg.roles === 'split' || cfg.roles === 'incast';
  const firstServer = cfg.roles === 'incast' ? cfg.hosts - 1 : split ? Math.floor(cfg.hosts / 2) : 0;
  return {
    workload: cfg.workload, gbps: cfg.gbps, clientMax: cfg.clientMax, ports: cfg.ports, portReceivers: cfg.portReceivers,
    serverPorts: cfg.serverPorts, portThreads: cfg.portThreads, oneWay: cfg.oneWay, serviceUsecs: cfg.serviceUsecs,
    clientHosts: split ? all.slice(0, firstServer) : all, serverHosts: split ? all.slice(firstServer) : all, seed: cfg.seed,
  };
}

/** The apps of the registered 'homa' world: cp_node from the config, no echo apps. */
export function cpNodeAppsSpec(cfg: EmuConfig): CpNodeAppsSpec {
  return { clients: [], servers: [], cpNode: cpNodeSpec(cfg) };
}

/** Per-port outstanding-RPC cap: max(1, floor(clientMax / ports)). */
export function portCap(clientMax: number, ports: number): number {
  return Math.max(1, Math.floor(clientMax / ports));
}

/** One placed cp_node thread. */
export interface CpThreadPlan {
  kind: 'sender' | 'receiver' | 'server';
  host: number;
  core: number;
  /** Bound port number. */
  port: number;
  /** Client port index (0..ports-1) or server port index (0..serverPorts-1). */
  portIndex: number;
  /** Thread index within its host (0..HOMA_MAX_THREADS-1). */
  t: number;
}

/**
 * Places every cp_node thread (deterministic: the same in every worker). Per host, after the
 * `threadsUsed[host]` threads and `portsUsed[host]` ports other apps already take: the senders,
 * then the receivers (round by round over the ports), then the server threads, with core =
 * thread index mod cores. Refuses what does not fit the world's limits with coded errors.
 */
export function planCpNode(cfg: EmuConfig, spec: CpNodeSpec, threadsUsed: readonly number[] = [],
  portsUsed: ReadonlyArray<ReadonlySet<number>> = []): CpThreadPlan[] {
  checkCpNodeSpec(cfg, spec);
  const out: CpThreadPlan[] = [];
  const clients = new Set(spec.clientHosts);
  const servers = new Set(spec.serverHosts);
  for (let h = 0; h < cfg.hosts; h++) {
    const isClient = clients.has(h);
    const isServer = servers.has(h);
    if (!isClient && !isServer) continue;
    const used = portsUsed[h] ?? new Set<number>();
    const sockets = used.size + (isClient ? spec.ports : 0) + (isServer ? spec.serverPorts : 0);
    if (sockets > HOMA_MAX_SOCKETS) {
      throw new UserError('ESIZING', `--ports / --server-ports: host ${h} would bind ${sockets} ports`
        + `${used.size > 0 ? ` (${used.size} taken by other apps)` : ''}; accepted: at most ${HOMA_MAX_SOCKETS} per host; `
        + `got --ports ${spec.ports}, --server-ports ${spec.serverPorts}`);
    }
    const base = threadsUsed[h] ?? 0;
    const threads = base + (isClient ? spec.ports * (1 + spec.portReceivers) : 0) + (isServer ? spec.serverPorts * spec.portThreads : 0);
    if (threads > HOMA_MAX_THREADS) {
      throw new UserError('ESIZING', `--ports x (1 + --port-receivers) + --server-ports x --port-threads: host ${h} needs ${threads} app threads`
        + `${base > 0 ? ` (${base} taken by other apps)` : ''}; accepted: at most ${HOMA_MAX_THREADS} per host; got --ports ${spec.ports}, `
        + `--port-receivers ${spec.portReceivers}, --server-ports ${spec.serverPorts}, --port-threads ${spec.portThreads}`);
    }
    let t = base;
    const add = (kind: CpThreadPlan['kind'], port: number, portIndex: number): void => {
      if (used.has(port)) {
        throw new UserError('EINVALIDOPT', `cp_node: port ${port} on host ${h} is already bound by another app; accepted: ports not used by echo apps`);
      }
      out.push({ kind, host: h, core: t % cfg.cores, port, portIndex, t });
      t++;
    };
    if (isClient) {
      for (let i = 0; i < spec.ports; i++) add('sender', CP_CLIENT_FIRST_PORT + i, i);
      for (let r = 0; r < spec.portReceivers; r++) for (let i = 0; i < spec.ports; i++) add('receiver', CP_CLIENT_FIRST_PORT + i, i);
    }
    if (isServer) {
      for (let r = 0; r < spec.portThreads; r++) for (let j = 0; j < spec.serverPorts; j++) add('server', CP_SERVER_FIRST_PORT + j, j);
    }
  }
  return out;
}

function checkCpNodeSpec(cfg: EmuConfig, spec: CpNodeSpec): void {
  parseWorkload(spec.workload);
  const hostList = (what: string, hosts: readonly number[]): void => {
    for (const h of hosts) {
      if (!Number.isInteger(h) || h < 0 || h >= cfg.hosts) {
        throw new UserError('EINVALIDOPT', `cp_node: ${what} hosts must be in [0, ${cfg.hosts - 1}]; got ${h}`);
      }
    }
  };
  hostList('client', spec.clientHosts);
  hostList('server', spec.serverHosts);
  for (const h of spec.clientHosts) {
    if (!spec.serverHosts.some((s) => s !== h)) {
      throw new UserError('EINVALIDOPT', `--hosts / --roles: cp_node client host ${h} has no server host other than itself to send to; `
        + `accepted: at least 2 hosts; got --hosts ${cfg.hosts}, --roles ${cfg.roles}`);
    }
  }
  const whole = (flag: string, v: number, min: number): void => {
    if (!Number.isInteger(v) || v < min) throw new UserError('EINVALIDOPT', `--${flag}: expected a whole number >= ${min}, got ${v}`);
  };
  whole('ports', spec.ports, 1);
  whole('port-receivers', spec.portReceivers, 0);
  whole('server-ports', spec.serverPorts, 1);
  whole('port-threads', spec.portThreads, 1);
  whole('client-max', spec.clientMax, 1);
  if (!(spec.gbps >= 0) || !Number.isFinite(spec.gbps)) throw new UserError('EINVALIDOPT', `--gbps: expected a number >= 0, got ${spec.gbps}`);
}

/**
 * Shared columns of the cp_node apps, one cache line per (host, client port): `outstanding`
 * (RPCs sent and not yet completed) and `senderWaiting` (1 while the port's sender sleeps at
 * the cap; the thread that completes an RPC clears it and wakes the sender).
 */
export function cpNodeLayout(cfg: EmuConfig): LayoutDesc {
  const n = cfg.hosts * HOMA_MAX_SOCKETS * LINE;
  return new LayoutBuilder().add('outstanding', 'i32', n).add('senderWaiting', 'i32', n).build();
}

/** Index of (host, client port index) in `cp.outstanding`. */
export function outstandingIndex(host: number, portIndex: number): number {
  return (host * HOMA_MAX_SOCKETS + portIndex) * LINE;
}

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
  readonly hist: Histogram = newHistogram();

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
    recordNs(this.hist, rttNs);
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
    d.rttHist = encodeHistogram(this.hist);
  }
}

/** Ends a wait and adds it to Homa's wait_none/fast/block, poll_ns and blocked_ns counters. */

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
  /** The sender's wake word (index in hm.tWake) and global core (for the doorbell). */
  private readonly senderWake: number;
  private readonly senderGcore: number;
  /** The port number (cp_node's client ports start at CP_CLIENT_FIRST_PORT). */
  readonly portNumber: number;
  constructor(readonly hm: Homa, readonly sockG: number, readonly outstanding: Int32Array, readonly senderWaiting: Int32Array,
    readonly outIdx: number, sender: CpThreadPlan, spec: CpNodeSpec) {
    this.cap = portCap(spec.clientMax, spec.ports);
    this.oneWay = spec.oneWay;
    this.senderWake = hm.threadIndex(sender.t) * LINE;
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
    Atomics.sub(this.outstanding, this.outIdx, 1);
    this.delta--;
    const hm = this.hm;
    if (Atomics.load(this.senderWaiting, this.outIdx) !== 0 && Atomics.exchange(this.senderWaiting, this.outIdx, 0) === 1) {
      Atomics.store(hm.tWake, this.senderWake, 1);
      if (hm.doorbells !== null) hm.doorbells.ring(this.senderGcore);
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
    const err = hm.rError[g]!;
    if (err !== 0) {
      rec.errors[err]! += 1;
    } else {
      const reqLen = hm.rOutLen[g]!;
      const respLen = hm.rInLen[g]!;
      if (this.verify(g, reqLen, respLen)) rec.record(respLen, reqLen, (now - hm.rStartNs[g]!) / hm.cfg.dilation, now);
      else rec.mismatches++;
    }
    homaRpcDone(hm, g, now);
    this.release();
  }

  /** The response must be as long as the server sends (echo, or min(len, 100)) and equal the request's pattern. */
  private verify(g: number, reqLen: number, respLen: number): boolean {
    const hm = this.hm;
    const expect = this.oneWay ? Math.min(reqLen, ONE_WAY_BYTES) : reqLen;
    if (respLen !== expect) return false;
    const host = hm.host;
    const id = hm.rId[g]!;
    const u8 = hm.u8;
    for (let off = 0; off < respLen; off += BPAGE_BYTES) {
      const n = respLen - off < BPAGE_BYTES ? respLen - off : BPAGE_BYTES;
      const base = msgByteAddr(hm, hm.rInPages, g, off);
      for (let i = 0; i < n; i++) if (u8[base + i] !== patternByte(host, id, off + i)) return false;
    }
    return true;
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
    this.wakeWords = hm.tWake;
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
    const id = this.port.hm.rId[g]!;
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
    if (st === AppState.BLOCKED) return Atomics.load(this.wakeWords, this.wakeIndex) !== 0 ? now : Infinity;
    if (st !== AppState.RUNNABLE) return Infinity;
    if (this.phase === S_WAIT) return recvNextNs(this.port.hm, this, now);
    if (!this.started) return now;
    if (Atomics.load(this.port.outstanding, this.port.outIdx) >= this.port.cap) return Infinity;
    const t = this.schedule.nextStartNs;
    return t > now ? t : now;
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
    this.wakeWords = hm.tWake;
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

/**
 * One core's seat for its replica of a thread that may wake on another core (--wakeup-placement
 * other than `stay`; src/homa/interest.ts moves it). A JS object cannot move between worker
 * threads, so every core of the host holds a replica and the thread's identity moves: the
 * replica on core `thr.owner[t]` runs it, the others read as ELSEWHERE. Going to sleep, the
 * running replica stores when it slept (`thr.sleptNs`) and then `thr.parked = 1`, which lets a
 * hand-off claim the sleeping thread and move it. Waking, a replica whose core is no longer
 * the owner passes the wake word on to the owner (it consumed a wake addressed there); the
 * owner clears `parked` and, at its next step, continues the wait as a blocked one that began
 * when the thread went to sleep (wherever that was), with fresh local wait state otherwise:
 * the thread only moves while asleep in recvmsg, so there is no per-message state to carry, and
 * `homaRecv` finds the handed-off RPC in `thr.rpc`.
 */
export class WakeSeat {
  /** Set by a wake on this core; the next step continues the wait (`resume`). */
  resumed = false;

  constructor(private readonly hm: Homa, readonly t: number) {}

  /** The state the core loop sees: the replica's own, or ELSEWHERE while another core runs the thread. */
  view(st: number): number {
    return Atomics.load(this.hm.tOwner, this.t) === this.hm.core ? st : AppState.ELSEWHERE;
  }

  /** The replica's local state after `from` -> `to` (`wait` is the replica's wait state). */
  change(from: number, to: number, wait: WaitState): number {
    const hm = this.hm;
    const t = this.t;
    if (to === AppState.BLOCKED) {
      if (from !== AppState.BLOCKED) {
        hm.tSleptNs[t] = wait.blockStartNs;
        Atomics.store(hm.tParked, t, 1);
      }
      return to;
    }
    if (from === AppState.BLOCKED && to === AppState.RUNNABLE) {
      const owner = Atomics.load(hm.tOwner, t);
      if (owner !== hm.core) {
        // The hand-off moved the thread after this core looked at the owner: the wake is the new owner's.
        Atomics.store(hm.tWake, t * LINE, 1);
        if (hm.doorbells !== null) hm.doorbells.ring(hm.host * hm.cores + owner);
        return AppState.BLOCKED;
      }
      Atomics.store(hm.tParked, t, 0);
      this.resumed = true;
    }
    return to;
  }

  /** First step after a wake: the wait is a blocked one since the thread went to sleep. */
  resume(wait: WaitState): void {
    this.resumed = false;
    const slept = this.hm.tSleptNs[this.t]!;
    if (wait.phase !== WaitPhase.BLOCKED) {
      wait.phase = WaitPhase.BLOCKED;
      wait.startNs = slept;
      wait.iterations = 1;
    }
    wait.blockStartNs = slept;
  }
}

const V_RECV = 0;
const V_SERVICE = 1;
const V_REPLY = 2;

/** One cp_node server thread: receive -> service -> reply, on its port. */
export class CpNodeServer implements AppThread, PayloadSource {
  readonly name: string;
  readonly wakeWords: Int32Array;
  readonly wakeIndex: number;
  requests = 0;
  bytesIn = 0;
  bytesOut = 0;
  /** Replies Homa refused (counted, never silent). */
  replyErrors = 0;
  private phase = V_RECV;
  private g = -1;
  private serviceUntil = 0;
  private readonly serviceNs: number;
  readonly rs: RecvState;
  readonly wait: WaitState;
  private waiting = false;
  private readonly oneWay: boolean;
  private st: number;

  /** `seat`: this core's seat when the thread may migrate on wake-up (null: it lives on plan.core only). */
  constructor(private readonly hm: Homa, readonly plan: CpThreadPlan, spec: CpNodeSpec, readonly seat: WakeSeat | null = null) {
    this.name = `cp-server.${plan.host}.${plan.port}.${plan.t}`;
    const sockG = sockLookup(hm, plan.port);
    if (sockG < 0) throw new Error(`cp_node server: port ${plan.port} is not bound on host ${hm.host}`);
    const tg = hm.threadIndex(plan.t);
    this.wakeWords = hm.tWake;
    this.wakeIndex = tg * LINE;
    this.rs = new RecvState(sockG, tg, hm.core);
    this.wait = new WaitState(hm.cfg.waitMode, hm.pollNs);
    this.serviceNs = spec.serviceUsecs * 1000 * hm.cfg.dilation;
    this.oneWay = spec.oneWay;
    this.st = seat === null || plan.core === hm.core ? AppState.RUNNABLE : AppState.BLOCKED;
  }

  get state(): number { return this.seat === null ? this.st : this.seat.view(this.st); }
  set state(v: number) { this.st = this.seat === null ? v : this.seat.change(this.st, v, this.wait); }

  /** The response is a prefix of the request (its cp_node header and pattern). */
  fill(dst: Uint8Array, dstOff: number, msgOff: number, n: number, g: number): void {
    const src = msgByteAddr(this.hm, this.hm.rInPages, g, msgOff);
    dst.copyWithin(dstOff, src, src + n);
  }

  step(now: number, sliceNs: number): number {
    const hm = this.hm;
    if (this.phase === V_RECV) {
      if (this.seat !== null && this.seat.resumed) { this.seat.resume(this.wait); this.waiting = true; }
      if (!this.waiting) { this.wait.start(now); this.waiting = true; }
      const r = recvOrWait(hm, this, now);
      if (r < 0) return 0;
      this.waiting = false;
      if (hm.rError[r] !== 0) return 1;
      this.g = r;
      this.serviceUntil = hm.stamp(now) + this.serviceNs;
      this.phase = this.serviceNs > 0 ? V_SERVICE : V_REPLY;
      return 1;
    }
    if (this.phase === V_SERVICE) {
      if (now < this.serviceUntil) {
        burnServiceSlice(hm, now, this.serviceUntil, sliceNs);
        return 1;
      }
      this.phase = V_REPLY;
    }
    const g = this.g;
    const req = hm.rInLen[g]!;
    const len = this.oneWay ? Math.min(req, ONE_WAY_BYTES) : req;
    this.g = -1;
    this.phase = V_RECV;
    if (homaReply(hm, g, len, this, now) !== 0) {
      this.replyErrors++;
      return 1;
    }
    this.requests++;
    this.bytesIn += req;
    this.bytesOut += len;
    return 1;
  }

  /** Virtual time: waiting in recvmsg, or due now (service and reply). */
  nextNs(now: number): number {
    return this.phase === V_RECV ? recvNextNs(this.hm, this, now) : now;
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
  constructor(hm: Homa, spec: CpNodeSpec | undefined, plan: readonly CpThreadPlan[], outstanding: Int32Array, senderWaiting: Int32Array) {
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
        p = new ClientPort(hm, sockG, outstanding, senderWaiting, outstandingIndex(hm.host, a.portIndex), sender, spec);
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

/** One client port in the merged results (emulated ns). */
export interface CpClientPortResult {
  host: number;
  port: number;
  sent: number;
  completed: number;
  bytesOut: number;
  bytesIn: number;
  lagNs: number;
  maxLagNs: number;
  /** RPCs sent and not yet completed or aborted at the end of the run (the shared count). */
  outstanding: number;
  /**
   * ... at the start of the measured window (virtual time: at the warm-up instant of the emulated
   * clock; wall time: each core's part when it noticed the measure phase). The window's
   * sent - completed - mismatches - aborted equals outstanding - outstandingStart exactly.
   */
  outstandingStart: number;
  mismatches: number;
  errors: Record<string, number>;
  /** Sends refused at once (counted in `errors`, not in `sent`). */
  refused: number;
  overwritten: number;
}

export interface CpServerPortResult {
  host: number;
  port: number;
  requests: number;
  bytesIn: number;
  bytesOut: number;
}

/** What the Homa world's collect returns as `cpNode` (times in emulated ns). */
export interface CpNodeResult {
  workload: { name: string; meanBytes: number };
  clients: CpClientPortResult[];
  servers: CpServerPortResult[];
  /** Every port's newest (up to 500,000) samples, oldest first per port: response length, RTT and the client's host. */
  rtts: { lengths: number[]; rttNs: number[]; hosts: number[] };
  /** All RTTs of the window merged (encoded hdr histogram). */
  rttHist: string;
  /** Per global core (encoded hdr histograms, '' if none). */
  handoff: { groToSoftirq: string[]; softirqToApp: string[] };
}

/**
 * Main thread: merges the per-thread data of every core per (host, port). A port keeps its
 * newest CP_NODE_RTTS_PER_PORT samples by completion time, like cp_node's ring (the rest count
 * as overwritten). `outstanding` is the shared column, read after every worker stopped.
 */
export function collectCpNode(spec: CpNodeSpec | undefined, cores: ReadonlyArray<CpNodeCoreData | undefined>,
  outstanding: Int32Array | null, handoff: CpNodeResult['handoff'], workloadName: string): CpNodeResult {
  let meanBytes = 0;
  try { meanBytes = parseWorkload(spec?.workload ?? workloadName).meanBytes; } catch { meanBytes = 0; }
  const clientMap = new Map<string, { res: CpClientPortResult; parts: CpClientThreadData[] }>();
  const serverMap = new Map<string, CpServerPortResult>();
  const hists: string[] = [];
  for (const c of cores) {
    if (c === undefined) continue;
    for (const t of c.clients) {
      const key = `${t.host}:${t.port}`;
      let e = clientMap.get(key);
      if (e === undefined) {
        e = { res: { host: t.host, port: t.port, sent: 0, completed: 0, bytesOut: 0, bytesIn: 0, lagNs: 0, maxLagNs: 0,
          outstanding: 0, outstandingStart: 0, mismatches: 0, errors: {}, refused: 0, overwritten: 0 }, parts: [] };
        clientMap.set(key, e);
      }
      const r = e.res;
      r.sent += t.sent;
      r.completed += t.completed;
      r.bytesOut += t.bytesOut;
      r.bytesIn += t.bytesIn;
      r.mismatches += t.mismatches;
      r.refused += t.refused;
      r.overwritten += t.overwritten;
      if (t.kind === 'sender') { r.lagNs = t.lagNs; r.maxLagNs = t.maxLagNs; }
      for (let k = 1; k < t.errors.length; k++) {
        if (t.errors[k]! > 0) { const name = HOMA_ERR_NAMES[k]!; r.errors[name] = (r.errors[name] ?? 0) + t.errors[k]!; }
      }
      if (t.rttHist !== '') hists.push(t.rttHist);
      e.parts.push(t);
    }
    for (const p of c.ports ?? []) {
      const e = clientMap.get(`${p.host}:${p.port}`);
      if (e !== undefined) e.res.outstandingStart += p.outstandingStart;
    }
    for (const s of c.servers) {
      const key = `${s.host}:${s.port}`;
      const r = serverMap.get(key) ?? { host: s.host, port: s.port, requests: 0, bytesIn: 0, bytesOut: 0 };
      r.requests += s.requests;
      r.bytesIn += s.bytesIn;
      r.bytesOut += s.bytesOut;
      serverMap.set(key, r);
    }
  }
  const byHostPort = (a: { host: number; port: number }, b: { host: number; port: number }): number => a.host - b.host || a.port - b.port;
  const clients = [...clientMap.values()].sort((a, b) => byHostPort(a.res, b.res));
  const lengths: number[] = [];
  const rttNs: number[] = [];
  const hosts: number[] = [];
  for (const { res, parts } of clients) {
    if (outstanding !== null) res.outstanding = Atomics.load(outstanding, outstandingIndex(res.host, res.port - CP_CLIENT_FIRST_PORT));
    const withSamples = parts.filter((p) => p.lengths.length > 0);
    if (withSamples.length === 1) {
      // One thread recorded the port (already oldest first, at most one ring's worth).
      const p = withSamples[0]!;
      for (let i = 0; i < p.lengths.length; i++) { lengths.push(p.lengths[i]!); rttNs.push(p.rttNs[i]!); hosts.push(res.host); }
      continue;
    }
    // Several threads: every sample of the port in completion order; keep the newest CP_NODE_RTTS_PER_PORT.
    const idx: Array<[number, number, number]> = [];
    for (const p of withSamples) for (let i = 0; i < p.lengths.length; i++) idx.push([p.doneNs[i]!, p.lengths[i]!, p.rttNs[i]!]);
    idx.sort((a, b) => a[0] - b[0]);
    const drop = Math.max(0, idx.length - CP_NODE_RTTS_PER_PORT);
    res.overwritten += drop;
    for (let i = drop; i < idx.length; i++) { lengths.push(idx[i]![1]); rttNs.push(idx[i]![2]); hosts.push(res.host); }
  }
  return {
    workload: { name: spec?.workload ?? workloadName, meanBytes },
    clients: clients.map((c) => c.res),
    servers: [...serverMap.values()].sort(byHostPort),
    rtts: { lengths, rttNs, hosts },
    rttHist: hists.length > 0 ? encodeHistogram(mergeEncoded(hists)) : '',
    handoff,
  };
}
