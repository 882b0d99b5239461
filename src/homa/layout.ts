/**
 * Sizing and shared-memory layout of the Homa world (the emulator's homa_impl.h): every table
 * the protocol uses — the per-host "struct homa" (grant state, pacer state, peers, sockets),
 * the RPC slots as struct-of-arrays columns, the message buffer pages, the cluster-wide packet
 * pool, the per-core SoftIRQ backlog rings, per-core offload state, per-thread interest, wake
 * and (for wake-up migration) owner/parked words, counters and app results —
 * is computed here from the validated config by one documented function (`homaLayout`) and
 * allocated once at start. Nothing is allocated per packet or per RPC afterwards; every table
 * has a limit, and a full table is a counted error. The constants below are the emulator's
 * fixed limits (kernel names where there is one); `homaSizes` says how each size follows from
 * the config, and refuses configurations that would not fit with a coded ESIZING error.
 */
import type { EmuConfig } from '../config/config.js';
import { UserError } from '../config/errors.js';
import { I32_PER_LINE, LayoutBuilder, column, type LayoutDesc } from '../shm/layout.js';
import { poolLayout, type PoolSpec } from '../shm/pool.js';
import { ringLayout } from '../shm/ring.js';
import { netLayout } from '../net/netdev.js';
import { offloadLayout } from '../policy/offload.js';
import { HEADER_WORDS, maxSegBytes } from '../wire/packet.js';
import { NUM_METRICS } from './metrics.js';

/** HOMA_MAX_MESSAGE_LENGTH: longer messages are refused at send (EMSGSIZE). */
export const HOMA_MAX_MESSAGE_LENGTH = 1_000_000;
/** Receive/transmit buffer pages ("bpages") are 64 KiB, as in homa_pool.c. */
export const BPAGE_SHIFT = 16;
export const BPAGE_BYTES = 1 << BPAGE_SHIFT;
/** Pages one message may use: ceil(1,000,000 / 65,536). */
export const MAX_BPAGES_PER_MSG = 16;
/** Sockets (bound ports) per host. */
export const HOMA_MAX_SOCKETS = 16;
/**
 * RPC hash buckets per socket per table (client and server). The kernel has 1024; we keep 256
 * so the lock table stays small at 64 hosts x 16 sockets (each lock is a 64-byte line). The
 * hash is the kernel's, `(id >> 1) & (HOMA_RPC_BUCKETS - 1)`.
 */
export const HOMA_RPC_BUCKETS = 256;
/** Gaps ([start, end) ranges of missing bytes) tracked per incoming message. */
export const HOMA_MAX_GAPS = 8;
/** HOMA_MAX_GRANTS: slots of active_rpcs. */
export const HOMA_MAX_GRANTS = 8;
/** App threads per host (each has an interest and a wake word). */
export const HOMA_MAX_THREADS = 64;
/** The per-peer ack buffer (HOMA_MAX_ACKS_PER_PKT). */
export const PEER_ACKS = 5;
/** Per-core cache sizes of the slab pools. */
const PKT_CACHE = 64;
const RPC_CACHE = 16;
const PAGE_CACHE = 4;

export interface HomaSizes {
  hosts: number;
  cores: number;
  /** hosts * cores (the fabric is the next index). */
  totalCores: number;
  rpcsPerHost: number;
  pagesPerHost: number;
  packetSlots: number;
  /** DATA payload bytes per packet (maxSegBytes(mtu)) = bytes per packet slot. */
  payloadBytes: number;
  ringSlots: number;
  pktPool: PoolSpec;
  rpcPool: PoolSpec;
  pagePool: PoolSpec;
}

/** Largest packet pool the default sizing picks. */
const MAX_DEFAULT_PACKET_SLOTS = 1 << 18;
/** Bytes of message pages (and, separately, of packet slots) we accept in all. */
const MAX_PAGE_BYTES = 2 * 1024 * 1024 * 1024;
/** Pages and packets together, leaving room in the 4 GiB buffer for everything else. */
const MAX_TOTAL_BYTES = 3.5 * 1024 * 1024 * 1024;

