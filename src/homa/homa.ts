/**
 * One core's handle on the Homa world (the emulator's `struct homa` plus the views every Homa
 * function needs): the typed-array columns of the shared layout, this core's handles on the
 * slab pools (packets for the cluster, RPC slots and buffer pages for its host), the shared lock
 * table with the id of every lock class (docs/DESIGN.md §5: client/server RPC bucket locks per socket, socket,
 * grant, throttle, peer_ack, pacer), the NIC, the host's offload state and SoftIRQ backlog
 * rings, this core's counter row, and every config knob converted once into the unit the hot
 * paths use (ns of wall time, i.e. already multiplied by `dilation`). The policies come from
 * config resolution (cfg.policies: GRO flags, the wake-up placement with this core's seeded
 * random stream) and, as objects, from the caller (`CorePolicies`: the world's setupCore loads
 * user modules first; by default the built-ins cfg.policies names): nothing is parsed here and
 * no placeholder policy is ever installed. It is built at setup time
 * (allocation allowed there) and then only read; the protocol files are free functions taking
 * it as their first argument.
 */
import type { EmuConfig } from '../config/config.js';
import { parseCutoffs, usToWallNs } from '../config/config.js';
import type { Doorbells } from '../shm/doorbell.js';
import { subLayout, type LayoutDesc } from '../shm/layout.js';
import type { LockTable } from '../shm/lock.js';
import { SlabPool } from '../shm/pool.js';
import { MpscRing } from '../shm/ring.js';
import { OffloadState } from '../policy/offload.js';
import { PacerKind, newPacerCheck, pacerKindOf } from '../policy/pacer.js';
import { corePolicies, type CorePolicies } from '../policy/registry.js';
import type { GroPolicy } from '../policy/gro-policy.js';
import type { PacerCheck, PacerPolicy, SteeringPolicy, ThreadChoicePolicy } from '../policy/types.js';
import { hostCoreLayout, type CoreLayout } from '../policy/layout.js';
import type { WakeupPlacement } from '../policy/placement.js';
import { Rng } from '../util/rng.js';
import { ConfigError } from '../config/errors.js';
import { VClock } from '../cpu/vsync.js';
import { zeroCosts } from '../config/cost-profile.js';
import { HEADER_WORDS } from '../wire/packet.js';
import {
  BPAGE_BYTES, HOMA_MAX_SOCKETS, HOMA_MAX_THREADS, HOMA_RPC_BUCKETS, homaColumn, homaSizes,
  type HomaColumnOf, type HomaSizes,
} from './layout.js';
import { NUM_METRICS } from './metrics.js';
import { LatencyTally } from '../metrics/tally.js';
import type { TimeTrace } from '../metrics/timetrace.js';

/** Stream id of the wake-up placement draws in `Rng.derive(seed, host, core, id)`. */
const PLACEMENT_STREAM = 0x57414b45;

/** One core's hand-off latency tallies (emulated ns), allocated once at setup. */
export interface HandoffHistograms {
  readonly groToSoftirq: LatencyTally;
  readonly softirqToApp: LatencyTally;
}

/** What Homa needs from a NIC (src/net's `Nic` has these). */
export interface NicPort {
  xmit(slot: number, now: number): boolean;
  pollChannel(ch: number, dst: Int32Array, max: number): number;
  rxPending(ch: number): number;
  /** Virtual time: stamp of the oldest packet in channel `ch` (Infinity if empty). */
  rxNextNs?(ch: number): number;
}

/** Lock classes in the order of the lock table (names as metrics.py prints them). */
export const LOCK_CLASSES = ['client', 'server', 'socket', 'grant', 'throttle', 'peer_ack', 'pacer'] as const;

export function lockCounts(cfg: EmuConfig): number[] {
  const H = cfg.hosts;
  const buckets = H * HOMA_MAX_SOCKETS * HOMA_RPC_BUCKETS;
  return [buckets, buckets, H * HOMA_MAX_SOCKETS, H, H, H * H, H];
}

