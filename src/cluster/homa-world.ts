/**
 * The Homa world: what the runtime runs to emulate a cluster of Homa hosts. `layout` sizes the
 * shared memory (`homaLayout`), `init` fills it on the main thread (empty lists, pools, rings,
 * the network, bound ports), `setupCore` builds one core's contexts — NAPI/GRO for the RX
 * channels it owns (--core-layout), SoftIRQ for its backlog, and the pacer and the timer on their cores
 * — and the echo app threads placed on it, `setupFabric` builds the switch from src/net over the
 * shared packet pool, and `collect` reads back per-host counters named like Homa's metrics,
 * app results (RPCs completed, errors by reason), the network's packet balance and a leak audit
 * of every pool (packet slots, RPC slots, buffer pages). The registered world runs cp_node's
 * client and server threads from the config (src/workload/cp-node.ts); each core returns their
 * per-thread results and its hand-off latency histograms at stop, and `collect` merges them
 * into `cpNode`. With --wakeup-placement other than `stay`, cp_node's receivers and servers
 * may wake on another core than the one they slept on: `init` makes each thread's planned core
 * its owner (thr.owner), every core of the host builds a replica of each such thread, and the
 * per-port merge adds up whatever each replica recorded while it ran the thread.
 * `makeHomaWorld` lets tests choose the apps (echo apps, cp_node, or both) and the clock used
 * for time accounting.
 */
import type { EmuConfig } from '../config/config.js';
import type { AppThread, KernelContext } from '../cpu/context.js';
import type { CoreEnv, CoreSetup, World } from '../cpu/world.js';
import { Ctl } from '../cpu/control.js';
import { nowNs, nowNsInto } from '../shm/clock.js';
import { CACHE_LINE_BYTES, column, columnRecord, subLayout, type ColumnDesc, type LayoutDesc } from '../shm/layout.js';
import { TimeTrace, lockWaitIds, timetraceLayout } from '../metrics/timetrace.js';
import {
  CpNodeCoreApps, collectCpNode, cpNodeAppsSpec, cpNodeLayout, planCpNode,
  type CpNodeAppsSpec, type CpNodeCoreData, type CpNodeResult, type CpThreadPlan,
} from '../workload/cp-node.js';
import { SlabPool, auditPool, initPool } from '../shm/pool.js';
import { resetRing, ringContents } from '../shm/ring.js';
import { Nic, fabricCoreSetup, initNet, netChannels, readNetStats, rxRingName, setChannelOwners } from '../net/index.js';
import { OffloadState, initOffload } from '../policy/offload.js';
import { SteeringStats } from '../policy/steering.js';
import { loadCorePolicies } from '../policy/registry.js';
import { H, HEADER_WORDS } from '../wire/packet.js';
import { EchoClient, EchoServer, planApps, type PlannedApp } from '../workload/echo.js';
import {
  AppResult, APP_RESULT_FIELDS, HOMA_MAX_SOCKETS, HOMA_MAX_THREADS, MAX_BPAGES_PER_MSG, homaColumn, homaLayout, homaSizes,
  type HomaColumn,
} from '../homa/layout.js';
import { Homa, LOCK_CLASSES, RpcState, homaCoreLayout, lockCounts } from '../homa/homa.js';
import { M, METRIC_NAMES, NUM_METRICS, sumMetrics } from '../homa/metrics.js';
import { NapiContext } from '../homa/offload.js';
import { PacerContext } from '../homa/pacer.js';
import { SoftirqContext } from '../homa/softirq.js';
import { sockBind } from '../homa/sock.js';
import { TimerContext } from '../homa/timer.js';

export interface HomaWorldOptions {
  /** The apps of a run (default: `cpNodeAppsSpec`, cp_node from the config; echo apps: a `HomaAppsSpec`). */
  apps?: (cfg: EmuConfig) => CpNodeAppsSpec;
  /** Clock for time accounting only (default: the shared clock `nowNs`). */
  clock?: () => number;
  /** Keep every client's per-RPC results in memory (tests). */
  recordResults?: boolean;
}

/** What setupCore returns in addition to the runtime's CoreSetup (tests use it). */
export interface HomaCoreSetup extends CoreSetup {
  homa: Homa;
  clients: EchoClient[];
  servers: EchoServer[];
  /** This core's cp_node threads (empty without cp_node). */
  cpNode: CpNodeCoreApps;
}

/** What each core's onStop returns (structured-cloned to the main thread). */
export interface HomaCoreData {
  cpNode: CpNodeCoreData;
  handoff: { groToSoftirq: string; softirqToApp: string };
}

