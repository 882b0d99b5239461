/**
 * The fabric worker: every host's link and one output-queued switch, as a kernel context that
 * runs on its own worker (role KTHREAD). Each `run(now)` (1) takes packets from every host's NIC
 * TX ring in batches, in ring order, and serialises them on the sender's uplink at `linkMbps`
 * (departure = max(now, linkFree) + wireBytes*8/linkMbps µs, stretched by `dilation`); a NIC
 * takes packets only while its uplink is committed less than NIC_TX_LOOKAHEAD_USECS ahead, so a
 * backlog stays visible in (and can fill) the TX ring as on a real NIC; (2) replays, in time
 * order up to `now`, the arrivals at the switch (half the one-way propagation delay after
 * departure) and the starts of transmission at each receiver's egress port: 8 strict-priority
 * FIFO queues (H.PRIORITY, 7 highest) sharing a limit of `switchQueuePkts` waiting packets
 * (overflow is a counted drop), served one packet at a time at the receiver's link rate
 * (store-and-forward, non-preemptive; an arrival at the very instant a port frees up competes
 * for it); optional random loss (`lossRate`, seeded from `seed`) hits packets as they reach the
 * switch; (3) delivers every packet whose time has come (egress end + the other half of the
 * propagation delay) into the receiving NIC's RX channel chosen by RSS, stamping H.T_NIC_RX
 * (ns32 of the actual delivery time) and H.CHANNEL, and rings the doorbell of each owner core it
 * fed (a no-op unless that core is parked). A full RX channel is a counted drop. All queues are
 * intrusive lists threaded through worker-private per-slot arrays allocated at start; dropped
 * packets go back to the packet pool, and `stop` frees and counts (`stopped_in_flight`) whatever
 * is still inside the network, so every packet slot is accounted for. The egress depth that the
 * limit and the depth statistics count is the number of packets waiting (not the one being
 * serialised).
 */
import { Rng } from '../util/rng.js';
import { earlierThenLowerId, heapPop, heapPush } from '../util/heap.js';
import { usToWallNs, type EmuConfig } from '../config/config.js';
import { Role, type CoreAccount, type KernelContext } from '../cpu/context.js';
import type { Doorbells } from '../shm/doorbell.js';
import { column, subLayout, type LayoutDesc } from '../shm/layout.js';
import type { SlabPool } from '../shm/pool.js';
import { MpscRing, SpscRing } from '../shm/ring.js';
import type { CoreEnv, CoreSetup } from '../cpu/world.js';
import { H, HEADER_WORDS } from '../wire/packet.js';
import {
  DropReason, FabricCtr, NUM_PRIORITIES, PORT_CTR_STRIDE, PortCtr, netChannels, rxRingName, txRingName,
} from './netdev.js';
import { Rss } from './rss.js';

/** Default: how far ahead (emulated µs) a NIC may commit its uplink with packets from its TX ring. */
export const NIC_TX_LOOKAHEAD_USECS = 50;
/** Default: packets taken from one TX ring per batch pop. */
export const FABRIC_TX_BATCH = 64;
/** Default: most packets taken from one TX ring per run() (keeps a pass bounded). */
export const FABRIC_TX_BUDGET = 512;

export interface FabricOptions {
  /**
   * Virtual time: per packet slot, the virtual time stamp (`pkt.vt`). A packet leaves its NIC at
   * max(uplink free, its stamp) instead of the fabric's clock, and its delivery time plus the
   * receiving NIC's latency `nicRxNs` becomes its stamp for the NAPI core.
   */
  stamps?: Float64Array;
  nicRxNs?: number;
  txLookaheadUsecs?: number;
  txBatch?: number;
  txBudget?: number;
}

/** Stream id of the switch's loss draws in `Rng.derive(seed, LOSS_STREAM)` (the fabric's only random stream). */
export const LOSS_STREAM = 0x4c4f5353;

export class Fabric implements KernelContext {
  readonly role = Role.KTHREAD;
  readonly name = 'fabric';
  /** Per slot: when the packet reached (or will reach) the switch, wall ns. Tests and traces read it. */
  readonly arriveSwitchNs: Float64Array;
  /** Per slot: when the packet was (or will be) delivered into its RX channel, wall ns. */
  readonly deliverNs: Float64Array;

