/**
 * The shared memory of the emulated network (the net_device side of every host): per host one
 * NIC TX ring (an MpscRing: every core of the host transmits into it, the fabric worker is the
 * only consumer) and R RX channels (SpscRing each: the fabric produces, the NAPI core that owns
 * the channel consumes), the channel -> owner-core map, and the counters. This file sizes it
 * (`netLayout`, with a coded ESIZING error naming the knobs when it would be too large),
 * initialises it on the main thread (`initNet`) and reads the counters back after a run
 * (`readNetStats`). Ownership of every counter column is written next to it: per-core rows are
 * written only by that core (plain writes), everything else only by the fabric worker; the main
 * thread reads them after every worker stopped. The invariant the stats check is that every
 * packet handed to a NIC was either delivered into an RX channel or dropped for a named reason.
 */
import type { EmuConfig } from '../config/config.js';
import { UserError } from '../config/errors.js';
import { CACHE_LINE_BYTES, LayoutBuilder, column, subLayout, type LayoutDesc } from '../shm/layout.js';
import { resetRing, ringLayout } from '../shm/ring.js';

/** Switch priority levels (header word H.PRIORITY, 7 highest). */
export const NUM_PRIORITIES = 8;

/** Why a packet handed to a NIC never reached an RX channel. */
export const DropReason = {
  /** Random loss injected by the switch (`lossRate`). */
  LOSS: 0,
  /** The receiver's egress port already held `switchQueuePkts` packets. */
  SWITCH_QUEUE_FULL: 1,
  /** The RX channel chosen by RSS was full at delivery. */
  RX_RING_FULL: 2,
  /** The sender's TX ring was full (counted by the transmitting core). */
  TX_RING_FULL: 3,
  /** Still inside the network (TX ring, link, switch, wire) when the fabric stopped. */
  STOPPED_IN_FLIGHT: 4,
} as const;
export const DROP_REASON_NAMES = ['loss', 'switch_queue_full', 'rx_ring_full', 'tx_ring_full', 'stopped_in_flight'] as const;
export const NUM_DROP_REASONS = DROP_REASON_NAMES.length;
export type DropReasonName = (typeof DROP_REASON_NAMES)[number];

const F64_PER_LINE = CACHE_LINE_BYTES / 8;

/**
 * Column `coreCtr` (f64), one cache line per emulated core (host * cores + core), written only
 * by that core in `Nic.xmit`.
 */
export const CoreCtr = { XMIT_PKTS: 0, XMIT_BYTES: 1, TX_RING_FULL: 2 } as const;
export const CORE_CTR_STRIDE = F64_PER_LINE;

/**
 * Column `portCtr` (f64), one row per host, written only by the fabric. Drops are charged to
 * the destination host (its egress port, its RX channels); DELIVERED_* are indexed by priority.
 */
export const PortCtr = {
  /** Packets delivered into the host's RX channels, [DELIVERED_PKTS + priority]. */
  DELIVERED_PKTS: 0,
  /** Wire bytes delivered, [DELIVERED_BYTES + priority]. */
  DELIVERED_BYTES: NUM_PRIORITIES,
  /** Fabric drops by reason, [DROPS + DropReason] (TX_RING_FULL stays 0 here). */
  DROPS: 2 * NUM_PRIORITIES,
  /** Largest number of packets waiting at the host's egress port. */
  MAX_QUEUE_PKTS: 2 * NUM_PRIORITIES + NUM_DROP_REASONS,
  /** Integral of the egress-port depth over time (packet * ns) during the measured span. */
  QUEUE_PKT_NS: 2 * NUM_PRIORITIES + NUM_DROP_REASONS + 1,
  /** ns the host's uplink spent serialising (sender side) during the measured span. */
  UPLINK_BUSY_NS: 2 * NUM_PRIORITIES + NUM_DROP_REASONS + 2,
  /** ns the host's egress port spent serialising (receiver side) during the measured span. */
  EGRESS_BUSY_NS: 2 * NUM_PRIORITIES + NUM_DROP_REASONS + 3,
} as const;
export const PORT_CTR_STRIDE = Math.ceil((PortCtr.EGRESS_BUSY_NS + 1) / F64_PER_LINE) * F64_PER_LINE;

/** Column `fabricCtr` (f64), written only by the fabric. */
export const FabricCtr = {
  /** Start of the measured span (first run, or measureStart), ns. */
  SPAN_START_NS: 0,
  /** stop() time, ns (0 while running). */
  SPAN_END_NS: 1,
  /** run() calls that did some work. */
  BUSY_PASSES: 2,
  /** Packets popped from TX rings. */
  TX_POPPED: 3,
} as const;
const FABRIC_CTR_WORDS = F64_PER_LINE;

/** How much shared memory the net may take before we refuse the configuration. */
export const NET_MAX_BYTES = 1024 * 1024 * 1024;