/**
 * How big everything is:
 * - RPC slots per host: `maxRpcsPerHost` (client and server RPCs together).
 * - message pages per host: `bpagesPerHost` x 64 KiB (a message takes ceil(len / 64 KiB)).
 * - packet slots (one pool for the cluster; packets cross hosts): `packetSlots`, or when 0,
 *   hosts x cores x ringSlots clamped to [16384, 262144]; each slot is HEADER_WORDS words of
 *   header and maxSegBytes(mtu) bytes of payload.
 * - one SoftIRQ backlog ring (MPSC, `ringSlots`) per core; batches travel as chain heads.
 */
export function homaSizes(cfg: EmuConfig): HomaSizes {
  const totalCores = cfg.hosts * cfg.cores;
  const payloadBytes = maxSegBytes(cfg.mtu);
  const packetSlots = cfg.packetSlots > 0 ? cfg.packetSlots
    : Math.min(MAX_DEFAULT_PACKET_SLOTS, Math.max(16384, totalCores * cfg.ringSlots));
  const pageBytes = cfg.hosts * cfg.bpagesPerHost * BPAGE_BYTES;
  if (pageBytes > MAX_PAGE_BYTES) {
    throw new UserError('ESIZING', `--bpages-per-host: hosts ${cfg.hosts} x ${cfg.bpagesPerHost} pages x 64 KiB = ${pageBytes} bytes; `
      + `accepted: at most ${MAX_PAGE_BYTES} bytes in all; got ${cfg.bpagesPerHost}`);
  }
  const pktBytes = packetSlots * (payloadBytes + HEADER_WORDS * 4);
  if (pktBytes > MAX_PAGE_BYTES) {
    throw new UserError('ESIZING', `--packet-slots: ${packetSlots} slots x ${payloadBytes + HEADER_WORDS * 4} bytes = ${pktBytes} bytes; `
      + `accepted: at most ${MAX_PAGE_BYTES}; got ${cfg.packetSlots}`);
  }
  if (pageBytes + pktBytes > MAX_TOTAL_BYTES) {
    throw new UserError('ESIZING', `--bpages-per-host / --packet-slots: pages (${pageBytes} bytes) and packets (${pktBytes} bytes) `
      + `need more than the ${MAX_TOTAL_BYTES} bytes one shared buffer may hold; reduce --bpages-per-host or --packet-slots`);
  }
  return {
    hosts: cfg.hosts,
    cores: cfg.cores,
    totalCores,
    rpcsPerHost: cfg.maxRpcsPerHost,
    pagesPerHost: cfg.bpagesPerHost,
    packetSlots,
    payloadBytes,
    ringSlots: cfg.ringSlots,
    pktPool: { slots: packetSlots, cores: totalCores + 1, cacheSlots: PKT_CACHE },
    rpcPool: { slots: cfg.maxRpcsPerHost, cores: cfg.cores, cacheSlots: RPC_CACHE },
    pagePool: { slots: cfg.bpagesPerHost, cores: cfg.cores, cacheSlots: PAGE_CACHE },
  };
}

/** Int32 stride that gives a cross-core atomic word its own cache line. */
export const LINE = I32_PER_LINE;

/** The RPC fields kept as one Int32 column each (`rpc.<field>`). */
const RPC_I32_FIELDS = [
  'state', 'gen', 'id', 'peer', 'dport', 'sock', 'flags', 'error', 'silent', 'bucketNext', 'doneTicks',
  'readyNext', 'outLen', 'outNext', 'outGranted', 'outUnsched', 'outSchedPrio', 'thrNext', 'thrPrev', 'inLen',
  'inRemaining', 'inGranted', 'inUnsched', 'inRecvEnd', 'inNumGaps', 'inHead', 'inTail', 'inPrio',
  'recIncoming', 'grantState', 'activeSlot', 'grantNext', 'grantPrev', 'resends', 'copiers', 'appNeedsLock',
] as const;

/**
 * Every fixed column of the Homa world and its element type: the one list the layout is built
 * from and `Homa`'s typed views are bound by (`homaColumn`), so a renamed or retyped column is a
 * compile error wherever it is used, not a lookup that fails at run time.
 */