/** RPC states (homa_rpc.h). FREE = the slot is in the pool. */
export const RpcState = { FREE: 0, OUTGOING: 1, INCOMING: 2, IN_SERVICE: 3, DEAD: 4 } as const;
/**
 * rpc.flags bits. Every write is made under the RPC lock (plain read-modify-write); readers
 * without the lock load atomically. The app's "I spin for the RPC lock" signal, the one thing
 * written without that lock, is the separate counter `rpc.appNeedsLock` (`Homa.rAppNeedsLock`).
 */
export const RpcFlag = {
  /** Packets are queued and a hand-off is pending (the kernel's RPC_PKTS_READY). */
  PKTS_READY: 1,
  // 2 (APP_NEEDS_LOCK) moved to the counter rpc.appNeedsLock: SoftIRQ yields the lock between
  // packets while it is non-zero.
  // 4 (ON_READY) is retired: ready-list membership is `rpc.readyNext` (sock.ts NOT_READY).
  /** The complete message (or the error) was returned to the app. */
  DELIVERED: 16,
  /** Ended while app threads copied data out (rpc.copiers > 0): the last one frees the slot. */
  FREE_PENDING: 32,
  /** In the pacer's throttled list. */
  THROTTLED: 64,
} as const;
/** rpc.grantState */
export const GrantState = { NONE: 0, GRANTABLE: 1, ACTIVE: 2 } as const;

/** Error codes an RPC can end with (rpc.error) and that app calls return (negated). */
export const HomaErr = { OK: 0, ENOTCONN: 1, ETIMEDOUT: 2, EMSGSIZE: 3, ENOMEM: 4, EINVAL: 5 } as const;
export const HOMA_ERR_NAMES = ['OK', 'ENOTCONN', 'ETIMEDOUT', 'EMSGSIZE', 'ENOMEM', 'EINVAL'] as const;

/** Supplies message bytes when a message is built (the emulated copy from user memory). */
export interface PayloadSource {
  /** Writes bytes [msgOff, msgOff + n) of the message of RPC `g` into dst[dstOff ..]. */
  fill(dst: Uint8Array, dstOff: number, msgOff: number, n: number, g: number): void;
}

export class Homa {
  readonly cfg: EmuConfig;
  readonly sab: SharedArrayBuffer;
  readonly host: number;
  readonly core: number;
  readonly gcore: number;
  readonly hosts: number;
  readonly cores: number;
  readonly sizes: HomaSizes;
  /** Where NAPI, SoftIRQ candidates, the pacer and the timer run on each host. */
  readonly layout: CoreLayout;
  readonly rpcsPerHost: number;
  /** First global RPC index of this host. */
  readonly rpcBase: number;

  // --- knobs in hot-path units ---
  readonly maxSeg: number;
  /** MTU segments per GSO skb: max_gso_size rounded down to whole segments, at least 1. */
  readonly gsoSegs: number;
  /** Scratch of xmitData: [segments, wire bytes] of the skb being sent. */
  readonly gsoScratch = new Int32Array(2);
  readonly unschedBytes: number;
  readonly maxIncoming: number;
  readonly maxOvercommit: number;
  readonly window: number;
  readonly numPriorities: number;
  readonly cutoffs: Int32Array;
  readonly maxSchedPrio: number;
  readonly deferMinBytes: number;
  readonly maxNicBacklogNs: number;
  /** ns of link time per wire byte (1% slower than link_mbps, as cycles_per_mbyte assumes). */
  readonly nsPerByte: number;
  /**
   * The kernel's cycles_per_mbyte on a 1 GHz clock: floor(101 x 8000 x khz / (link_mbps x 100)),
   * khz = 1e6 (ns); a packet of B wire bytes occupies floor(B x nsPerMbyte / 1e6) ns of link.
   */
  readonly nsPerMbyte: number;
  readonly dontThrottle: boolean;
  readonly fifoIntervalNs: number;
  readonly fifoIncrement: number;
  readonly pacerFifoFraction: number;
  /** --pacer: how xmitData applies `pacer` (PacerKind: nic-short, pacer-only, qdisc, user module). */
  pacerKind: number;
  /** homa_qdisc mode (pacerKind QDISC): every packet is charged to the NIC estimate. */
  qdisc: boolean;
  /** --throttle-insert back: sorted insert scanning from the tail. */
  readonly throttleBack: boolean;
  /** --throttle-insert heap: the throttled RPCs in a binary min-heap (column pacer.heap). */
  readonly throttleHeap: boolean;
  readonly tickNs: number;
  readonly busyNs: number;
  readonly groBusyNs: number;
  readonly pollNs: number;
  readonly sockLockOnce: boolean;
  readonly waiterFifo: boolean;
  /** --wakeup-placement, parsed; its random stream (this core's, seeded) and a scratch row of last_app_active. */
  readonly placement: WakeupPlacement;
  readonly placementRng: Rng;
  readonly placementScratch: Float64Array;