/** Every app thread of a run, placed: echo apps first, then cp_node's after them on each host. */
export function planHomaApps(cfg: EmuConfig, spec: CpNodeAppsSpec): { echo: PlannedApp[]; cp: CpThreadPlan[] } {
  const echo = planApps(cfg, spec);
  if (spec.cpNode === undefined) return { echo, cp: [] };
  const threads = new Array<number>(cfg.hosts).fill(0);
  const ports = Array.from({ length: cfg.hosts }, () => new Set<number>());
  for (const a of echo) {
    threads[a.host] = Math.max(threads[a.host]!, a.t + 1);
    ports[a.host]!.add(a.port);
  }
  return { echo, cp: planCpNode(cfg, spec.cpNode, threads, ports) };
}

/** `desc` with the columns of `extra` appended under `prefix.` (same buffer, after desc's bytes). */
function appendLayout(desc: LayoutDesc, prefix: string, extra: LayoutDesc): LayoutDesc {
  const base = Math.ceil(desc.byteLength / CACHE_LINE_BYTES) * CACHE_LINE_BYTES;
  const columns = Object.assign(columnRecord<ColumnDesc>(), desc.columns);
  for (const [name, c] of Object.entries(extra.columns)) columns[`${prefix}.${name}`] = { ...c, byteOffset: base + c.byteOffset };
  return { byteLength: base + extra.byteLength, columns };
}

/** Ids of the client RPCs of host h start after this (2^23 ids per host; 256 hosts fill the 31 bits). */
export function firstRpcId(h: number): number {
  return (h << 23) >>> 0;
}

/** Main thread: puts every shared structure in its empty state. */
export function initHoma(cfg: EmuConfig, sab: SharedArrayBuffer, desc: LayoutDesc, spec: CpNodeAppsSpec): void {
  const z = homaSizes(cfg);
  const fill = (name: HomaColumn, v: number): void => { homaColumn(sab, desc, name).fill(v); };
  fill('rpc.readyNext', -2); // NOT_READY (sock.ts)
  for (const name of ['rpc.bucketNext', 'rpc.outLen', 'rpc.thrNext', 'rpc.thrPrev', 'rpc.inLen',
    'rpc.inHead', 'rpc.inTail', 'rpc.activeSlot', 'rpc.grantNext', 'rpc.grantPrev', 'rpc.outPages', 'rpc.inPages',
    'grant.active', 'grant.listHead', 'pacer.thrHead', 'pacer.thrTail', 'sock.port', 'sock.readyHead', 'sock.readyTail',
    'sock.waiters', 'sock.waiterCores', 'sock.cbuckets', 'sock.sbuckets', 'thr.rpc'] as const) fill(name, -1);
  fill('peer.cutoffsSentNs', -1e15);
  // Client RPC ids start at a different range on each host, as cperf sets the next_id sysctl, so
  // an id names one RPC across the cluster (tthoma.py matches the hosts' traces by id).
  const nextId = homaColumn(sab, desc, 'homa.nextId');
  for (let h = 0; h < cfg.hosts; h++) nextId[h * (CACHE_LINE_BYTES / 4)] = firstRpcId(h);
  const lay = homaCoreLayout(cfg);
  initNet(cfg, sab, subLayout(desc, 'net'));
  // The net has netChannels(cfg) channels; with a Gen3 layout they all belong to its NAPI cores.
  const owners: number[] = [];
  for (let c = 0; c < netChannels(cfg); c++) {
    owners.push(lay.layout === 'default' ? lay.channelOwners[c % lay.channelOwners.length]! : lay.napiCores[c % lay.napiCores.length]!);
  }
  for (let h = 0; h < cfg.hosts; h++) {
    initPool(sab, subLayout(desc, `rpcpool.${h}`), z.rpcPool);
    initPool(sab, subLayout(desc, `bpage.pool.${h}`), z.pagePool);
    initOffload(new OffloadState(sab, subLayout(desc, `off.${h}`)), lay.gen3SoftirqCores);
    setChannelOwners(cfg, sab, subLayout(desc, 'net'), h, owners);
  }
  initPool(sab, subLayout(desc, 'pkt.pool'), z.pktPool);
  for (let c = 0; c < z.totalCores; c++) resetRing(sab, subLayout(desc, `softirq.${c}`), 'mpsc');
  let finite = 0;
  for (const c of spec.clients) if (c.loop !== true) finite++;
  Atomics.store(column(sab, desc, 'app.clientsLeft', 'i32'), 0, finite);
  const thrCore = homaColumn(sab, desc, 'thr.core');
  const thrOwner = homaColumn(sab, desc, 'thr.owner');
  homaColumn(sab, desc, 'thr.parked').fill(0);
  const plan = planHomaApps(cfg, spec);
  for (const a of [...plan.echo, ...plan.cp]) {
    sockBind(cfg, sab, desc, a.host, a.port);
    thrCore[a.host * HOMA_MAX_THREADS + a.t] = a.core;
    thrOwner[a.host * HOMA_MAX_THREADS + a.t] = a.core;
  }
}

