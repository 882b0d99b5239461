/**
 * Echo client and server app threads for the Homa world (cooperative `AppThread` state
 * machines). The client sends requests of the given lengths, one at a time, filled with a
 * pattern derived from (client host, RPC id, offset); it waits for each response — polling for
 * poll_usecs, then blocking on its wake word (the `waitMode` knob: poll-then-block, poll, block)
 * — verifies it byte for byte against the same pattern and records the RTT. The server receives
 * any request on its port, spends `serviceUsecs` x dilation of CPU in short slices (so NAPI and
 * SoftIRQ on its core preempt it), then replies with the request's bytes (and the pattern
 * beyond them when the response is longer; the loop is src/workload/server-loop.ts, shared with
 * cp_node). Errors (no listener: ENOTCONN; too long: EMSGSIZE; timeout: ETIMEDOUT; no memory:
 * ENOMEM) are results the client records, never hangs. `planApps`
 * turns a `HomaAppsSpec` into placed threads the same way in every worker.
 */
import { usToWallNs, type EmuConfig } from '../config/config.js';
import { UserError } from '../config/errors.js';
import { AppState, type AppThread } from '../cpu/context.js';
import { WaitState } from '../policy/wait.js';
import {
  HOMA_MAX_MESSAGE_LENGTH, HOMA_MAX_SOCKETS, HOMA_MAX_THREADS, LINE, AppResult, APP_RESULT_FIELDS, HOMA_ERR_NAMES,
  type Homa, type PayloadSource, RecvState, homaRpcDone, homaSendRequest, sockLookup, msgInByteAddr, msgInLength,
  rpcError, rpcId, rpcPeer, rpcStartNs, threadWakeWords,
} from '../homa/syscalls.js';
import { recvNextNs, recvOrWait } from './recv-wait.js';
import { ONE_WAY_BYTES, matchesPattern, patternByte } from './app-shared.js';
import { ServerLoop } from './server-loop.js';

/** One echo client thread: sends `lengths` (in order; again and again if `loop`) to (dstHost, dstPort). */
export interface EchoClientSpec {
  host: number;
  /** Host core it runs on (default: spread over the host's cores). */
  core?: number;
  port: number;
  dstHost: number;
  dstPort: number;
  lengths: number[];
  loop?: boolean;
}

/** One echo server port with `threads` threads. */
export interface EchoServerSpec {
  host: number;
  core?: number;
  port: number;
  threads?: number;
  /** Response length (default: the request's). */
  responseLength?: number;
  /** cp_node's --one-way: reply with min(request length, 100) bytes (ignored with responseLength). */
  oneWay?: boolean;
  /** CPU time per request (default: cfg.serviceUsecs). */
  serviceUsecs?: number;
}

/** How the echo apps of a Homa world run (the lead replaces this with cp_node workloads). */
export interface HomaAppsSpec {
  clients: EchoClientSpec[];
  servers: EchoServerSpec[];
}

/** One placed app thread. */
export interface PlannedApp {
  kind: 'client' | 'server';
  host: number;
  core: number;
  port: number;
  /** Thread index within its host (0..HOMA_MAX_THREADS-1). */
  t: number;
  client?: EchoClientSpec;
  server?: EchoServerSpec;
}

/** Places every thread of `spec` (deterministic: the same in every worker). */
export function planApps(cfg: EmuConfig, spec: HomaAppsSpec): PlannedApp[] {
  const out: PlannedApp[] = [];
  const next = new Array<number>(cfg.hosts).fill(0);
  const ports = new Array<Set<number>>(cfg.hosts);
  for (let h = 0; h < cfg.hosts; h++) ports[h] = new Set();
  const check = (host: number, core: number | undefined, what: string): void => {
    if (!Number.isInteger(host) || host < 0 || host >= cfg.hosts) {
      throw new UserError('EINVALIDOPT', `homa apps: ${what} host must be in [0, ${cfg.hosts - 1}], got ${host}`);
    }
    if (core !== undefined && (!Number.isInteger(core) || core < 0 || core >= cfg.cores)) {
      throw new UserError('EINVALIDOPT', `homa apps: ${what} core must be in [0, ${cfg.cores - 1}], got ${core}`);
    }
  };
  const add = (kind: 'client' | 'server', host: number, core: number | undefined, port: number,
    c?: EchoClientSpec, s?: EchoServerSpec): void => {
    const t = next[host]!;
    if (t >= HOMA_MAX_THREADS) {
      throw new UserError('ESIZING', `homa apps: host ${host} has more than ${HOMA_MAX_THREADS} app threads (the limit)`);
    }
    next[host] = t + 1;
    ports[host]!.add(port);
    if (ports[host]!.size > HOMA_MAX_SOCKETS) {
      throw new UserError('ESIZING', `homa apps: host ${host} binds more than ${HOMA_MAX_SOCKETS} ports (the limit)`);
    }
    out.push({ kind, host, core: core ?? t % cfg.cores, port, t, client: c, server: s });
  };
  for (const s of spec.servers) {
    check(s.host, s.core, 'server');
    for (let i = 0; i < (s.threads ?? 1); i++) add('server', s.host, s.core, s.port, undefined, s);
  }
  for (const c of spec.clients) {
    check(c.host, c.core, 'client');
    check(c.dstHost, undefined, 'client destination');
    add('client', c.host, c.core, c.port, c, undefined);
  }
  return out;
}