  // --- columns ---
  readonly rState: Int32Array; readonly rGen: Int32Array; readonly rId: Int32Array; readonly rPeer: Int32Array;
  readonly rDport: Int32Array; readonly rSock: Int32Array; readonly rFlags: Int32Array; readonly rError: Int32Array;
  readonly rSilent: Int32Array; readonly rBucketNext: Int32Array; readonly rDoneTicks: Int32Array;
  readonly rReadyNext: Int32Array; readonly rOutLen: Int32Array; readonly rOutNext: Int32Array;
  readonly rOutGranted: Int32Array; readonly rOutUnsched: Int32Array; readonly rOutSchedPrio: Int32Array;
  readonly rThrNext: Int32Array; readonly rThrPrev: Int32Array; readonly rInLen: Int32Array;
  readonly rInRemaining: Int32Array; readonly rInGranted: Int32Array; readonly rInUnsched: Int32Array;
  readonly rInRecvEnd: Int32Array; readonly rInNumGaps: Int32Array; readonly rInHead: Int32Array;
  readonly rInTail: Int32Array; readonly rInPrio: Int32Array; readonly rRecIncoming: Int32Array;
  readonly rGrantState: Int32Array; readonly rActiveSlot: Int32Array; readonly rGrantNext: Int32Array;
  readonly rGrantPrev: Int32Array; readonly rResends: Int32Array;
  /** App threads copying this RPC's packets out with its lock released (changed under the lock). */
  readonly rCopiers: Int32Array;
  /** App threads spinning for the RPC lock (the kernel's APP_NEEDS_LOCK; atomic add/sub). */
  readonly rAppNeedsLock: Int32Array;
  readonly rOutInitNs: Float64Array; readonly rBirthNs: Float64Array; readonly rStartNs: Float64Array;
  readonly rOutPages: Int32Array; readonly rInPages: Int32Array; readonly rGapStart: Int32Array; readonly rGapEnd: Int32Array;

  readonly nextId: Int32Array;
  readonly gActive: Int32Array; readonly gActiveRemaining: Int32Array; readonly gNumActive: Int32Array;
  readonly gNeedy: Int32Array; readonly gTotalIncoming: Int32Array; readonly gListHead: Int32Array;
  readonly gNumGrantable: Int32Array; readonly gFifoTimeNs: Float64Array; readonly gPeerActive: Int32Array;
  readonly pLinkIdle: Int32Array; readonly pThrCount: Int32Array; readonly pThrSinceNs: Float64Array; readonly pThrHead: Int32Array;
  readonly pThrTail: Int32Array; readonly pFifoCount: Int32Array;
  readonly peerNumAcks: Int32Array; readonly peerAckIds: Int32Array; readonly peerAckPorts: Int32Array;
  readonly peerCutoffVersion: Int32Array; readonly peerCutoffsSentNs: Float64Array;
  readonly sPort: Int32Array; readonly sReadyHead: Int32Array; readonly sReadyTail: Int32Array;
  readonly sNumWaiters: Int32Array; readonly sWaiters: Int32Array; readonly sWaiterCores: Int32Array;
  readonly sNumRpcs: Int32Array; readonly sCBuckets: Int32Array; readonly sSBuckets: Int32Array;
  readonly tRpc: Int32Array; readonly tGen: Int32Array; readonly tCore: Int32Array; readonly tWake: Int32Array; readonly tWakeNs: Float64Array;
  /** --wakeup-placement: host core running each thread (thr.owner), 1 while it sleeps and may move (thr.parked), when it slept. */
  readonly tOwner: Int32Array; readonly tParked: Int32Array; readonly tSleptNs: Float64Array;