/** The Homa world; its setupCore also returns the core's Homa handle and echo apps. */
export interface HomaWorld extends World {
  setupCore(env: CoreEnv): Promise<HomaCoreSetup>;
}

/** Builds the Homa world (tests pass their own apps and clock). */
export function makeHomaWorld(opts: HomaWorldOptions = {}): HomaWorld {
  const appsOf = opts.apps ?? cpNodeAppsSpec;
  const clock = opts.clock ?? nowNs;
  return {
    name: 'homa',
    costModel: true,
    lockClasses(cfg: EmuConfig) {
      return { classes: [...LOCK_CLASSES], counts: lockCounts(cfg) };
    },
    layout(cfg: EmuConfig): LayoutDesc {
      // The policy options were validated once, by resolveConfig (cfg.policies); the core layout is checked here.
      homaCoreLayout(cfg);
      planHomaApps(cfg, appsOf(cfg));
      const desc = appendLayout(homaLayout(cfg), 'cp', cpNodeLayout(cfg));
      return cfg.ttEvents > 0 ? appendLayout(desc, 'tt', timetraceLayout(cfg.hosts * cfg.cores, cfg.ttEvents)) : desc;
    },
    init(cfg: EmuConfig, sab: SharedArrayBuffer, desc: LayoutDesc): void {
      initHoma(cfg, sab, desc, appsOf(cfg));
    },
    async setupCore(env: CoreEnv): Promise<HomaCoreSetup> {
      const { cfg, sab, desc, host, core } = env;
      // The policies in force (cfg.policies), user modules loaded, before the handle that runs them.
      const steeringStats = new SteeringStats();
      const policies = await loadCorePolicies(cfg.policies, steeringStats);
      const hm = new Homa(cfg, sab, desc, host, core, env.locks, env.doorbells, policies);
      if (cfg.ttEvents > 0) {
        hm.tt = TimeTrace.inColumns(column(sab, desc, 'tt.times', 'f64'), column(sab, desc, 'tt.words', 'i32'),
          column(sab, desc, 'tt.state', 'i32'), host * cfg.cores + core, cfg.ttEvents);
        env.locks?.traceWaits(hm.tt, lockWaitIds(LOCK_CLASSES));
      }
      hm.clock = clock;
      if (clock === nowNs) hm.clockInto = nowNsInto;
      const nic = new Nic(cfg, sab, subLayout(desc, 'net'), host, core, hm.pktPool, hm.pktHdr, env.doorbells);
      hm.nic = nic;
      if (env.vc !== undefined && env.vc.virtual) {
        hm.useVirtualClock(env.vc);
        nic.attachVirtual(env.vc, hm.pktVt);
      } else if (env.vc !== undefined) {
        hm.vc = env.vc;
      }
      const contexts: KernelContext[] = [new NapiContext(hm, Int32Array.from(nic.channelsOwnedBy(core))), new SoftirqContext(hm)];
      if (core === hm.layout.pacerCore) contexts.push(new PacerContext(hm));
      if (core === hm.layout.timerCore) contexts.push(new TimerContext(hm));
      const spec = appsOf(cfg);
      const plan = planHomaApps(cfg, spec);
      const apps: AppThread[] = [];
      const clients: EchoClient[] = [];
      const servers: EchoServer[] = [];
      for (const a of plan.echo) {
        if (a.host !== host || a.core !== core) continue;
        if (a.kind === 'client') {
          const c = new EchoClient(hm, a.client!, a.t, opts.recordResults ?? false);
          if (a.client!.loop !== true) {
            const left = column(sab, desc, 'app.clientsLeft', 'i32');
            c.onDone = () => { if (Atomics.sub(left, 0, 1) === 1) Atomics.store(env.ctl, Ctl.WORLD_DONE, 1); };
          }
          const srv = spec.servers.find((s) => s.host === a.client!.dstHost && s.port === a.client!.dstPort);
          if (srv?.responseLength !== undefined) c.expectedResponseLength = srv.responseLength;
          if (srv?.oneWay === true) c.expectOneWay = true;
          clients.push(c);
          apps.push(c);
        } else {
          const s = new EchoServer(hm, a.server!, a.t);
          servers.push(s);
          apps.push(s);
        }
      }
      const cp = new CpNodeCoreApps(hm, spec.cpNode, plan.cp, column(sab, desc, 'cp.outstanding', 'i32'),
        column(sab, desc, 'cp.senderWaiting', 'i32'), column(sab, desc, 'cp.belowCapNs', 'f64'));
      apps.push(...cp.apps);
      return {
        homa: hm,
        clients,
        servers,
        cpNode: cp,
        contexts,
        apps,
        trace: hm.tt ?? undefined,
        onMeasureStart(): void {
          // Homa's counters, cp_node's results and the hand-off latencies cover the measured
          // window; echo app results cover the whole run.
          hm.metrics.fill(0, hm.mrow, hm.mrow + NUM_METRICS);
          cp.reset();
          hm.handoff.groToSoftirq.reset();
          hm.handoff.softirqToApp.reset();
          steeringStats.reset();
        },
        onStop(): HomaCoreData {
          hm.tt?.publish(); // the main thread reads the ring after the run
          hm.metrics[hm.mrow + M.gen2_rotations] = steeringStats.gen2Rotations;
          hm.metrics[hm.mrow + M.gen3_handoffs] = steeringStats.gen3Handoffs;
          hm.metrics[hm.mrow + M.gen3_alt_handoffs] = steeringStats.gen3AltHandoffs;
          hm.pktPool.flush();
          hm.rpcPool.flush();
          hm.pagePool.flush();
          const h = hm.handoff;
          return {
            cpNode: cp.data(),
            handoff: {
              groToSoftirq: h.groToSoftirq.encode(),
              softirqToApp: h.softirqToApp.encode(),
            },
          };
        },
      };
    },
    setupFabric(env: CoreEnv): CoreSetup {
      const { cfg, sab, desc } = env;
      const z = homaSizes(cfg);
      const pool = new SlabPool(sab, subLayout(desc, 'pkt.pool'), z.pktPool, z.totalCores);
      const virtual = env.vc !== undefined && env.vc.virtual;
      const setup = fabricCoreSetup(env, subLayout(desc, 'net'), pool, homaColumn(sab, desc, 'pkt.hdr'),
        virtual ? { stamps: homaColumn(sab, desc, 'pkt.vt'), nicRxNs: env.vc!.costs.nicRx } : undefined);
      const fabric = setup.fabric;
      return {
        contexts: setup.contexts,
        apps: [],
        onMeasureStart: setup.onMeasureStart,
        onStop(now: number): void {
          fabric.stop(now);
          fabric.reclaimRx();
          pool.flush();
        },
      };
    },
    collect(cfg: EmuConfig, sab: SharedArrayBuffer, desc: LayoutDesc, measuredNs: number, perCore: readonly unknown[] = []): HomaResult {
      return { ...collectHoma(cfg, sab, desc, measuredNs), cpNode: collectCpNodeOf(cfg, sab, desc, appsOf(cfg), perCore) };
    },
  };
}