export const HOMA_COLUMNS = {
  'rpc.state': 'i32',
  'rpc.gen': 'i32',
  'rpc.id': 'i32',
  'rpc.peer': 'i32',
  'rpc.dport': 'i32',
  'rpc.sock': 'i32',
  'rpc.flags': 'i32',
  'rpc.error': 'i32',
  'rpc.silent': 'i32',
  'rpc.bucketNext': 'i32',
  'rpc.doneTicks': 'i32',
  'rpc.readyNext': 'i32',
  'rpc.outLen': 'i32',
  'rpc.outNext': 'i32',
  'rpc.outGranted': 'i32',
  'rpc.outUnsched': 'i32',
  'rpc.outSchedPrio': 'i32',
  'rpc.thrNext': 'i32',
  'rpc.thrPrev': 'i32',
  'rpc.inLen': 'i32',
  'rpc.inRemaining': 'i32',
  'rpc.inGranted': 'i32',
  'rpc.inUnsched': 'i32',
  'rpc.inRecvEnd': 'i32',
  'rpc.inNumGaps': 'i32',
  'rpc.inHead': 'i32',
  'rpc.inTail': 'i32',
  'rpc.inPrio': 'i32',
  'rpc.recIncoming': 'i32',
  'rpc.grantState': 'i32',
  'rpc.activeSlot': 'i32',
  'rpc.grantNext': 'i32',
  'rpc.grantPrev': 'i32',
  'rpc.resends': 'i32',
  'rpc.copiers': 'i32',
  'rpc.appNeedsLock': 'i32',
  'rpc.outInitNs': 'f64',
  'rpc.birthNs': 'f64',
  'rpc.startNs': 'f64',
  'rpc.handoffNs': 'f64',
  'rpc.outPages': 'i32',
  'rpc.inPages': 'i32',
  'rpc.gapStart': 'i32',
  'rpc.gapEnd': 'i32',
  'homa.nextId': 'i32',
  'grant.active': 'i32',
  'grant.activeRemaining': 'i32',
  'grant.numActive': 'i32',
  'grant.needy': 'i32',
  'grant.totalIncoming': 'i32',
  'grant.listHead': 'i32',
  'grant.numGrantable': 'i32',
  'grant.fifoTimeNs': 'f64',
  'grant.peerActive': 'i32',
  'pacer.linkIdle': 'i32',
  'pacer.thrCount': 'i32',
  'pacer.thrSinceNs': 'f64',
  'pacer.thrHead': 'i32',
  'pacer.thrTail': 'i32',
  'pacer.fifoCount': 'i32',
  'pacer.heap': 'i32',
  'peer.numAcks': 'i32',
  'peer.ackIds': 'i32',
  'peer.ackPorts': 'i32',
  'peer.cutoffVersion': 'i32',
  'peer.cutoffsSentNs': 'f64',
  'sock.port': 'i32',
  'sock.readyHead': 'i32',
  'sock.readyTail': 'i32',
  'sock.numWaiters': 'i32',
  'sock.waiters': 'i32',
  'sock.waiterCores': 'i32',
  'sock.numRpcs': 'i32',
  'sock.cbuckets': 'i32',
  'sock.sbuckets': 'i32',
  'thr.rpc': 'i32',
  'thr.gen': 'i32',
  'thr.core': 'i32',
  'thr.wake': 'i32',
  'thr.wakeNs': 'f64',
  'thr.owner': 'i32',
  'thr.parked': 'i32',
  'thr.sleptNs': 'f64',
  'bpage.bytes': 'u8',
  'pkt.hdr': 'i32',
  'pkt.vt': 'f64',
  'pkt.data': 'u8',
  'metrics': 'f64',
  'app.results': 'f64',
  'app.clientsLeft': 'i32',
} as const satisfies Record<string, 'i32' | 'f64' | 'u8'>;

export type HomaColumn = keyof typeof HOMA_COLUMNS;
/** The columns of one element type. */
export type HomaColumnOf<T extends 'i32' | 'f64' | 'u8'> = { [K in HomaColumn]: (typeof HOMA_COLUMNS)[K] extends T ? K : never }[HomaColumn];

const VIEW_TYPES = { i32: Int32Array, f64: Float64Array, u8: Uint8Array } as const;

/** Typed view of Homa column `name` (its element type comes from `HOMA_COLUMNS`). */
export function homaColumn<K extends HomaColumn>(sab: SharedArrayBuffer, desc: LayoutDesc, name: K):
  InstanceType<(typeof VIEW_TYPES)[(typeof HOMA_COLUMNS)[K]]> {
  return column(sab, desc, name, HOMA_COLUMNS[name]) as InstanceType<(typeof VIEW_TYPES)[(typeof HOMA_COLUMNS)[K]]>;
}