  /** The whole SAB as bytes (payload copies use copyWithin between columns: no allocation). */
  readonly u8: Uint8Array;
  readonly pktHdr: Int32Array;
  readonly pktDataOff: number;
  readonly pagesOff: number;
  readonly pagesPerHost: number;

  readonly pktPool: SlabPool;
  readonly rpcPool: SlabPool;
  readonly pagePool: SlabPool;

  readonly locks: LockTable;
  readonly clientLockBase: number;
  readonly serverLockBase: number;
  readonly socketLockBase: number;
  readonly grantLock: number;
  readonly throttleLock: number;
  readonly peerLockBase: number;
  readonly pacerLock: number;

  readonly metrics: Float64Array;
  /** Start of this core's counter row in `metrics`. */
  readonly mrow: number;
  /** Column rpc.handoffNs: when the RPC was handed to a thread or queued as ready (wall ns). */
  readonly rHandoffNs: Float64Array;
  /** This core's hand-off latency histograms (each read flushes its tally into it first). */
  readonly handoff: HandoffHistograms;
  readonly appResults: Float64Array;

  readonly off: OffloadState;
  readonly softirqRings: MpscRing[];
  readonly doorbells: Doorbells | null;
  nic: NicPort | null = null;
  /** GRO flags (cfg.policies.gro), the steering and thread-choice policies in force (tests may replace them). */
  gro: GroPolicy;
  steering: SteeringPolicy;
  threadChoice: ThreadChoicePolicy;
  /** The pacer policy in force (`setPacer` replaces it in tests; a module is loaded by the world's setupCore). */
  pacer: PacerPolicy;
  /** Scratch handed to `pacer.mayTransmit` (refilled per decision). */
  readonly pacerCheck: PacerCheck = newPacerCheck();
  /** The throttled-RPC heap of every host (global RPC indices; host h's heap at h x rpcsPerHost). */
  readonly pThrHeap: Int32Array;
  /** Per socket of this host: views of its waiter list and the waiters' cores (index 0 = front). */
  readonly waiterViews: Int32Array[] = [];
  readonly waiterCoreViews: Int32Array[] = [];
  /** Deferred piggybacked acks of one dispatch group: [clientId, serverPort] pairs. */
  readonly ackScratch = new Int32Array(2 * 64);
  /** NAPI poll buffer. */
  readonly pollScratch: Int32Array;
  /**
   * This core's clock object (src/cpu/vsync.ts). With --clock virtual every cost of the profile
   * is charged to `vc.t` where the work happens and hand-offs are stamped with it; with --clock
   * wall (and in single-threaded tests) `vc.virtual` is false, its costs are 0 and stamps are
   * the `now` the caller passed.
   */
  vc: VClock = new VClock(false, zeroCosts());
  /** This core's time trace (--tt/--trace), or null: every recording site tests it first. */
  tt: TimeTrace | null = null;
  /** Column pkt.vt: per packet slot, the virtual time stamp of its current hop. */
  readonly pktVt: Float64Array;
  /** homa->timer_ticks: timer passes run on this host so far (written by the timer context only). */
  timerTicks = 0;
  /** Clock used only for time accounting (bypass ns), never for decisions. */
  clock: () => number = () => 0;
  /**
   * The same clock written into `dst[i]`: on the real clock this is `nowNsInto`, whose reading
   * goes straight into a Float64Array instead of a boxed HeapNumber (no garbage per read).
   */
  clockInto: (dst: Float64Array, i: number) => void = (dst, i) => { dst[i] = this.clock(); };