/** RX channels per host: `channels`, or one per core when it is 0. */
export function netChannels(cfg: EmuConfig): number {
  return cfg.channels === 0 ? cfg.cores : cfg.channels;
}

/** Global core index of the fabric worker (after every host's cores), as in CoreEnv. */
export function fabricCoreIndex(cfg: EmuConfig): number {
  return cfg.hosts * cfg.cores;
}

export function txRingName(host: number): string {
  return `tx.${host}`;
}

export function rxRingName(host: number, channel: number): string {
  return `rx.${host}.${channel}`;
}

/**
 * Layout of the whole network (nest it with `LayoutBuilder.addAll('net', netLayout(cfg))` and
 * hand `subLayout(desc, 'net')` to the functions here). Rings: `tx.<h>.*` (MPSC, `ringSlots`),
 * `rx.<h>.<c>.*` (SPSC, `ringSlots`); `chanOwner` (i32, [host * R + c] = owning core of the
 * host, written by the main thread before workers start); counters as documented above.
 */
export function netLayout(cfg: EmuConfig): LayoutDesc {
  const r = netChannels(cfg);
  const ringBytes = (cfg.hosts * (2 * cfg.ringSlots + r * cfg.ringSlots)) * 4;
  if (ringBytes > NET_MAX_BYTES) {
    throw new UserError('ESIZING',
      `--ring-slots: the NIC rings need ${ringBytes} bytes (hosts ${cfg.hosts} x (2 + channels ${r}) x ring-slots `
      + `${cfg.ringSlots} x 4); accepted: at most ${NET_MAX_BYTES}; reduce --ring-slots, --channels or --hosts`);
  }
  const b = new LayoutBuilder();
  const tx = ringLayout(cfg.ringSlots, 'mpsc');
  const rx = ringLayout(cfg.ringSlots, 'spsc');
  for (let h = 0; h < cfg.hosts; h++) {
    b.addAll(txRingName(h), tx);
    for (let c = 0; c < r; c++) b.addAll(rxRingName(h, c), rx);
  }
  b.add('chanOwner', 'i32', cfg.hosts * r);
  b.add('coreCtr', 'f64', cfg.hosts * cfg.cores * CORE_CTR_STRIDE);
  b.add('portCtr', 'f64', cfg.hosts * PORT_CTR_STRIDE);
  b.add('fabricCtr', 'f64', FABRIC_CTR_WORDS);
  return b.build();
}

/**
 * Main thread, before workers start: empties every ring, zeroes the counters and sets the
 * default channel owners (channel c -> core c % cores). Call `setChannelOwners` afterwards to
 * install another policy's map.
 */
export function initNet(cfg: EmuConfig, sab: SharedArrayBuffer, desc: LayoutDesc): void {
  const r = netChannels(cfg);
  for (let h = 0; h < cfg.hosts; h++) {
    resetRing(sab, subLayout(desc, txRingName(h)), 'mpsc');
    for (let c = 0; c < r; c++) resetRing(sab, subLayout(desc, rxRingName(h, c)), 'spsc');
  }
  const owner = column(sab, desc, 'chanOwner', 'i32');
  for (let h = 0; h < cfg.hosts; h++) for (let c = 0; c < r; c++) owner[h * r + c] = c % cfg.cores;
  column(sab, desc, 'coreCtr', 'f64').fill(0);
  column(sab, desc, 'portCtr', 'f64').fill(0);
  column(sab, desc, 'fabricCtr', 'f64').fill(0);
}

/**
 * Main thread, before workers start: the owning core of each of `host`'s RX channels
 * (`owners[c]`, in [0, cores)). The NAPI code of that core is the only consumer of the channel.
 */
export function setChannelOwners(cfg: EmuConfig, sab: SharedArrayBuffer, desc: LayoutDesc, host: number,
  owners: ArrayLike<number>): void {
  const r = netChannels(cfg);
  if (owners.length !== r) throw new Error(`net: host ${host} has ${r} RX channels, got ${owners.length} owners`);
  const col = column(sab, desc, 'chanOwner', 'i32');
  for (let c = 0; c < r; c++) {
    const o = owners[c]!;
    if (!Number.isInteger(o) || o < 0 || o >= cfg.cores) {
      throw new Error(`net: owner of host ${host} channel ${c} must be a core in [0, ${cfg.cores - 1}], got ${o}`);
    }
    col[host * r + c] = o;
  }
}

/** The owner map of one host as a view ([c] = core). */
export function channelOwners(cfg: EmuConfig, sab: SharedArrayBuffer, desc: LayoutDesc, host: number): Int32Array {
  const r = netChannels(cfg);
  return column(sab, desc, 'chanOwner', 'i32').subarray(host * r, (host + 1) * r);
}

export type DropCounts = Record<DropReasonName, number>;