/** What the Homa world's collect returns. */
export type HomaResult = ReturnType<typeof collectHoma> & { cpNode: CpNodeResult };
export type { CpNodeResult };

/** Merges what every core's onStop returned (`perCore[globalCore]`) into the `cpNode` results. */
export function collectCpNodeOf(cfg: EmuConfig, sab: SharedArrayBuffer, desc: LayoutDesc, spec: CpNodeAppsSpec,
  perCore: readonly unknown[]): CpNodeResult {
  const cores = cfg.hosts * cfg.cores;
  const data: Array<HomaCoreData | undefined> = [];
  const groToSoftirq: string[] = [];
  const softirqToApp: string[] = [];
  for (let g = 0; g < cores; g++) {
    const d = perCore[g] as HomaCoreData | undefined;
    data.push(d);
    groToSoftirq.push(d?.handoff.groToSoftirq ?? '');
    softirqToApp.push(d?.handoff.softirqToApp ?? '');
  }
  return collectCpNode(spec.cpNode, data.map((d) => d?.cpNode), column(sab, desc, 'cp.outstanding', 'i32'),
    { groToSoftirq, softirqToApp }, cfg.workload);
}

/** Packets in the chain starting at `p` (linked through H.NEXT). */
function chainLength(hdr: Int32Array, p: number): number {
  let n = 0;
  for (; p >= 0 && n <= hdr.length; p = hdr[p * HEADER_WORDS + H.NEXT]!) n++;
  return n;
}