/**
 * The Homa world's layout. Indices: n = hosts x rpcsPerHost RPC slots (global RPC index
 * g = host x rpcsPerHost + slot), S = hosts x HOMA_MAX_SOCKETS sockets, T = hosts x
 * HOMA_MAX_THREADS app threads. Who writes what (everyone may read; "lock" = held while writing):
 * - `rpc.*` (one column per field of homa_rpc): the RPC's bucket lock. Exceptions: `flags`
 *   (PKTS_READY, DELIVERED, FREE_PENDING, THROTTLED: written only under the RPC lock, so with
 *   plain read-modify-writes, read atomically by those that do not hold it); `appNeedsLock`
 *   (atomic add/sub by app threads that spin for the RPC lock, never reset);
 *   `grantState`/`activeSlot`/`grantNext`/`grantPrev` (grant lock); `thrNext`/`thrPrev`
 *   (throttle lock); `readyNext` (socket lock; -2 = not on the ready list); `bucketNext` (the bucket lock of its chain);
 *   message bytes in `outPages` before msgOutInit and in `inPages` during copy-out belong to
 *   the one app thread that fills/copies them (`copiers` counts the latter).
 * - `grant.*` per host: the grant lock, except `totalIncoming` and `needy` (atomics, written on
 *   the lock-free fast path) and `activeRemaining[s]` (the active RPC's lock).
 * - `pacer.linkIdle` (atomic ns32, CAS by any core), `pacer.thrCount` (atomic), the other
 *   `pacer.*` (throttle lock; `fifoCount` under the pacer trylock).
 * - `peer.*` per (host, peer): the peer_ack lock; `cutoffVersion`/`cutoffsSentNs` plain stores
 *   (a stale read only repeats a CUTOFFS packet).
 * - `sock.*`: the socket lock (ready list, waiters, numRpcs), `port` by the main thread at
 *   init, `cbuckets`/`sbuckets` by the bucket lock of each bucket.
 * - `thr.rpc`/`thr.gen` (atomics: a hand-off writes under the socket lock, the thread reads and
 *   clears), `thr.wake` (atomics: hand-off sets, the core loop clears), `thr.core` (init).
 *   Wake-up migration (--wakeup-placement): `thr.owner` (the host core that runs the thread:
 *   init, then atomics by the hand-off that moves it), `thr.parked` (atomics: 1 stored by the
 *   running replica as it goes to sleep, cleared when it wakes, or claimed 1 -> 0 by the
 *   hand-off that may move it), `thr.sleptNs` (the sleeping replica, before it stores parked).
 * - `homa.nextId` (atomic add), pools (src/shm/pool.ts), `softirq.<c>` rings (MPSC: every NAPI
 *   core of the host produces, core c consumes), `off.<h>` (src/policy/offload.ts),
 *   `metrics` and `app.results` (row per core, written only by that core), `app.clientsLeft`
 *   (atomic), `net` (src/net).
 */