/**
 * The default echo setup for a world run (until cp_node workloads replace it): closed-loop
 * clients (`ports` per client host) sending `workload` bytes when it is a fixed length, else a
 * 100 B .. 100 KB mix; servers with `serverPorts` x `portThreads` threads, honouring
 * `oneWay`. `roles: both`: every host serves and sends to the next host; `split`: the first half
 * of the hosts are clients spreading their ports over the servers (the second half); `incast`:
 * every host but the last is a client of the last.
 */
export function defaultAppsSpec(cfg: EmuConfig): HomaAppsSpec {
  const fixed = Number(cfg.workload);
  const lengths = Number.isInteger(fixed) && fixed >= 1 && fixed <= HOMA_MAX_MESSAGE_LENGTH ? [fixed] : [100, 1000, 10000, 100000];
  const servers: EchoServerSpec[] = [];
  const clients: EchoClientSpec[] = [];
  const split = (cfg.roles === 'split' || cfg.roles === 'incast') && cfg.hosts >= 2;
  const firstServer = !split ? 0 : cfg.roles === 'incast' ? cfg.hosts - 1 : Math.floor(cfg.hosts / 2);
  const numServers = cfg.hosts - firstServer;
  for (let h = firstServer; h < cfg.hosts; h++) {
    for (let p = 0; p < cfg.serverPorts; p++) servers.push({ host: h, port: 1000 + p, threads: cfg.portThreads, oneWay: cfg.oneWay });
  }
  const lastClient = split ? firstServer : cfg.hosts;
  for (let h = 0; h < lastClient; h++) {
    for (let i = 0; i < cfg.ports; i++) {
      const dstHost = split ? firstServer + ((h * cfg.ports + i) % numServers) : (h + 1) % cfg.hosts;
      clients.push({ host: h, port: 40000 + i, dstHost, dstPort: 1000 + (i % cfg.serverPorts), lengths, loop: true });
    }
  }
  return { clients, servers };
}

/** One RPC's outcome as a client saw it (kept when the client records results). */
export interface EchoResult {
  length: number;
  ok: boolean;
  error?: string;
  message?: string;
  rttNs?: number;
}

function errorMessage(code: string, len: number): string {
  switch (code) {
    case 'EMSGSIZE': return `message length ${len} exceeds HOMA_MAX_MESSAGE_LENGTH (${HOMA_MAX_MESSAGE_LENGTH} bytes)`;
    case 'EINVAL': return `message length ${len} is not a whole number >= 1`;
    case 'ENOTCONN': return 'no socket listens on the destination port';
    case 'ETIMEDOUT': return 'the peer did not answer within timeout_ticks';
    case 'ENOMEM': return 'no RPC slot or buffer pages left (max-rpcs-per-host / bpages-per-host)';
    default: return code;
  }
}

const C_SEND = 0;
const C_WAIT = 1;

export class EchoClient implements AppThread, PayloadSource {
  readonly name: string;
  state: number = AppState.RUNNABLE;
  readonly wakeWords: Int32Array;
  readonly wakeIndex: number;
  /** Outcomes in order (when `record`). */
  readonly results: EchoResult[] = [];
  private phase = C_SEND;
  private idx = 0;
  private g = -1;
  private len = 0;
  readonly rs: RecvState;
  readonly wait: WaitState;
  private readonly row: number;

  constructor(private readonly hm: Homa, private readonly spec: EchoClientSpec, t: number, readonly record = true) {
    this.name = `echo-client.${spec.host}.${t}`;
    const sockG = sockLookup(hm, spec.port);
    if (sockG < 0) throw new Error(`echo client: port ${spec.port} is not bound on host ${hm.host}`);
    const tg = hm.threadIndex(t);
    this.wakeWords = threadWakeWords(hm);
    this.wakeIndex = tg * LINE;
    this.rs = new RecvState(sockG, tg, hm.core);
    this.wait = new WaitState(hm.cfg.waitMode, hm.pollNs);
    this.row = hm.gcore * APP_RESULT_FIELDS;
  }

  fill(dst: Uint8Array, dstOff: number, msgOff: number, n: number, g: number): void {
    const host = this.hm.host;
    const id = rpcId(this.hm, g);
    for (let i = 0; i < n; i++) dst[dstOff + i] = patternByte(host, id, msgOff + i);
  }

  step(now: number, sliceNs: number): number {
    void sliceNs;
    const hm = this.hm;
    if (this.phase === C_SEND) {
      if (this.idx >= this.spec.lengths.length) {
        if (this.spec.loop === true && this.spec.lengths.length > 0) this.idx = 0;
        else {
          this.state = AppState.DONE;
          if (this.onDone !== null) this.onDone();
          return 0;
        }
      }
      const len = this.spec.lengths[this.idx]!;
      const g = homaSendRequest(hm, this.rs.sockG, this.spec.dstHost, this.spec.dstPort, len, this, now);
      if (g < 0) {
        this.fail(HOMA_ERR_NAMES[-g] ?? 'EINVAL', len);
        this.idx++;
        return 1;
      }
      this.g = g;
      this.len = len;
      this.phase = C_WAIT;
      this.wait.start(now);
      return 1;
    }
    const r = recvOrWait(hm, this, now);
    if (r < 0) return 0;
    this.finish(r, hm.stamp(now));
    return 1;
  }

