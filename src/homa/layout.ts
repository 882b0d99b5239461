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
import { I32_PER_LINE, LayoutBuilder, type LayoutDesc } from '../shm/layout.js';
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
  // --- RPCs ---
  for (const name of ['state', 'gen', 'id', 'peer', 'dport', 'sock', 'flags', 'error', 'silent', 'bucketNext',
    'doneTicks', 'readyNext', 'outLen', 'outNext', 'outGranted', 'outUnsched', 'outSchedPrio', 'thrNext', 'thrPrev',
    'inLen', 'inRemaining', 'inGranted', 'inUnsched', 'inRecvEnd', 'inNumGaps', 'inHead', 'inTail', 'inPrio',
    'recIncoming', 'grantState', 'activeSlot', 'grantNext', 'grantPrev', 'resends', 'copiers', 'appNeedsLock']) {
    b.add(`rpc.${name}`, 'i32', n);
  }
  b.add('rpc.outInitNs', 'f64', n);
  b.add('rpc.birthNs', 'f64', n);
  b.add('rpc.startNs', 'f64', n);
  /** When SoftIRQ handed the RPC to a waiting thread or queued it as ready (RPC lock; read by the app at pick-up). */
  b.add('rpc.handoffNs', 'f64', n);
  b.add('rpc.outPages', 'i32', n * MAX_BPAGES_PER_MSG);
  b.add('rpc.inPages', 'i32', n * MAX_BPAGES_PER_MSG);
  b.add('rpc.gapStart', 'i32', n * HOMA_MAX_GAPS);
  b.add('rpc.gapEnd', 'i32', n * HOMA_MAX_GAPS);
  for (let h = 0; h < H; h++) b.addAll(`rpcpool.${h}`, poolLayout(z.rpcPool));
  // --- struct homa (per host) ---
  b.add('homa.nextId', 'i32', H * LINE);
  b.add('grant.active', 'i32', H * HOMA_MAX_GRANTS);
  b.add('grant.activeRemaining', 'i32', H * HOMA_MAX_GRANTS);
  b.add('grant.numActive', 'i32', H * LINE);
  b.add('grant.needy', 'i32', H * LINE);
  b.add('grant.totalIncoming', 'i32', H * LINE);
  b.add('grant.listHead', 'i32', H);
  b.add('grant.numGrantable', 'i32', H);
  b.add('grant.fifoTimeNs', 'f64', H);
  b.add('grant.peerActive', 'i32', H * H);
  b.add('pacer.linkIdle', 'i32', H * LINE);
  b.add('pacer.thrCount', 'i32', H * LINE);
  b.add('pacer.thrHead', 'i32', H);
  b.add('pacer.thrTail', 'i32', H);
  b.add('pacer.fifoCount', 'i32', H);
  /** --throttle-insert heap: host h's throttled RPCs as a binary min-heap at [h x rpcsPerHost, ...) (throttle lock). */
  b.add('pacer.heap', 'i32', n);
  // --- peers (host, peer) ---
  b.add('peer.numAcks', 'i32', H * H);
  b.add('peer.ackIds', 'i32', H * H * PEER_ACKS);
  b.add('peer.ackPorts', 'i32', H * H * PEER_ACKS);
  b.add('peer.cutoffVersion', 'i32', H * H);
  b.add('peer.cutoffsSentNs', 'f64', H * H);
  // --- sockets ---
  b.add('sock.port', 'i32', S);
  b.add('sock.readyHead', 'i32', S);
  b.add('sock.readyTail', 'i32', S);
  b.add('sock.numWaiters', 'i32', S);
  b.add('sock.waiters', 'i32', S * HOMA_MAX_THREADS);
  b.add('sock.waiterCores', 'i32', S * HOMA_MAX_THREADS);
  b.add('sock.numRpcs', 'i32', S);
  b.add('sock.cbuckets', 'i32', S * HOMA_RPC_BUCKETS);
  b.add('sock.sbuckets', 'i32', S * HOMA_RPC_BUCKETS);
  // --- app threads ---
  b.add('thr.rpc', 'i32', T);
  b.add('thr.gen', 'i32', T);
  b.add('thr.core', 'i32', T);
  b.add('thr.wake', 'i32', T * LINE);
  /** --wakeup-placement: the host core running the thread, 1 while it sleeps and may be moved, when it went to sleep. */
  b.add('thr.owner', 'i32', T);
  b.add('thr.parked', 'i32', T);
  b.add('thr.sleptNs', 'f64', T);
  // --- buffers and packets ---
  for (let h = 0; h < H; h++) b.addAll(`bpage.pool.${h}`, poolLayout(z.pagePool));
  b.add('bpage.bytes', 'u8', H * z.pagesPerHost * BPAGE_BYTES);
  b.add('pkt.hdr', 'i32', z.packetSlots * HEADER_WORDS);
  /** Virtual time: per packet slot, the stamp of its current hop (sent, delivered, handed to SoftIRQ). */
  b.add('pkt.vt', 'f64', z.packetSlots);
  b.add('pkt.data', 'u8', z.packetSlots * z.payloadBytes);
  b.addAll('pkt.pool', poolLayout(z.pktPool));
  for (let c = 0; c < z.totalCores; c++) b.addAll(`softirq.${c}`, ringLayout(z.ringSlots, 'mpsc'));
  for (let h = 0; h < H; h++) b.addAll(`off.${h}`, offloadLayout(cfg.cores));
  // --- counters and results ---
  b.add('metrics', 'f64', z.totalCores * NUM_METRICS);
  b.add('app.results', 'f64', z.totalCores * APP_RESULT_FIELDS);
  /** Finite echo clients not yet done (atomic); the last one sets the runtime's WORLD_DONE. */
  b.add('app.clientsLeft', 'i32', LINE);
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