export function homaLayout(cfg: EmuConfig): LayoutDesc {
  const z = homaSizes(cfg);
  const H = cfg.hosts;
  const n = H * z.rpcsPerHost;
  const S = H * HOMA_MAX_SOCKETS;
  const T = H * HOMA_MAX_THREADS;
  const b = new LayoutBuilder();
  /** Adds column `name` with the element type the column table gives it. */
  const add = (name: HomaColumn, length: number): void => { b.add(name, HOMA_COLUMNS[name], length); };
  // --- RPCs ---
  for (const name of RPC_I32_FIELDS) add(`rpc.${name}`, n);
  add('rpc.outInitNs', n);
  add('rpc.birthNs', n);
  add('rpc.startNs', n);
  /** When SoftIRQ handed the RPC to a waiting thread or queued it as ready (RPC lock; read by the app at pick-up). */
  add('rpc.handoffNs', n);
  add('rpc.outPages', n * MAX_BPAGES_PER_MSG);
  add('rpc.inPages', n * MAX_BPAGES_PER_MSG);
  add('rpc.gapStart', n * HOMA_MAX_GAPS);
  add('rpc.gapEnd', n * HOMA_MAX_GAPS);
  for (let h = 0; h < H; h++) b.addAll(`rpcpool.${h}`, poolLayout(z.rpcPool));
  // --- struct homa (per host) ---
  add('homa.nextId', H * LINE);
  add('grant.active', H * HOMA_MAX_GRANTS);
  add('grant.activeRemaining', H * HOMA_MAX_GRANTS);
  add('grant.numActive', H * LINE);
  add('grant.needy', H * LINE);
  add('grant.totalIncoming', H * LINE);
  add('grant.listHead', H);
  add('grant.numGrantable', H);
  add('grant.fifoTimeNs', H);
  add('grant.peerActive', H * H);
  add('pacer.linkIdle', H * LINE);
  add('pacer.thrCount', H * LINE);
  /** Virtual time: when host h's throttled list last went from empty to non-empty (the adder's clock). */
  add('pacer.thrSinceNs', H);
  add('pacer.thrHead', H);
  add('pacer.thrTail', H);
  add('pacer.fifoCount', H);
  /** --throttle-insert heap: host h's throttled RPCs as a binary min-heap at [h x rpcsPerHost, ...) (throttle lock). */
  add('pacer.heap', n);
  // --- peers (host, peer) ---
  add('peer.numAcks', H * H);
  add('peer.ackIds', H * H * PEER_ACKS);
  add('peer.ackPorts', H * H * PEER_ACKS);
  add('peer.cutoffVersion', H * H);
  add('peer.cutoffsSentNs', H * H);
  // --- sockets ---
  add('sock.port', S);
  add('sock.readyHead', S);
  add('sock.readyTail', S);
  add('sock.numWaiters', S);
  add('sock.waiters', S * HOMA_MAX_THREADS);
  add('sock.waiterCores', S * HOMA_MAX_THREADS);
  add('sock.numRpcs', S);
  add('sock.cbuckets', S * HOMA_RPC_BUCKETS);
  add('sock.sbuckets', S * HOMA_RPC_BUCKETS);
  // --- app threads ---
  add('thr.rpc', T);
  add('thr.gen', T);
  add('thr.core', T);
  add('thr.wake', T * LINE);
  /** Virtual time: the waker's clock when it set the thread's wake word (the wake-up's stamp). */
  add('thr.wakeNs', T);
  /** --wakeup-placement: the host core running the thread, 1 while it sleeps and may be moved, when it went to sleep. */
  add('thr.owner', T);
  add('thr.parked', T);
  add('thr.sleptNs', T);
  // --- buffers and packets ---
  for (let h = 0; h < H; h++) b.addAll(`bpage.pool.${h}`, poolLayout(z.pagePool));
  add('bpage.bytes', H * z.pagesPerHost * BPAGE_BYTES);
  add('pkt.hdr', z.packetSlots * HEADER_WORDS);
  /** Virtual time: per packet slot, the stamp of its current hop (sent, delivered, handed to SoftIRQ). */
  add('pkt.vt', z.packetSlots);
  add('pkt.data', z.packetSlots * z.payloadBytes);
  b.addAll('pkt.pool', poolLayout(z.pktPool));
  for (let c = 0; c < z.totalCores; c++) b.addAll(`softirq.${c}`, ringLayout(z.ringSlots, 'mpsc'));
  for (let h = 0; h < H; h++) b.addAll(`off.${h}`, offloadLayout(cfg.cores));
  // --- counters and results ---
  add('metrics', z.totalCores * NUM_METRICS);
  add('app.results', z.totalCores * APP_RESULT_FIELDS);
  /** Finite echo clients not yet done (atomic); the last one sets the runtime's WORLD_DONE. */
  add('app.clientsLeft', LINE);
  b.addAll('net', netLayout(cfg));
  return b.build();
}

/** Per-core app result fields (`app.results`, f64, row = global core; written only by the apps of that core). */
export const AppResult = {
  COMPLETED: 0,
  ERRORS: 1,
  MISMATCHES: 2,
  RTT_SUM_NS: 3,
  RTT_MAX_NS: 4,
  BYTES: 5,
  ERR_ENOTCONN: 6,
  ERR_ETIMEDOUT: 7,
  ERR_EMSGSIZE: 8,
  ERR_ENOMEM: 9,
  SERVED: 10,
} as const;
export const APP_RESULT_FIELDS = 16;
