/**
 * Test harness for src/net: one SharedArrayBuffer with the net layout, a packet pool and the
 * packet header column, one Nic per host (core 0, each with its own pool handle) and a Fabric,
 * all in this thread, driven with chosen `now` values. Also a helper that sends a packet with
 * given header fields and one that empties an RX channel.
 */
import { resolveConfig, type EmuConfig } from '../../src/config/config.js';
import { Fabric, type FabricOptions } from '../../src/net/fabric.js';
import { initNet, netLayout, rxRingName } from '../../src/net/netdev.js';
import { Nic } from '../../src/net/nic.js';
import { Doorbells } from '../../src/shm/doorbell.js';
import { LayoutBuilder, allocate, column, subLayout, type LayoutDesc } from '../../src/shm/layout.js';
import { SlabPool, auditPool, initPool, poolLayout, type PoolAudit, type PoolSpec } from '../../src/shm/pool.js';
import { SpscRing } from '../../src/shm/ring.js';
import { H, HEADER_WORDS } from '../../src/wire/packet.js';

export interface PktFields {
  dst: number;
  prio?: number;
  wireBytes?: number;
  sport?: number;
  dport?: number;
  /** Free-form tag written into H.OFFSET (tests use it to recognise packets). */
  tag?: number;
}

export class NetHarness {
  readonly cfg: EmuConfig;
  readonly sab: SharedArrayBuffer;
  readonly desc: LayoutDesc;
  readonly net: LayoutDesc;
  readonly poolDesc: LayoutDesc;
  readonly spec: PoolSpec;
  readonly hdr: Int32Array;
  readonly nics: Nic[] = [];
  readonly pools: SlabPool[] = [];
  readonly fabricPool: SlabPool;
  readonly fabric: Fabric;
  readonly doorbells: Doorbells | null;
  private readonly buf = new Int32Array(1 << 16);
  /** Slots popped by drain() and not freed yet (drainAllAndFree frees them). */
  private readonly held: number[] = [];

  constructor(partial: Record<string, unknown>, opts: { poolSlots?: number; doorbells?: boolean; fabric?: FabricOptions;
    owners?: (cfg: EmuConfig, sab: SharedArrayBuffer, net: LayoutDesc) => void } = {}) {
    this.cfg = resolveConfig({ hosts: 2, cores: 2, propDelayUsecs: 0, ...partial });
    const slots = opts.poolSlots ?? 4096;
    const cores = this.cfg.hosts * this.cfg.cores;
    this.spec = { slots, cores: cores + 1, cacheSlots: 32 };
    const b = new LayoutBuilder()
      .addAll('net', netLayout(this.cfg))
      .addAll('pool', poolLayout(this.spec))
      .add('pkt.hdr', 'i32', slots * HEADER_WORDS);
    if (opts.doorbells === true) b.add('doorbells', 'i32', Doorbells.wordsFor(cores + 1));
    this.desc = b.build();
    this.sab = allocate(this.desc);
    this.net = subLayout(this.desc, 'net');
    this.poolDesc = subLayout(this.desc, 'pool');
    initNet(this.cfg, this.sab, this.net);
    opts.owners?.(this.cfg, this.sab, this.net);
    initPool(this.sab, this.poolDesc, this.spec);
    this.hdr = column(this.sab, this.desc, 'pkt.hdr', 'i32');
    this.doorbells = opts.doorbells === true ? new Doorbells(column(this.sab, this.desc, 'doorbells', 'i32'), cores + 1) : null;
    for (let h = 0; h < this.cfg.hosts; h++) {
      const pool = new SlabPool(this.sab, this.poolDesc, this.spec, h * this.cfg.cores, { debug: true });
      this.pools.push(pool);
      this.nics.push(new Nic(this.cfg, this.sab, this.net, h, 0, pool, this.hdr, this.doorbells));
    }
    this.fabricPool = new SlabPool(this.sab, this.poolDesc, this.spec, cores, { debug: true });
    this.fabric = new Fabric(this.cfg, this.sab, this.net, this.fabricPool, this.hdr, this.doorbells, opts.fabric);
  }

  /** Allocates a packet on `src`, fills its header and hands it to src's NIC. Returns the slot, or -1 if xmit refused it. */
  send(src: number, f: PktFields, now: number): number {
    const slot = this.pools[src]!.alloc();
    if (slot < 0) throw new Error('harness: packet pool exhausted');
    const b = slot * HEADER_WORDS;
    this.hdr.fill(0, b, b + HEADER_WORDS);
    this.hdr[b + H.SRC_HOST] = src;
    this.hdr[b + H.DST_HOST] = f.dst;
    this.hdr[b + H.PRIORITY] = f.prio ?? 0;
    this.hdr[b + H.WIRE_BYTES] = f.wireBytes ?? 1500;
    this.hdr[b + H.SPORT] = f.sport ?? 1000;
    this.hdr[b + H.DPORT] = f.dport ?? 2000;
    this.hdr[b + H.OFFSET] = f.tag ?? 0;
    return this.nics[src]!.xmit(slot, now) ? slot : -1;
  }

  field(slot: number, word: number): number {
    return this.hdr[slot * HEADER_WORDS + word]!;
  }

  /** Pops everything in host's RX channel `ch` (as its owner would), oldest first. */
  drain(host: number, ch: number): number[] {
    const n = this.nics[host]!.pollChannel(ch, this.buf, this.buf.length);
    const out = Array.from(this.buf.subarray(0, n));
    this.held.push(...out);
    return out;
  }

  /**
   * Drains every channel of every host, then frees every drained packet; returns how many were
   * freed. Uses fresh consumer handles, so it also works after `fabric.stop` (which takes back
   * what is left in RX channels, as the real fabric stops after every NAPI core).
   */
  drainAllAndFree(): number {
    for (let h = 0; h < this.cfg.hosts; h++) {
      for (let c = 0; c < this.nics[h]!.channels; c++) {
        const ring = new SpscRing(this.sab, subLayout(this.net, rxRingName(h, c)));
        for (let v = ring.pop(); v >= 0; v = ring.pop()) this.held.push(v);
      }
    }
    const n = this.held.length;
    for (const s of this.held) this.fabricPool.free(s);
    this.held.length = 0;
    return n;
  }

  /** run() every `stepNs` from `from` until the fabric and the TX rings are empty; returns the last now. */
  runUntilIdle(from: number, stepNs: number, maxSteps = 1_000_000): number {
    let t = from;
    for (let i = 0; i < maxSteps; i++) {
      this.fabric.run(t);
      if (!this.fabric.hasWork()) return t;
      t += stepNs;
    }
    throw new Error('harness: fabric never went idle');
  }

  /** Flushes every pool handle and audits the pool. */
  audit(): PoolAudit {
    for (const p of this.pools) p.flush();
    this.fabricPool.flush();
    return auditPool(this.sab, this.poolDesc, this.spec);
  }
}