  private readonly hosts: number;
  private readonly cores: number;
  private readonly channels: number;
  private readonly hdr: Int32Array;
  private readonly pool: SlabPool;
  private readonly doorbells: Doorbells | null;
  private readonly tx: MpscRing[] = [];
  private readonly rx: SpscRing[] = [];
  private readonly chanOwner: Int32Array;
  private readonly rss: Rss;
  private readonly portCtr: Float64Array;
  private readonly fabCtr: Float64Array;
  private readonly loss: Rng;
  private readonly lossRate: number;
  private readonly queueLimit: number;
  /** Serialisation ns of one byte = serNumer / linkMbps (numerator kept apart for exactness). */
  private readonly serNumer: number;
  private readonly linkMbps: number;
  private readonly halfPropNs: number;
  private readonly lookaheadNs: number;
  private readonly txBudget: number;
  private readonly scratch: Int32Array;
  private readonly stamps: Float64Array | null;
  private readonly nicRxNs: number;

  /** Intrusive list link of every packet slot inside the fabric. */
  private readonly next: Int32Array;
  /** Per sender: uplink list (serialised, not yet at the switch) and when its link frees up. */
  private readonly upHead: Int32Array;
  private readonly upTail: Int32Array;
  private readonly linkFreeNs: Float64Array;
  /** Per egress port (= receiving host) and priority: waiting packets, FIFO. */
  private readonly pqHead: Int32Array;
  private readonly pqTail: Int32Array;
  private readonly portDepth: Int32Array;
  private readonly portFreeNs: Float64Array;
  /** When the port starts its next packet (Infinity while nothing waits). */
  private readonly portReadyNs: Float64Array;
  private readonly depthSinceNs: Float64Array;
  /** Per port: packets serialised, waiting for delivery (FIFO, due times non-decreasing). */
  private readonly wireHead: Int32Array;
  private readonly wireTail: Int32Array;
  /**
   * Pending switch events, the indexed min-heap of util/heap.ts over keys ordered by (time, key):
   * key s < hosts is the arrival of uplink s's head packet, key hosts + d the next transmission
   * start at port d, `eventNs[key]` its time. Each uplink and each port has at most one entry
   * at any moment (an uplink's next arrival is pushed only when its previous one was popped or
   * its list was empty; a port's start only while `portReadyNs` is Infinity or when its previous
   * start was popped), so the keys are unique and 2 * hosts cells suffice. Ordering by key at
   * equal times puts arrivals before starts (a packet arriving as the port frees up competes for
   * it) and lower host numbers first: the replay is deterministic.
   */
  private readonly eventNs: Float64Array;
  private readonly heap: Int32Array;
  private readonly heapPos: Int32Array;
  private heapN = 0;
  /** RX rings fed during this pass (doorbells to ring). */
  private readonly touched: Uint8Array;
  private readonly touchedList: Int32Array;
  private touchedCount = 0;
  /** Virtual time: the earliest stamp delivered during this pass (what the rung cores are lowered to). */
  private touchedMinNs = Infinity;
  private upPkts = 0;
  private queuedPkts = 0;
  private wirePkts = 0;
  private spanStartNs = -1;
  private stopped = false;

