/**
 * One host's NIC as seen from one of its cores (the driver side: ndo_start_xmit and the NAPI
 * poll of an RX queue). Every core of the host constructs its own `Nic` handle over the same
 * shared rings. `xmit` is what Homa's output path calls for every packet: it stamps H.T_XMIT,
 * counts the packet in this core's counter row, pushes the slot index into the host's TX ring
 * (many producers) and rings the fabric worker's doorbell in case it is parked; a full TX ring is
 * a counted drop (`tx_ring_full`), the slot goes back to the pool and `xmit` returns false, as a
 * driver that returns NETDEV_TX_BUSY after freeing the skb would. It computes nothing else: the
 * link model lives in the fabric. `pollChannel` is the NAPI owner's side of an RX channel (one
 * batch pop). Nothing here allocates after construction.
 */
import type { EmuConfig } from '../config/config.js';
import type { Doorbells } from '../shm/doorbell.js';
import { column, subLayout, type LayoutDesc } from '../shm/layout.js';
import type { SlabPool } from '../shm/pool.js';
import { MpscRing, SpscRing } from '../shm/ring.js';
import { H, HEADER_WORDS } from '../wire/packet.js';
import { CORE_CTR_STRIDE, CoreCtr, fabricCoreIndex, netChannels, rxRingName, txRingName } from './netdev.js';

export class Nic {
  readonly host: number;
  readonly core: number;
  /** RX channels of this host. */
  readonly channels: number;
  /** [c] = core of this host that owns (polls) channel c. */
  readonly channelOwner: Int32Array;
  private readonly tx: MpscRing;
  private readonly rx: SpscRing[];
  private readonly hdr: Int32Array;
  private readonly pool: SlabPool;
  private readonly ctr: Float64Array;
  private readonly ctrRow: number;
  private readonly doorbells: Doorbells | null;
  private readonly fabricCore: number;
  /** Virtual time: this core's clock and costs, and the per-slot stamps (`pkt.vt`); null in wall mode. */
  private vc: { t: number; costs: { xmitPkt: number; nicTx: number } } | null = null;
  private stamps: Float64Array | null = null;

  /**
   * @param desc the net layout (`subLayout(worldDesc, 'net')` if nested)
   * @param pool this core's handle of the shared packet pool (xmit frees into it on tx_ring_full)
   * @param hdr the packet header column (`pkt.hdr`: HEADER_WORDS words per slot)
   * @param doorbells the runtime's doorbells (to wake a parked fabric), or null (tests)
   */
  constructor(cfg: EmuConfig, sab: SharedArrayBuffer, desc: LayoutDesc, host: number, core: number,
    pool: SlabPool, hdr: Int32Array, doorbells: Doorbells | null) {
    if (!Number.isInteger(host) || host < 0 || host >= cfg.hosts) throw new Error(`nic: host must be in [0, ${cfg.hosts - 1}], got ${host}`);
    if (!Number.isInteger(core) || core < 0 || core >= cfg.cores) throw new Error(`nic: core must be in [0, ${cfg.cores - 1}], got ${core}`);
    this.host = host;
    this.core = core;
    this.channels = netChannels(cfg);
    this.channelOwner = column(sab, desc, 'chanOwner', 'i32').subarray(host * this.channels, (host + 1) * this.channels);
    this.tx = new MpscRing(sab, subLayout(desc, txRingName(host)));
    this.rx = [];
    for (let c = 0; c < this.channels; c++) this.rx.push(new SpscRing(sab, subLayout(desc, rxRingName(host, c))));
    this.hdr = hdr;
    this.pool = pool;
    this.ctr = column(sab, desc, 'coreCtr', 'f64');
    this.ctrRow = (host * cfg.cores + core) * CORE_CTR_STRIDE;
    this.fabricCore = fabricCoreIndex(cfg);
    this.doorbells = doorbells !== null && doorbells.numCores > this.fabricCore ? doorbells : null;
  }

  /**
   * Virtual time: `xmit` charges the IP + driver cost to this core's clock and stamps each packet
   * with the time it leaves the NIC (clock + the profile's nic_tx latency); `pollChannel` takes
   * only packets whose stamp has come.
   */
  attachVirtual(vc: { t: number; costs: { xmitPkt: number; nicTx: number } }, stamps: Float64Array): void {
    this.vc = vc;
    this.stamps = stamps;
  }

  /** Virtual time: the stamp of the oldest packet in channel `ch` (Infinity if empty). */
  rxNextNs(ch: number): number {
    const v = this.rx[ch]!.peek();
    return v < 0 ? Infinity : this.stamps![v]!;
  }

  /**
   * Hands packet `slot` (header complete, H.WIRE_BYTES set) to the NIC. Returns false if the TX
   * ring was full: the packet is then counted as a tx_ring_full drop and its slot is freed, so
   * the caller must not touch it again (Homa's RESEND recovers the data).
   */
  xmit(slot: number, now: number): boolean {
    const hdr = this.hdr;
    const base = slot * HEADER_WORDS;
    const vc = this.vc;
    if (vc !== null) {
      vc.t += vc.costs.xmitPkt;
      this.stamps![slot] = vc.t + vc.costs.nicTx;
      now = vc.t;
    }
    hdr[base + H.T_XMIT] = now | 0;
    const ctr = this.ctr;
    const row = this.ctrRow;
    ctr[row + CoreCtr.XMIT_PKTS]! += 1;
    ctr[row + CoreCtr.XMIT_BYTES]! += hdr[base + H.WIRE_BYTES]!;
    if (!this.tx.push(slot)) {
      ctr[row + CoreCtr.TX_RING_FULL]! += 1;
      this.pool.free(slot);
      return false;
    }
    if (this.doorbells !== null) this.doorbells.ring(this.fabricCore);
    return true;
  }

  /** Packets waiting in the TX ring (a snapshot: the NIC's queue the link has not taken yet). */
  txBacklog(): number {
    return this.tx.size();
  }

  /** Capacity of the TX ring. */
  txCapacity(): number {
    return this.tx.capacity;
  }

  /**
   * NAPI owner of channel `ch` only: pops up to `max` delivered packet slots into `dst`, oldest
   * first; returns the count (0 when the channel is empty).
   */
  pollChannel(ch: number, dst: Int32Array, max: number): number {
    if (this.vc !== null) return this.rx[ch]!.popDue(dst, max, this.stamps!, this.vc.t);
    return this.rx[ch]!.popBatch(dst, max);
  }

  /** Packets waiting in RX channel `ch` (atomic snapshot; cheap enough for hasWork()). */
  rxPending(ch: number): number {
    return this.rx[ch]!.size();
  }

  /** Channels of this host that `core` owns (setup time: allocates). */
  channelsOwnedBy(core: number): number[] {
    const out: number[] = [];
    for (let c = 0; c < this.channels; c++) if (this.channelOwner[c] === core) out.push(c);
    return out;
  }
}

/** Free-function form of `Nic.xmit` for callers that prefer it. */
export function nicXmit(nic: Nic, slot: number, now: number): boolean {
  return nic.xmit(slot, now);
}