  /** The time to stamp a hand-off with: this core's virtual clock, or the caller's `now` (wall mode, tests). */
  stamp(now: number): number {
    return this.vc.virtual ? this.vc.t : now;
  }

  /** Makes this handle use virtual time (setup): clock, stamps and the cost profile. */
  useVirtualClock(vc: VClock): void {
    this.vc = vc;
    this.clock = () => vc.t;
    this.clockInto = (dst, i) => { dst[i] = vc.t; };
  }

  constructor(cfg: EmuConfig, sab: SharedArrayBuffer, desc: LayoutDesc, host: number, core: number,
    locks: LockTable, doorbells: Doorbells | null, policies: CorePolicies = corePolicies(cfg.policies), fabric = false) {
    this.cfg = cfg;
    this.sab = sab;
    this.host = host;
    this.core = core;
    this.hosts = cfg.hosts;
    this.cores = cfg.cores;
    this.gcore = fabric ? cfg.hosts * cfg.cores : host * cfg.cores + core;
    const z = homaSizes(cfg);
    this.sizes = z;
    this.layout = homaCoreLayout(cfg);
    this.rpcsPerHost = z.rpcsPerHost;
    this.rpcBase = host * z.rpcsPerHost;
    const D = cfg.dilation;

    this.maxSeg = z.payloadBytes;
    this.gsoSegs = Math.max(1, Math.floor(cfg.maxGsoSize / z.payloadBytes));
    this.unschedBytes = cfg.unschedBytes;
    this.maxIncoming = cfg.maxIncoming;
    this.maxOvercommit = Math.min(cfg.maxOvercommit, 8);
    this.window = cfg.window;
    this.numPriorities = cfg.numPriorities;
    this.cutoffs = Int32Array.from(parseCutoffs(cfg.unschedCutoffs));
    this.maxSchedPrio = computeMaxSchedPrio(this.cutoffs, cfg.numPriorities);
    this.deferMinBytes = cfg.deferMinBytes;
    this.maxNicBacklogNs = usToWallNs(cfg, cfg.maxNicEstBacklogUsecs);
    this.nsPerMbyte = Math.floor((101 * 8000 * 1e6) / (cfg.linkMbps * 100)) * D;
    this.nsPerByte = this.nsPerMbyte / 1e6;
    this.dontThrottle = (cfg.flags & 4) !== 0;
    this.fifoIncrement = cfg.fifoGrantIncrement;
    this.fifoIntervalNs = fifoGrantIntervalNs(cfg.linkMbps, cfg.grantFifoFraction, cfg.fifoGrantIncrement) * D;
    this.pacerFifoFraction = cfg.pacerFifoFraction;
    this.pacerKind = pacerKindOf(cfg.policies.pacer);
    this.qdisc = this.pacerKind === PacerKind.QDISC;
    this.pacer = policies.pacer;
    this.pacerCheck.maxBacklogNs = this.maxNicBacklogNs;
    this.pacerCheck.deferMinBytes = this.deferMinBytes;
    this.throttleBack = cfg.throttleInsert === 'back';
    this.throttleHeap = cfg.throttleInsert === 'heap';
    this.tickNs = usToWallNs(cfg, cfg.tickUsecs);
    this.busyNs = usToWallNs(cfg, cfg.busyUsecs);
    this.groBusyNs = usToWallNs(cfg, cfg.groBusyUsecs);
    this.pollNs = usToWallNs(cfg, cfg.pollUsecs);
    this.sockLockOnce = cfg.sockLockOnArrival === 'once';
    this.waiterFifo = cfg.waiterQueue === 'fifo';
    this.placement = cfg.policies.wakeupPlacement;
    this.placementRng = Rng.derive(cfg.seed, host, fabric ? cfg.cores : core, PLACEMENT_STREAM);
    this.placementScratch = new Float64Array(cfg.cores);

    const i32 = (name: HomaColumnOf<'i32'>): Int32Array => homaColumn(sab, desc, name);
    const f64 = (name: HomaColumnOf<'f64'>): Float64Array => homaColumn(sab, desc, name);
    this.rState = i32('rpc.state'); this.rGen = i32('rpc.gen'); this.rId = i32('rpc.id'); this.rPeer = i32('rpc.peer');
    this.rDport = i32('rpc.dport'); this.rSock = i32('rpc.sock'); this.rFlags = i32('rpc.flags'); this.rError = i32('rpc.error');
    this.rSilent = i32('rpc.silent'); this.rBucketNext = i32('rpc.bucketNext'); this.rDoneTicks = i32('rpc.doneTicks');
    this.rReadyNext = i32('rpc.readyNext'); this.rOutLen = i32('rpc.outLen'); this.rOutNext = i32('rpc.outNext');
    this.rOutGranted = i32('rpc.outGranted'); this.rOutUnsched = i32('rpc.outUnsched'); this.rOutSchedPrio = i32('rpc.outSchedPrio');
    this.rThrNext = i32('rpc.thrNext'); this.rThrPrev = i32('rpc.thrPrev'); this.rInLen = i32('rpc.inLen');
    this.rInRemaining = i32('rpc.inRemaining'); this.rInGranted = i32('rpc.inGranted'); this.rInUnsched = i32('rpc.inUnsched');
    this.rInRecvEnd = i32('rpc.inRecvEnd'); this.rInNumGaps = i32('rpc.inNumGaps'); this.rInHead = i32('rpc.inHead');
    this.rInTail = i32('rpc.inTail'); this.rInPrio = i32('rpc.inPrio'); this.rRecIncoming = i32('rpc.recIncoming');
    this.rGrantState = i32('rpc.grantState'); this.rActiveSlot = i32('rpc.activeSlot'); this.rGrantNext = i32('rpc.grantNext');
    this.rGrantPrev = i32('rpc.grantPrev'); this.rResends = i32('rpc.resends'); this.rCopiers = i32('rpc.copiers');
    this.rAppNeedsLock = i32('rpc.appNeedsLock');
    this.rOutInitNs = f64('rpc.outInitNs'); this.rBirthNs = f64('rpc.birthNs'); this.rStartNs = f64('rpc.startNs');
    this.rOutPages = i32('rpc.outPages'); this.rInPages = i32('rpc.inPages');
    this.rGapStart = i32('rpc.gapStart'); this.rGapEnd = i32('rpc.gapEnd');

    this.nextId = i32('homa.nextId');
    this.gActive = i32('grant.active'); this.gActiveRemaining = i32('grant.activeRemaining');
    this.gNumActive = i32('grant.numActive'); this.gNeedy = i32('grant.needy'); this.gTotalIncoming = i32('grant.totalIncoming');
    this.gListHead = i32('grant.listHead'); this.gNumGrantable = i32('grant.numGrantable');
    this.gFifoTimeNs = f64('grant.fifoTimeNs'); this.gPeerActive = i32('grant.peerActive');
    this.pLinkIdle = i32('pacer.linkIdle'); this.pThrCount = i32('pacer.thrCount'); this.pThrSinceNs = f64('pacer.thrSinceNs'); this.pThrHead = i32('pacer.thrHead');
    this.pThrTail = i32('pacer.thrTail'); this.pFifoCount = i32('pacer.fifoCount');
    this.pThrHeap = i32('pacer.heap');
    this.peerNumAcks = i32('peer.numAcks'); this.peerAckIds = i32('peer.ackIds'); this.peerAckPorts = i32('peer.ackPorts');
    this.peerCutoffVersion = i32('peer.cutoffVersion'); this.peerCutoffsSentNs = f64('peer.cutoffsSentNs');
    this.sPort = i32('sock.port'); this.sReadyHead = i32('sock.readyHead'); this.sReadyTail = i32('sock.readyTail');
    this.sNumWaiters = i32('sock.numWaiters'); this.sWaiters = i32('sock.waiters'); this.sWaiterCores = i32('sock.waiterCores');
    this.sNumRpcs = i32('sock.numRpcs'); this.sCBuckets = i32('sock.cbuckets'); this.sSBuckets = i32('sock.sbuckets');
    this.tRpc = i32('thr.rpc'); this.tGen = i32('thr.gen'); this.tCore = i32('thr.core'); this.tWake = i32('thr.wake'); this.tWakeNs = f64('thr.wakeNs');
    this.tOwner = i32('thr.owner'); this.tParked = i32('thr.parked'); this.tSleptNs = f64('thr.sleptNs');

    this.u8 = new Uint8Array(sab);
    this.pktHdr = i32('pkt.hdr');
    this.pktVt = f64('pkt.vt');
    this.pktDataOff = desc.columns['pkt.data']!.byteOffset;
    this.pagesOff = desc.columns['bpage.bytes']!.byteOffset;
    this.pagesPerHost = z.pagesPerHost;

    this.pktPool = new SlabPool(sab, subLayout(desc, 'pkt.pool'), z.pktPool, this.gcore);
    const poolCore = fabric ? 0 : core;
    this.rpcPool = new SlabPool(sab, subLayout(desc, `rpcpool.${host}`), z.rpcPool, poolCore);
    this.pagePool = new SlabPool(sab, subLayout(desc, `bpage.pool.${host}`), z.pagePool, poolCore);

    this.locks = locks;
    const counts = lockCounts(cfg);
    const base: number[] = [];
    let acc = 0;
    for (const c of counts) { base.push(acc); acc += c; }
    this.clientLockBase = base[0]!;
    this.serverLockBase = base[1]!;
    this.socketLockBase = base[2]!;
    this.grantLock = base[3]! + host;
    this.throttleLock = base[4]! + host;
    this.peerLockBase = base[5]! + host * cfg.hosts;
    this.pacerLock = base[6]! + host;

    this.metrics = f64('metrics');
    this.mrow = this.gcore * NUM_METRICS;
    this.rHandoffNs = f64('rpc.handoffNs');
    this.handoff = { groToSoftirq: new LatencyTally(), softirqToApp: new LatencyTally() };
    this.appResults = f64('app.results');
    this.off = new OffloadState(sab, subLayout(desc, `off.${host}`));
    this.softirqRings = [];
    if (!fabric) {
      for (let c = 0; c < cfg.cores; c++) this.softirqRings.push(new MpscRing(sab, subLayout(desc, `softirq.${host * cfg.cores + c}`)));
    }
    this.doorbells = doorbells;
    this.gro = cfg.policies.gro;
    this.steering = policies.steering;
    this.threadChoice = policies.threadChoice;
    for (let s = 0; s < HOMA_MAX_SOCKETS; s++) {
      const b = (host * HOMA_MAX_SOCKETS + s) * HOMA_MAX_THREADS;
      this.waiterViews.push(this.sWaiters.subarray(b, b + HOMA_MAX_THREADS));
      this.waiterCoreViews.push(this.sWaiterCores.subarray(b, b + HOMA_MAX_THREADS));
    }
    this.pollScratch = new Int32Array(Math.max(cfg.napiBudget, 1));
  }