  /**
   * @param desc the net layout (`subLayout(worldDesc, 'net')` if nested)
   * @param pool the fabric's handle of the shared packet pool (drops are freed into it)
   * @param hdr the packet header column (`pkt.hdr`); its length fixes the number of slots
   * @param doorbells the runtime's doorbells (to wake parked NAPI cores), or null (tests)
   */
  constructor(cfg: EmuConfig, private readonly sab: SharedArrayBuffer, private readonly desc: LayoutDesc, pool: SlabPool, hdr: Int32Array,
    doorbells: Doorbells | null, opts: FabricOptions = {}) {
    if (hdr.length % HEADER_WORDS !== 0 || hdr.length === 0) {
      throw new Error(`fabric: packet header column of ${hdr.length} words is not a whole number of ${HEADER_WORDS}-word slots`);
    }
    const slots = hdr.length / HEADER_WORDS;
    const hosts = cfg.hosts;
    this.hosts = hosts;
    this.cores = cfg.cores;
    this.channels = netChannels(cfg);
    this.hdr = hdr;
    this.pool = pool;
    this.doorbells = doorbells !== null && doorbells.numCores >= hosts * cfg.cores ? doorbells : null;
    for (let h = 0; h < hosts; h++) {
      this.tx.push(new MpscRing(sab, subLayout(desc, txRingName(h))));
      for (let c = 0; c < this.channels; c++) this.rx.push(new SpscRing(sab, subLayout(desc, rxRingName(h, c))));
    }
    this.chanOwner = column(sab, desc, 'chanOwner', 'i32');
    this.rss = new Rss(hosts, this.channels, cfg.rss);
    this.portCtr = column(sab, desc, 'portCtr', 'f64');
    this.fabCtr = column(sab, desc, 'fabricCtr', 'f64');
    this.loss = Rng.derive(cfg.seed, LOSS_STREAM);
    this.lossRate = cfg.lossRate;
    this.queueLimit = cfg.switchQueuePkts;
    this.serNumer = 8000 * cfg.dilation;
    this.linkMbps = cfg.linkMbps;
    this.halfPropNs = usToWallNs(cfg, cfg.propDelayUsecs) / 2;
    this.lookaheadNs = usToWallNs(cfg, opts.txLookaheadUsecs ?? NIC_TX_LOOKAHEAD_USECS);
    this.txBudget = opts.txBudget ?? FABRIC_TX_BUDGET;
    this.scratch = new Int32Array(opts.txBatch ?? FABRIC_TX_BATCH);
    this.stamps = opts.stamps ?? null;
    this.nicRxNs = opts.nicRxNs ?? 0;

    this.arriveSwitchNs = new Float64Array(slots);
    this.deliverNs = new Float64Array(slots);
    this.next = new Int32Array(slots).fill(-1);
    this.upHead = new Int32Array(hosts).fill(-1);
    this.upTail = new Int32Array(hosts).fill(-1);
    this.linkFreeNs = new Float64Array(hosts);
    this.pqHead = new Int32Array(hosts * NUM_PRIORITIES).fill(-1);
    this.pqTail = new Int32Array(hosts * NUM_PRIORITIES).fill(-1);
    this.portDepth = new Int32Array(hosts);
    this.portFreeNs = new Float64Array(hosts);
    this.portReadyNs = new Float64Array(hosts).fill(Infinity);
    this.depthSinceNs = new Float64Array(hosts);
    this.wireHead = new Int32Array(hosts).fill(-1);
    this.wireTail = new Int32Array(hosts).fill(-1);
    this.eventNs = new Float64Array(2 * hosts);
    this.heap = new Int32Array(2 * hosts).fill(-1);
    this.heapPos = new Int32Array(2 * hosts).fill(-1);
    this.touched = new Uint8Array(hosts * this.channels);
    this.touchedList = new Int32Array(hosts * this.channels);
  }

  /** Wall ns to serialise `wireBytes` at the link rate (dilated). */
  serNs(wireBytes: number): number {
    return (wireBytes * this.serNumer) / this.linkMbps;
  }

  /** Packets inside the fabric (uplinks, egress queues, wire), not counting the TX rings. */
  inFlight(): number {
    return this.upPkts + this.queuedPkts + this.wirePkts;
  }

  /** One pass: take from TX rings, replay switch events up to `now`, deliver what is due. */
  run(now: number, acct?: CoreAccount): number {
    void acct;
    if (this.stopped) return 0;
    if (this.spanStartNs < 0) this.startSpan(now);
    const work = this.pullTx(now) + this.simulate(now) + this.deliver(now);
    if (work > 0) this.fabCtr[FabricCtr.BUSY_PASSES]! += 1;
    return work;
  }

