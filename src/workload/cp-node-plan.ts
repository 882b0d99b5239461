/**
 * cp_node's workload planned on the main thread, before any worker starts (the first of its
 * three lifetimes; cp-node-threads.ts runs it, cp-node-collect.ts merges what it measured): the
 * spec taken from the config (HomaModule util/cp_node.cc's options), its validation, the place of
 * every client and server thread (host, core, port, thread slot), each port's cap on outstanding
 * RPCs and the shared words the threads of a port share (`cp.outstanding`, `cp.senderWaiting`).
 */
import type { EmuConfig } from '../config/config.js';
import { UserError } from '../config/errors.js';
import { LayoutBuilder, type LayoutDesc } from '../shm/layout.js';
import { HOMA_MAX_SOCKETS, HOMA_MAX_THREADS, LINE } from '../homa/syscalls.js';
import { parseWorkload } from './dist.js';
import type { HomaAppsSpec } from './echo.js';

/** cp_node's first Homa server port (--first-port). */
export const CP_SERVER_FIRST_PORT = 4000;
/** Client ports are bound from here (cp_node's client sockets get ephemeral ports). */
export const CP_CLIENT_FIRST_PORT = 32768;

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
 * the cap; the thread that completes an RPC clears it and wakes the sender); and, a double per
 * line (index outstandingIndex / 2), `belowCapNs`: virtual time, when the port last fell below
 * its cap (the releasing thread's clock), so a sender never sends before the completion that
 * made room for it, even when that thread is ahead of the sender in virtual time.
 */
export function cpNodeLayout(cfg: EmuConfig): LayoutDesc {
  const n = cfg.hosts * HOMA_MAX_SOCKETS * LINE;
  return new LayoutBuilder().add('outstanding', 'i32', n).add('senderWaiting', 'i32', n).add('belowCapNs', 'f64', n / 2).build();
}

/** Index of (host, client port index) in `cp.outstanding`. */
export function outstandingIndex(host: number, portIndex: number): number {
  return (host * HOMA_MAX_SOCKETS + portIndex) * LINE;
}