export interface HostNetStats {
  host: number;
  /** Packets and wire bytes the host's cores handed to its NIC (including tx_ring_full ones). */
  xmitPkts: number;
  xmitBytes: number;
  xmitPktsByCore: number[];
  /** Packets and wire bytes delivered into the host's RX channels, total and per priority. */
  rcvdPkts: number;
  rcvdBytes: number;
  rcvdPktsByPrio: number[];
  rcvdBytesByPrio: number[];
  /** tx_ring_full: packets this host could not send; the others: packets to this host. */
  drops: DropCounts;
  /** Egress port toward this host: deepest and time-weighted mean number of waiting packets. */
  maxQueuePkts: number;
  meanQueuePkts: number;
  /** Share of the measured span the uplink (sending) and the egress port (receiving) were busy. */
  uplinkUtilization: number;
  egressUtilization: number;
}

export interface NetStats {
  hosts: HostNetStats[];
  totals: {
    xmitPkts: number;
    rcvdPkts: number;
    droppedPkts: number;
    drops: DropCounts;
    /** xmitPkts === rcvdPkts + droppedPkts (meaningful after the fabric stopped). */
    balanced: boolean;
  };
  /** Measured span of the fabric in wall ns. */
  spanNs: number;
  /** The same span in emulated µs (wall / dilation). */
  emulatedSpanUsecs: number;
}

function zeroDrops(): DropCounts {
  return { loss: 0, switch_queue_full: 0, rx_ring_full: 0, tx_ring_full: 0, stopped_in_flight: 0 };
}

/** Main thread, after every worker (cores and fabric) stopped: the counters as plain JSON. */
export function readNetStats(cfg: EmuConfig, sab: SharedArrayBuffer, desc: LayoutDesc): NetStats {
  const core = column(sab, desc, 'coreCtr', 'f64');
  const port = column(sab, desc, 'portCtr', 'f64');
  const fab = column(sab, desc, 'fabricCtr', 'f64');
  const spanNs = Math.max(0, fab[FabricCtr.SPAN_END_NS]! - fab[FabricCtr.SPAN_START_NS]!);
  const totals = { xmitPkts: 0, rcvdPkts: 0, droppedPkts: 0, drops: zeroDrops(), balanced: false };
  const hosts: HostNetStats[] = [];
  for (let h = 0; h < cfg.hosts; h++) {
    const drops = zeroDrops();
    let xmitPkts = 0;
    let xmitBytes = 0;
    const xmitPktsByCore: number[] = [];
    for (let c = 0; c < cfg.cores; c++) {
      const row = (h * cfg.cores + c) * CORE_CTR_STRIDE;
      xmitPkts += core[row + CoreCtr.XMIT_PKTS]!;
      xmitBytes += core[row + CoreCtr.XMIT_BYTES]!;
      xmitPktsByCore.push(core[row + CoreCtr.XMIT_PKTS]!);
      drops.tx_ring_full += core[row + CoreCtr.TX_RING_FULL]!;
    }
    const p = h * PORT_CTR_STRIDE;
    const rcvdPktsByPrio: number[] = [];
    const rcvdBytesByPrio: number[] = [];
    for (let q = 0; q < NUM_PRIORITIES; q++) {
      rcvdPktsByPrio.push(port[p + PortCtr.DELIVERED_PKTS + q]!);
      rcvdBytesByPrio.push(port[p + PortCtr.DELIVERED_BYTES + q]!);
    }
    for (let r = 0; r < NUM_DROP_REASONS; r++) {
      if (r === DropReason.TX_RING_FULL) continue;
      drops[DROP_REASON_NAMES[r]!] += port[p + PortCtr.DROPS + r]!;
    }
    const rcvdPkts = rcvdPktsByPrio.reduce((a, b) => a + b, 0);
    hosts.push({
      host: h,
      xmitPkts,
      xmitBytes,
      xmitPktsByCore,
      rcvdPkts,
      rcvdBytes: rcvdBytesByPrio.reduce((a, b) => a + b, 0),
      rcvdPktsByPrio,
      rcvdBytesByPrio,
      drops,
      maxQueuePkts: port[p + PortCtr.MAX_QUEUE_PKTS]!,
      meanQueuePkts: spanNs > 0 ? port[p + PortCtr.QUEUE_PKT_NS]! / spanNs : 0,
      uplinkUtilization: spanNs > 0 ? port[p + PortCtr.UPLINK_BUSY_NS]! / spanNs : 0,
      egressUtilization: spanNs > 0 ? port[p + PortCtr.EGRESS_BUSY_NS]! / spanNs : 0,
    });
    totals.xmitPkts += xmitPkts;
    totals.rcvdPkts += rcvdPkts;
    for (const name of DROP_REASON_NAMES) totals.drops[name] += drops[name];
  }
  for (const name of DROP_REASON_NAMES) totals.droppedPkts += totals.drops[name];
  totals.balanced = totals.xmitPkts === totals.rcvdPkts + totals.droppedPkts;
  return { hosts, totals, spanNs, emulatedSpanUsecs: spanNs / 1000 / cfg.dilation };
}