  /** Work now, or soon: a packet in a TX ring or anywhere inside the fabric (the fabric must not park). */
  hasWork(): boolean {
    if (this.upPkts + this.queuedPkts + this.wirePkts > 0) return true;
    for (let h = 0; h < this.hosts; h++) if (this.tx[h]!.size() > 0) return true;
    return false;
  }

  /**
   * Virtual time: the fabric's next event. A waiting TX ring is due now unless its uplink is
   * committed past the lookahead (then when it frees up); otherwise the earliest internal event.
   */
  nextNs(now: number): number {
    let t = this.nextEventNs();
    for (let h = 0; h < this.hosts; h++) {
      const head = this.tx[h]!.peek();
      if (head < 0) continue;
      // When the head packet left its NIC, or when the uplink has room for it.
      const room = this.linkFreeNs[h]! - this.lookaheadNs;
      const stamp = this.stamps !== null ? this.stamps[head]! : now;
      const due = room > stamp ? room : stamp;
      if (due < t) t = due;
    }
    return t;
  }

  /** Earliest internal event (arrival, egress start, delivery), or Infinity if the fabric is empty. */
  nextEventNs(): number {
    let t = this.heapN > 0 ? this.eventNs[this.heap[0]!]! : Infinity;
    for (let h = 0; h < this.hosts; h++) {
      const w = this.wireHead[h]!;
      if (w >= 0 && this.deliverNs[w]! < t) t = this.deliverNs[w]!;
    }
    return t;
  }

  /**
   * Start of the measured window: restarts the queue-depth and link-busy statistics (packet and
   * drop counters are never reset: they must balance over the whole run).
   */
  measureStart(now: number): void {
    this.startSpan(now);
    for (let d = 0; d < this.hosts; d++) {
      const p = d * PORT_CTR_STRIDE;
      this.portCtr[p + PortCtr.MAX_QUEUE_PKTS] = this.portDepth[d]!;
      this.portCtr[p + PortCtr.QUEUE_PKT_NS] = 0;
      this.portCtr[p + PortCtr.UPLINK_BUSY_NS] = 0;
      this.portCtr[p + PortCtr.EGRESS_BUSY_NS] = 0;
    }
  }