  /** Virtual time: sending is due now; waiting follows recvmsg's wait. */
  nextNs(now: number): number {
    if (this.state === AppState.DONE) return Infinity;
    return this.phase === C_SEND ? now : recvNextNs(this.hm, this, now);
  }

  private finish(g: number, now: number): void {
    const hm = this.hm;
    const err = rpcError(hm, g);
    if (g !== this.g) {
      // Not the RPC we wait for (cannot happen with one thread per client socket): release it.
      homaRpcDone(hm, g, now);
      this.phase = C_WAIT;
      return;
    }
    if (err !== 0) {
      this.fail(HOMA_ERR_NAMES[err] ?? 'EINVAL', this.len);
    } else {
      const ok = this.verify(g);
      const rtt = now - rpcStartNs(hm, g);
      const a = hm.appResults;
      if (ok) a[this.row + AppResult.COMPLETED]! += 1; else a[this.row + AppResult.MISMATCHES]! += 1;
      a[this.row + AppResult.RTT_SUM_NS]! += rtt;
      if (rtt > a[this.row + AppResult.RTT_MAX_NS]!) a[this.row + AppResult.RTT_MAX_NS] = rtt;
      a[this.row + AppResult.BYTES]! += this.len;
      if (this.record) this.results.push(ok ? { length: this.len, ok, rttNs: rtt } : { length: this.len, ok, error: 'EMISMATCH', message: 'response bytes differ from the request pattern' });
    }
    homaRpcDone(hm, g, now);
    this.g = -1;
    this.idx++;
    this.phase = C_SEND;
  }

  private fail(code: string, len: number): void {
    const a = this.hm.appResults;
    a[this.row + AppResult.ERRORS]! += 1;
    const k = code === 'ENOTCONN' ? AppResult.ERR_ENOTCONN : code === 'ETIMEDOUT' ? AppResult.ERR_ETIMEDOUT
      : code === 'EMSGSIZE' ? AppResult.ERR_EMSGSIZE : code === 'ENOMEM' ? AppResult.ERR_ENOMEM : -1;
    if (k >= 0) a[this.row + k]! += 1;
    if (this.record) this.results.push({ length: len, ok: false, error: code, message: errorMessage(code, len) });
  }

  /** The response must be as long as expected and equal the pattern of (this host, id). */
  private verify(g: number): boolean {
    const hm = this.hm;
    const len = msgInLength(hm, g);
    const expect = this.expectedResponse;
    return (expect < 0 || len === expect) && matchesPattern(hm, g, len);
  }

  /** Called once when a finite client has sent every request (the world ends the run with it). */
  onDone: (() => void) | null = null;

  /** Expected response length (-1: any); set by the world from the server spec. */
  expectedResponseLength = -1;
  /** The server replies with min(request, 100) bytes (set by the world from the server spec). */
  expectOneWay = false;
  private get expectedResponse(): number {
    if (this.expectedResponseLength >= 0) return this.expectedResponseLength;
    return this.expectOneWay ? Math.min(this.len, ONE_WAY_BYTES) : this.len;
  }
}


export class EchoServer extends ServerLoop {
  readonly name: string;
  private readonly row: number;
  /** Requests served. */
  served = 0;

  constructor(hm: Homa, private readonly spec: EchoServerSpec, t: number) {
    super(hm, spec.port, t, usToWallNs(hm.cfg, spec.serviceUsecs ?? hm.cfg.serviceUsecs), null, true, 'echo server');
    this.name = `echo-server.${spec.host}.${t}`;
    this.row = hm.gcore * APP_RESULT_FIELDS;
  }

  /** The request's bytes, then the client's pattern for any byte past the request's end. */
  fill(dst: Uint8Array, dstOff: number, msgOff: number, n: number, g: number): void {
    const hm = this.hm;
    const reqLen = msgInLength(hm, g);
    let i = 0;
    if (msgOff < reqLen) {
      const k = reqLen - msgOff < n ? reqLen - msgOff : n;
      const src = msgInByteAddr(hm, g, msgOff);
      dst.copyWithin(dstOff, src, src + k);
      i = k;
    }
    const peer = rpcPeer(hm, g);
    const id = rpcId(hm, g) ^ 1;
    for (; i < n; i++) dst[dstOff + i] = patternByte(peer, id, msgOff + i);
  }

  protected responseLength(req: number): number {
    return this.spec.responseLength ?? (this.spec.oneWay === true ? Math.min(req, ONE_WAY_BYTES) : req);
  }

  protected replied(): void {
    this.served++;
    this.hm.appResults[this.row + AppResult.SERVED]! += 1;
  }
}