  /**
   * Installs the pacer policy of a resolved --pacer value (built-in name, or `policy` loaded
   * from the module path `resolved`): a built-in name selects the kernel's own decision path.
   */
  setPacer(resolved: string, policy: PacerPolicy): void {
    this.pacerKind = pacerKindOf(resolved);
    this.qdisc = this.pacerKind === PacerKind.QDISC;
    this.pacer = policy;
  }

  // --- indices ---
  /** Global socket index of this host's socket s. */
  sockIndex(s: number): number { return this.host * HOMA_MAX_SOCKETS + s; }
  /** Global thread index of this host's thread t. */
  threadIndex(t: number): number { return this.host * HOMA_MAX_THREADS + t; }

  // --- locks ---
  /** Bucket lock of RPC `id` in global socket `sockG` (client ids are even, server ids odd). */
  bucketLock(sockG: number, id: number): number {
    const b = (id >> 1) & (HOMA_RPC_BUCKETS - 1);
    return ((id & 1) === 0 ? this.clientLockBase : this.serverLockBase) + sockG * HOMA_RPC_BUCKETS + b;
  }
  rpcLock(g: number): number { return this.bucketLock(this.rSock[g]!, this.rId[g]!); }
  socketLock(sockG: number): number { return this.socketLockBase + sockG; }
  peerLock(peer: number): number { return this.peerLockBase + peer; }