  /**
   * Final pass at `now`, then frees every packet still in a TX ring or inside the fabric
   * (counted as stopped_in_flight against its destination), closes the statistics and flushes
   * the fabric's pool cache. Stop the fabric after the cores that transmit.
   */
  stop(now: number): void {
    if (this.stopped) return;
    this.run(now);
    const hdr = this.hdr;
    for (let s = 0; s < this.hosts; s++) {
      const ring = this.tx[s]!;
      for (let n = ring.popBatch(this.scratch, this.scratch.length); n > 0; n = ring.popBatch(this.scratch, this.scratch.length)) {
        for (let i = 0; i < n; i++) {
          const slot = this.scratch[i]!;
          const d = hdr[slot * HEADER_WORDS + H.DST_HOST]!;
          this.drop(d >= 0 && d < this.hosts ? d : s, DropReason.STOPPED_IN_FLIGHT, slot);
        }
      }
      for (let slot = this.upHead[s]!; slot >= 0;) {
        const nx = this.next[slot]!;
        const d = hdr[slot * HEADER_WORDS + H.DST_HOST]!;
        this.drop(d >= 0 && d < this.hosts ? d : s, DropReason.STOPPED_IN_FLIGHT, slot);
        slot = nx;
      }
      this.upHead[s] = -1;
      this.upTail[s] = -1;
    }
    for (let d = 0; d < this.hosts; d++) {
      this.depthChange(d, now, -this.portDepth[d]!);
      for (let q = d * NUM_PRIORITIES; q < (d + 1) * NUM_PRIORITIES; q++) {
        for (let slot = this.pqHead[q]!; slot >= 0;) {
          const nx = this.next[slot]!;
          this.drop(d, DropReason.STOPPED_IN_FLIGHT, slot);
          slot = nx;
        }
        this.pqHead[q] = -1;
        this.pqTail[q] = -1;
      }
      for (let slot = this.wireHead[d]!; slot >= 0;) {
        const nx = this.next[slot]!;
        this.drop(d, DropReason.STOPPED_IN_FLIGHT, slot);
        slot = nx;
      }
      this.wireHead[d] = -1;
      this.wireTail[d] = -1;
      this.portReadyNs[d] = Infinity;
    }
    this.upPkts = 0;
    this.queuedPkts = 0;
    this.wirePkts = 0;
    this.heapN = 0;
    this.heap.fill(-1);
    this.heapPos.fill(-1);
    this.fabCtr[FabricCtr.SPAN_END_NS] = now;
    this.pool.flush();
    this.stopped = true;
  }
  /**
   * After `stop`, when every NAPI core has stopped for good (the runtime stops the fabric last):
   * takes back what the fabric delivered into RX channels that no core will read any more (through
   * fresh consumer handles, since every consumer has stopped), frees those packets and counts them
   * as stopped in flight instead of delivered, so that at the end every packet slot is free.
   * Returns how many it took back. Not part of `stop` because tests keep reading RX channels
   * after stopping the fabric.
   */
  reclaimRx(): number {
    const hdr = this.hdr;
    let taken = 0;
    for (let d = 0; d < this.hosts; d++) {
      for (let ch = 0; ch < this.channels; ch++) {
        const ring = new SpscRing(this.sab, subLayout(this.desc, rxRingName(d, ch)));
        for (let n = ring.popBatch(this.scratch, this.scratch.length); n > 0; n = ring.popBatch(this.scratch, this.scratch.length)) {
          for (let i = 0; i < n; i++) {
            const slot = this.scratch[i]!;
            const base = slot * HEADER_WORDS;
            const p = d * PORT_CTR_STRIDE;
            const prio = hdr[base + H.PRIORITY]!;
            this.portCtr[p + PortCtr.DELIVERED_PKTS + prio]! -= 1;
            this.portCtr[p + PortCtr.DELIVERED_BYTES + prio]! -= hdr[base + H.WIRE_BYTES]!;
            this.drop(d, DropReason.STOPPED_IN_FLIGHT, slot);
            taken++;
          }
        }
      }
    }
    return taken;
  }


  private startSpan(now: number): void {
    this.spanStartNs = now;
    this.fabCtr[FabricCtr.SPAN_START_NS] = now;
    for (let d = 0; d < this.hosts; d++) this.depthSinceNs[d] = now;
  }

  /** Step 1: each NIC takes packets from its TX ring onto its uplink. */
  private pullTx(now: number): number {
    const hdr = this.hdr;
    const scratch = this.scratch;
    let total = 0;
    for (let s = 0; s < this.hosts; s++) {
      let budget = this.txBudget;
      let linkFree = this.linkFreeNs[s]!;
      let busy = 0;
      while (budget > 0 && linkFree - now < this.lookaheadNs) {
        const n = this.tx[s]!.popBatch(scratch, budget < scratch.length ? budget : scratch.length);
        if (n === 0) break;
        budget -= n;
        const stamps = this.stamps;
        for (let i = 0; i < n; i++) {
          const slot = scratch[i]!;
          const ser = this.serNs(hdr[slot * HEADER_WORDS + H.WIRE_BYTES]!);
          const ready = stamps !== null ? stamps[slot]! : now;
          linkFree = (linkFree > ready ? linkFree : ready) + ser;
          busy += ser;
          this.arriveSwitchNs[slot] = linkFree + this.halfPropNs;
          this.next[slot] = -1;
          const tail = this.upTail[s]!;
          if (tail >= 0) {
            this.next[tail] = slot;
          } else {
            this.upHead[s] = slot;
            this.schedule(this.arriveSwitchNs[slot]!, s);
          }
          this.upTail[s] = slot;
        }
        this.upPkts += n;
        total += n;
      }
      this.linkFreeNs[s] = linkFree;
      if (busy > 0) this.portCtr[s * PORT_CTR_STRIDE + PortCtr.UPLINK_BUSY_NS]! += busy;
    }
    if (total > 0) this.fabCtr[FabricCtr.TX_POPPED]! += total;
    return total;
  }