/**
 * Per-host Homa results (JSON-able), the network's balance, and the accounting of every pool
 * slot at the end of the run: a slot in use must be held by a live RPC (queued packets, pages),
 * wait in a SoftIRQ backlog or an RX channel; anything else is reported as a leak.
 */
export function collectHoma(cfg: EmuConfig, sab: SharedArrayBuffer, desc: LayoutDesc, measuredNs: number) {
  const z = homaSizes(cfg);
  const metrics = column(sab, desc, 'metrics', 'f64');
  const appRes = column(sab, desc, 'app.results', 'f64');
  const state = homaColumn(sab, desc, 'rpc.state');
  const inHead = homaColumn(sab, desc, 'rpc.inHead');
  const inPages = homaColumn(sab, desc, 'rpc.inPages');
  const outPages = homaColumn(sab, desc, 'rpc.outPages');
  const hdr = homaColumn(sab, desc, 'pkt.hdr');
  const hosts = [];
  let rpcLeaks = 0;
  let pageLeaks = 0;
  let queuedOnRpcs = 0;
  for (let h = 0; h < cfg.hosts; h++) {
    const m = sumMetrics(metrics, h * cfg.cores, (h + 1) * cfg.cores);
    const app: Record<string, number> = {};
    for (const [k, i] of Object.entries(AppResult)) {
      let s = 0;
      for (let c = h * cfg.cores; c < (h + 1) * cfg.cores; c++) {
        const v = appRes[c * APP_RESULT_FIELDS + i]!;
        s = k === 'RTT_MAX_NS' ? Math.max(s, v) : s + v;
      }
      app[k.toLowerCase()] = s;
    }
    let live = 0;
    let livePages = 0;
    for (let g = h * z.rpcsPerHost; g < (h + 1) * z.rpcsPerHost; g++) {
      if (state[g] === RpcState.FREE) continue;
      live++;
      queuedOnRpcs += chainLength(hdr, inHead[g]!);
      for (let i = 0; i < MAX_BPAGES_PER_MSG; i++) {
        if (inPages[g * MAX_BPAGES_PER_MSG + i]! >= 0) livePages++;
        if (outPages[g * MAX_BPAGES_PER_MSG + i]! >= 0) livePages++;
      }
    }
    const rpcAudit = auditPool(sab, subLayout(desc, `rpcpool.${h}`), z.rpcPool);
    const pageAudit = auditPool(sab, subLayout(desc, `bpage.pool.${h}`), z.pagePool);
    const rpcsInUse = rpcAudit.total - rpcAudit.free;
    const pagesInUse = pageAudit.total - pageAudit.free;
    rpcLeaks += rpcsInUse - live;
    pageLeaks += pagesInUse - livePages;
    hosts.push({ host: h, metrics: m, app, rpcsInUse, liveRpcs: live, pagesInUse, pagesOfLiveRpcs: livePages });
  }
  let inBacklogs = 0;
  for (let c = 0; c < z.totalCores; c++) {
    for (const head of ringContents(sab, subLayout(desc, `softirq.${c}`), 'mpsc')) inBacklogs += chainLength(hdr, head);
  }
  const netDesc = subLayout(desc, 'net');
  let inRx = 0;
  for (let h = 0; h < cfg.hosts; h++) {
    for (let c = 0; c < netChannels(cfg); c++) inRx += ringContents(sab, subLayout(netDesc, rxRingName(h, c)), 'spsc').length;
  }
  const pkt = auditPool(sab, subLayout(desc, 'pkt.pool'), z.pktPool);
  const pktInUse = pkt.total - pkt.free;
  return {
    world: 'homa',
    measuredNs,
    metricNames: METRIC_NAMES,
    hosts,
    net: readNetStats(cfg, sab, netDesc),
    packets: { total: pkt.total, inUse: pktInUse, queuedOnRpcs, inSoftirqBacklogs: inBacklogs, inRxChannels: inRx },
    leaks: {
      packetSlots: pktInUse - queuedOnRpcs - inBacklogs - inRx,
      packetDuplicates: pkt.duplicates,
      rpcSlots: rpcLeaks,
      pages: pageLeaks,
    },
    sockets: HOMA_MAX_SOCKETS,
  };
}

/** The Homa world with the default echo apps. */
export const homaWorld: World = makeHomaWorld();

/** This module's world, for the workers (src/cpu/world.ts: `importWorld`). */
export { homaWorld as world };