  // --- counters ---
  count(m: number, n = 1): void { this.metrics[this.mrow + m]! += n; }

  // --- payload addressing ---
  /** Byte offset (in the SAB) of packet slot `slot`'s payload. */
  pktData(slot: number): number { return this.pktDataOff + slot * this.maxSeg; }
  /** Byte offset (in the SAB) of this host's page `p`. */
  pageAddr(p: number): number { return this.pagesOff + (this.host * this.pagesPerHost + p) * BPAGE_BYTES; }
  hdrBase(slot: number): number { return slot * HEADER_WORDS; }
}

/**
 * The core layout of every host (src/policy/layout.ts) from --core-layout, --channels,
 * --pacer-core, --timer-core, with --gen3-softirq-cores ('gro:c1,c2,c3;...') overriding the
 * Gen3 candidates of the GRO cores it names.
 */
export function homaCoreLayout(cfg: EmuConfig): CoreLayout {
  const lay = hostCoreLayout({
    cores: cfg.cores,
    channels: cfg.channels,
    layout: cfg.coreLayout,
    pacerCore: cfg.pacerCore < 0 ? undefined : cfg.pacerCore,
    timerCore: cfg.timerCore < 0 ? undefined : cfg.timerCore,
  });
  const text = cfg.gen3SoftirqCores.trim();
  if (text === '') return lay;
  const gen3 = lay.gen3SoftirqCores.map((l) => [...l]);
  const expected = `'gro:c1[,c2[,c3]]' entries separated by ';' with cores in [0, ${cfg.cores - 1}]`;
  for (const entry of text.split(';')) {
    const m = /^\s*(\d+)\s*:\s*(\d+(?:\s*,\s*\d+){0,2})\s*$/.exec(entry);
    if (m === null) throw new ConfigError('gen3-softirq-cores', expected, cfg.gen3SoftirqCores);
    const gro = Number(m[1]);
    const cands = m[2]!.split(',').map((x) => Number(x.trim()));
    if (gro >= cfg.cores || cands.some((c) => c >= cfg.cores)) throw new ConfigError('gen3-softirq-cores', expected, cfg.gen3SoftirqCores);
    gen3[gro] = cands;
  }
  return { ...lay, gen3SoftirqCores: gen3 };
}

/**
 * homa_grant_update_sysctl_deps' fifo_grant_interval on a 1 GHz clock (ns): the link time of
 * fifo_grant_increment bytes at link_mbps x fifo_fraction / 1000, in the kernel's integer steps;
 * 1 s when FIFO grants are off (fraction or increment 0, or less than 1 Mbps for them).
 */
export function fifoGrantIntervalNs(linkMbps: number, fifoFraction: number, increment: number): number {
  const fifoMbps = Math.floor((linkMbps * Math.min(fifoFraction, 500)) / 1000);
  if (fifoMbps <= 0 || increment <= 0) return 1e9;
  const nsPerFifoMbit = Math.floor((1000 * 1e6) / fifoMbps);
  return Math.floor((nsPerFifoMbit * increment * 8) / 1e6);
}

/**
 * max_sched_prio: the highest level below the one whose cutoff covers the longest message
 * (cutoff >= HOMA_MAX_MESSAGE_LENGTH); P0..max_sched_prio carry scheduled data.
 */
export function computeMaxSchedPrio(cutoffs: Int32Array, numPriorities: number): number {
  for (let i = numPriorities - 1; i > 0; i--) {
    if (cutoffs[i]! >= 1_000_000) return i - 1;
  }
  return 0;
}