  /** Step 2: switch arrivals and egress starts, in time order, up to `now`. */
  private simulate(now: number): number {
    const hosts = this.hosts;
    let work = 0;
    while (this.heapN > 0) {
      const k = this.heap[0]!;
      const t = this.eventNs[k]!;
      if (t > now) break;
      heapPop(this.heap, 0, this.heapPos, this.heapN--, earlierThenLowerId, this.eventNs);
      if (k < hosts) this.switchArrival(k, t);
      else this.egressStart(k - hosts, t);
      work++;
    }
    return work;
  }

  private switchArrival(s: number, t: number): void {
    const slot = this.upHead[s]!;
    const nx = this.next[slot]!;
    this.upHead[s] = nx;
    if (nx < 0) this.upTail[s] = -1;
    else this.schedule(this.arriveSwitchNs[nx]!, s);
    this.upPkts--;
    const base = slot * HEADER_WORDS;
    const d = this.hdr[base + H.DST_HOST]!;
    const src = this.hdr[base + H.SRC_HOST]!;
    const prio = this.hdr[base + H.PRIORITY]!;
    if (!(d >= 0 && d < this.hosts && src >= 0 && src < this.hosts && prio >= 0 && prio < NUM_PRIORITIES)) {
      throw new Error(`fabric: packet slot ${slot} from host ${s} has src ${src}, dst ${d}, priority ${prio}: `
        + `hosts must be in [0, ${this.hosts - 1}], priority in [0, ${NUM_PRIORITIES - 1}]`);
    }
    if (this.lossRate > 0 && this.loss.nextFloat() < this.lossRate) {
      this.drop(d, DropReason.LOSS, slot);
      return;
    }
    if (this.portDepth[d]! >= this.queueLimit) {
      this.drop(d, DropReason.SWITCH_QUEUE_FULL, slot);
      return;
    }
    this.depthChange(d, t, 1);
    const q = d * NUM_PRIORITIES + prio;
    this.next[slot] = -1;
    const tail = this.pqTail[q]!;
    if (tail >= 0) this.next[tail] = slot;
    else this.pqHead[q] = slot;
    this.pqTail[q] = slot;
    this.queuedPkts++;
    if (this.portReadyNs[d] === Infinity) {
      const free = this.portFreeNs[d]!;
      const ready = free > t ? free : t;
      this.portReadyNs[d] = ready;
      this.schedule(ready, this.hosts + d);
    }
  }

  private egressStart(d: number, start: number): void {
    let q = (d + 1) * NUM_PRIORITIES - 1;
    const first = d * NUM_PRIORITIES;
    while (q >= first && this.pqHead[q]! < 0) q--;
    const slot = this.pqHead[q]!;
    const nx = this.next[slot]!;
    this.pqHead[q] = nx;
    if (nx < 0) this.pqTail[q] = -1;
    this.queuedPkts--;
    this.depthChange(d, start, -1);
    const ser = this.serNs(this.hdr[slot * HEADER_WORDS + H.WIRE_BYTES]!);
    const done = start + ser;
    this.portFreeNs[d] = done;
    this.portCtr[d * PORT_CTR_STRIDE + PortCtr.EGRESS_BUSY_NS]! += ser;
    if (this.portDepth[d]! > 0) {
      this.portReadyNs[d] = done;
      this.schedule(done, this.hosts + d);
    } else {
      this.portReadyNs[d] = Infinity;
    }
    this.deliverNs[slot] = done + this.halfPropNs;
    this.next[slot] = -1;
    const tail = this.wireTail[d]!;
    if (tail >= 0) this.next[tail] = slot;
    else this.wireHead[d] = slot;
    this.wireTail[d] = slot;
    this.wirePkts++;
  }

  /** Step 3: into the RX channels, everything whose delivery time has come. */
  private deliver(now: number): number {
    if (this.wirePkts === 0) return 0;
    const hdr = this.hdr;
    const r = this.channels;
    const stamps = this.stamps;
    let n = 0;
    for (let d = 0; d < this.hosts; d++) {
      let slot = this.wireHead[d]!;
      while (slot >= 0 && this.deliverNs[slot]! <= now) {
        const nx = this.next[slot]!;
        this.wireHead[d] = nx;
        if (nx < 0) this.wireTail[d] = -1;
        this.wirePkts--;
        n++;
        const base = slot * HEADER_WORDS;
        const ch = this.rss.channel(hdr[base + H.SRC_HOST]!, d, hdr[base + H.SPORT]!, hdr[base + H.DPORT]!);
        const at = stamps !== null ? this.deliverNs[slot]! + this.nicRxNs : now;
        hdr[base + H.T_NIC_RX] = at | 0;
        hdr[base + H.CHANNEL] = ch;
        if (stamps !== null) {
          stamps[slot] = at;
          if (at < this.touchedMinNs) this.touchedMinNs = at;
        }
        const prio = hdr[base + H.PRIORITY]!;
        const bytes = hdr[base + H.WIRE_BYTES]!;
        const ringIdx = d * r + ch;
        if (this.rx[ringIdx]!.push(slot)) {
          const p = d * PORT_CTR_STRIDE;
          this.portCtr[p + PortCtr.DELIVERED_PKTS + prio]! += 1;
          this.portCtr[p + PortCtr.DELIVERED_BYTES + prio]! += bytes;
          if (this.touched[ringIdx] === 0) {
            this.touched[ringIdx] = 1;
            this.touchedList[this.touchedCount++] = ringIdx;
          }
        } else {
          this.drop(d, DropReason.RX_RING_FULL, slot);
        }
        slot = nx;
      }
    }
    for (let i = 0; i < this.touchedCount; i++) {
      const ringIdx = this.touchedList[i]!;
      this.touched[ringIdx] = 0;
      if (this.doorbells !== null) {
        const host = (ringIdx / r) | 0;
        if (stamps !== null) this.doorbells.ringAt(host * this.cores + this.chanOwner[ringIdx]!, this.touchedMinNs);
        else this.doorbells.ring(host * this.cores + this.chanOwner[ringIdx]!);
      }
    }
    this.touchedCount = 0;
    this.touchedMinNs = Infinity;
    return n;
  }

  /** Schedules switch event `k` (not pending) at `t`. */
  private schedule(t: number, k: number): void {
    this.eventNs[k] = t;
    heapPush(this.heap, 0, this.heapPos, this.heapN++, k, earlierThenLowerId, this.eventNs);
  }

  private depthChange(d: number, t: number, delta: number): void {
    const p = d * PORT_CTR_STRIDE;
    const since = this.depthSinceNs[d]!;
    if (t > since) {
      this.portCtr[p + PortCtr.QUEUE_PKT_NS]! += this.portDepth[d]! * (t - since);
      this.depthSinceNs[d] = t;
    }
    const depth = this.portDepth[d]! + delta;
    this.portDepth[d] = depth;
    if (depth > this.portCtr[p + PortCtr.MAX_QUEUE_PKTS]!) this.portCtr[p + PortCtr.MAX_QUEUE_PKTS] = depth;
  }

  private drop(d: number, reason: number, slot: number): void {
    this.portCtr[d * PORT_CTR_STRIDE + PortCtr.DROPS + reason]! += 1;
    this.pool.free(slot);
  }
}

/**
 * The fabric worker's CoreSetup for a world's `setupFabric`: the fabric as the only context,
 * measure-start and stop wired to it. `netDesc` is the net layout inside the world's layout
 * (e.g. `subLayout(env.desc, 'net')`); `pool` is the fabric's handle of the shared packet pool
 * (its core index is the world's choice).
 */
export function fabricCoreSetup(env: CoreEnv, netDesc: LayoutDesc, pool: SlabPool, hdr: Int32Array,
  opts?: FabricOptions): CoreSetup & { fabric: Fabric } {
  const fabric = new Fabric(env.cfg, env.sab, netDesc, pool, hdr, env.doorbells, opts);
  return {
    fabric,
    contexts: [fabric],
    apps: [],
    onMeasureStart: (now: number) => fabric.measureStart(now),
    onStop: (now: number) => fabric.stop(now),
  };
}
