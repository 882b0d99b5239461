/**
 * The receive pipeline's CPU cost per packet, measured single-threaded: one Homa host (host 1 of
 * a 2-host x 2-core world) is built in this thread over its SharedArrayBuffer, single-packet
 * 100-byte requests are injected straight into one of its RX channels (as the fabric would
 * deliver them), and the host's contexts are stepped by hand, stage by stage over bursts of 32
 * packets: NAPI+GRO (`NapiContext.run`: poll, GRO, batch into the SoftIRQ backlog), SoftIRQ
 * (`SoftirqContext.run` on every core: homa_softirq, new server RPC, hand-off to the waiting
 * thread or the ready list), hand-off (the app thread's `homaRecv`: pick up, lock, copy out,
 * complete; the last call re-registers the thread as waiting) and app (read the 100 bytes, end
 * the RPC). No other thread runs, so the figures are CPU cost, not scheduling. The baseline is a
 * bare `SpscRing` push + pop in the same thread, measured in the same run. A steady-state check
 * then runs the whole receive path for `10 s x scale` and reports the heap growth (after a
 * forced GC when node runs with --expose-gc) and the minor GCs seen by a `PerformanceObserver`.
 */
import { PerformanceObserver, constants, performance } from 'node:perf_hooks';
import { resolveConfig, type EmuConfig } from '../src/config/config.js';
import { NUM_ROLES, type CoreAccount, type KernelContext, type RoleId } from '../src/cpu/context.js';
import type { CoreEnv } from '../src/cpu/world.js';
import { Doorbells } from '../src/shm/doorbell.js';
import { allocate, subLayout, type LayoutDesc } from '../src/shm/layout.js';
import { LockTable, lockTableLayout, type LockTableSpec } from '../src/shm/lock.js';
import { SpscRing, ringContents, ringLayout } from '../src/shm/ring.js';
import { rxRingName } from '../src/net/index.js';
import { H, HEADER_WORDS, PktType, setCommonHeader, wireBytes } from '../src/wire/packet.js';
import { makeHomaWorld, type HomaCoreSetup } from '../src/cluster/homa-world.js';
import type { Homa } from '../src/homa/homa.js';
import { NapiContext } from '../src/homa/offload.js';
import { RecvState, homaRecv } from '../src/homa/syscalls.js';
import { SoftirqContext } from '../src/homa/softirq.js';
import { CUTOFF_VERSION } from '../src/homa/peer.js';
import { msgByteAddr } from '../src/homa/pool.js';
import { rpcEnd } from '../src/homa/rpc.js';
import { sockLookup } from '../src/homa/sock.js';
import { makeResult, scaled, type BenchResult } from './harness.js';

/** Packets per burst (one NAPI poll's worth; below the RX ring's and the NAPI budget's sizes). */
export const PIPELINE_BURST = 32;
/** Payload of every injected request (one packet). */
export const PIPELINE_MSG_BYTES = 100;
const RX_HOST = 1;
const SERVER_PORT = 1000;
const CLIENT_PORT = 40000;

class Account implements CoreAccount {
  readonly roleNs = new Float64Array(NUM_ROLES);
  move(fromRole: RoleId, toRole: RoleId, ns: number): void {
    this.roleNs[fromRole]! -= ns;
    this.roleNs[toRole]! += ns;
  }
}

/** One receiving host built in this thread, and the means to feed and drain it. */
export class RxHost {
  readonly acct = new Account();
  /** Packets the host transmitted (left in its TX ring; single-packet requests need none). */
  txPackets = 0;
  /** Requests received and ended by the app. */
  received = 0;
  /** Sum of the payload bytes the app read (keeps the read from being optimised away). */
  checksum = 0;
  private nextId = 2;
  private readonly got = new Int32Array(PIPELINE_BURST * 4);

  private constructor(readonly cfg: EmuConfig, readonly sab: SharedArrayBuffer, readonly desc: LayoutDesc,
    readonly cores: HomaCoreSetup[], readonly napi: NapiContext, readonly softirqs: SoftirqContext[],
    readonly rx: SpscRing, readonly rs: RecvState) {}

  /** `ttEvents` > 0: every core records its time trace (--tt) into rings of that many events. */
  static async create(ttEvents = 0): Promise<RxHost> {
    const cfg = resolveConfig({ hosts: 2, cores: 2, ringSlots: 1024, maxRpcsPerHost: 1024, bpagesPerHost: 64, packetSlots: 16384, ttEvents });
    // One server thread on (host 1, core 1); nothing else runs.
    const spec = { servers: [{ host: RX_HOST, core: 1, port: SERVER_PORT, threads: 1 }], clients: [] };
    const world = makeHomaWorld({ apps: () => spec });
    const desc = world.layout(cfg);
    const sab = allocate(desc);
    world.init(cfg, sab, desc);
    const lc = world.lockClasses(cfg);
    const total = cfg.hosts * cfg.cores + 1;
    const lockSpec: LockTableSpec = { classes: lc.classes, locksPerClass: lc.counts, cores: total };
    const ldesc = lockTableLayout(lockSpec);
    const lsab = allocate(ldesc);
    const doorbells = new Doorbells(new Int32Array(new SharedArrayBuffer(Doorbells.wordsFor(total) * 4)), total);
    const ctl = new Int32Array(new SharedArrayBuffer(80 * 4));
    const cores: HomaCoreSetup[] = [];
    for (let core = 0; core < cfg.cores; core++) {
      const g = RX_HOST * cfg.cores + core;
      const env: CoreEnv = { cfg, sab, desc, globalCore: g, host: RX_HOST, core, doorbells, ctl, locks: new LockTable(lsab, ldesc, lockSpec, g) };
      cores.push(await world.setupCore(env));
    }
    let napi: NapiContext | null = null;
    const softirqs: SoftirqContext[] = [];
    for (const c of cores) {
      for (const x of c.contexts as KernelContext[]) {
        if (x instanceof NapiContext && Array.from(x.channels).includes(0)) napi = x;
        if (x instanceof SoftirqContext) softirqs.push(x);
      }
    }
    if (napi === null) throw new Error('pipeline bench: no core owns RX channel 0 of the receiving host');
    const rx = new SpscRing(sab, subLayout(subLayout(desc, 'net'), rxRingName(RX_HOST, 0)));
    const hm = cores[1]!.homa;
    const rs = new RecvState(sockLookup(hm, SERVER_PORT), hm.threadIndex(0), 1);
    return new RxHost(cfg, sab, desc, cores, napi, softirqs, rx, rs);
  }

  /** The Homa handle of the app's core. */
  get app(): Homa {
    return this.cores[1]!.homa;
  }

  /** Delivers `n` single-packet requests from host 0 (fresh client ids) into RX channel 0. */
  inject(n: number): void {
    const hm = this.cores[0]!.homa;
    const hdr = hm.pktHdr;
    for (let i = 0; i < n; i++) {
      const slot = hm.pktPool.alloc();
      if (slot < 0) throw new Error('pipeline bench: packet pool empty (a packet leaked)');
      setCommonHeader(hdr, slot, PktType.DATA, 0, RX_HOST, CLIENT_PORT, SERVER_PORT, this.nextId, 6);
      this.nextId = this.nextId >= 0x3ffffffe ? 2 : this.nextId + 2;
      const b = slot * HEADER_WORDS;
      hdr[b + H.SEG_BYTES] = PIPELINE_MSG_BYTES;
      hdr[b + H.MSG_LEN] = PIPELINE_MSG_BYTES;
      hdr[b + H.OFFSET] = 0;
      hdr[b + H.INCOMING_OR_LENGTH] = PIPELINE_MSG_BYTES;
      hdr[b + H.FLAGS_OR_PRIO] = 0;
      hdr[b + H.CUTOFF_VERSION] = CUTOFF_VERSION;
      hdr[b + H.ACK_CLIENT_ID] = 0;
      hdr[b + H.WIRE_BYTES] = wireBytes(PktType.DATA, PIPELINE_MSG_BYTES);
      if (!this.rx.push(slot)) throw new Error('pipeline bench: RX channel full');
    }
  }

  /** NAPI+GRO until the RX channel is empty. */
  napiStage(now: number): number {
    let n = 0;
    while (this.napi.hasWork()) n += this.napi.run(now, this.acct);
    return n;
  }

  /** Every core's SoftIRQ until the backlogs are empty. */
  softirqStage(now: number): number {
    let n = 0;
    for (let again = true; again;) {
      again = false;
      for (let i = 0; i < this.softirqs.length; i++) {
        const s = this.softirqs[i]!;
        if (s.hasWork()) { n += s.run(now, this.acct); again = true; }
      }
    }
    return n;
  }

  /** The app thread takes every complete request (hand-off + copy-out); the last call re-registers it. */
  handoffStage(now: number): number {
    const hm = this.app;
    let n = 0;
    for (;;) {
      const g = homaRecv(hm, this.rs, now);
      if (g < 0) break;
      this.got[n++] = g;
    }
    return n;
  }

  /** The app reads each request's bytes and ends the RPC. */
  appStage(n: number): void {
    const hm = this.app;
    const u8 = hm.u8;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const g = this.got[i]!;
      const len = hm.rInLen[g]!;
      const base = msgByteAddr(hm, hm.rInPages, g, 0);
      for (let k = 0; k < len; k++) sum += u8[base + k]!;
      const lk = hm.rpcLock(g);
      hm.locks.lock(lk);
      rpcEnd(hm, g, lk);
      hm.locks.unlock(lk);
    }
    this.checksum = (this.checksum + sum) | 0;
    this.received += n;
  }

  /** Counts what the host transmitted (left in its TX ring: no fabric runs; none is expected). */
  countTx(): number {
    const txDesc = subLayout(subLayout(this.desc, 'net'), `tx.${RX_HOST}`);
    this.txPackets = ringContents(this.sab, txDesc, 'mpsc').length;
    return this.txPackets;
  }

  /** One burst through every stage (no timing). Returns the requests the app ended. */
  burst(now: number): number {
    this.inject(PIPELINE_BURST);
    this.napiStage(now);
    this.softirqStage(now);
    const n = this.handoffStage(now);
    this.appStage(n);
    return n;
  }
}

/** ns per stage per packet, over `bursts` bursts (best of `repeats` passes). */
export interface StageCosts {
  napiGroNs: number;
  softirqNs: number;
  handoffNs: number;
  appNs: number;
  /** NAPI+GRO + SoftIRQ + hand-off. */
  receiveNs: number;
  packets: number;
}

/** Cost of one performance.now() read, ns (subtracted from each timed stage). */
function clockReadNs(): number {
  const n = 100_000;
  let x = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) x += performance.now();
  const dt = (performance.now() - t0) * 1e6;
  return x > 0 ? dt / n : 0;
}

/** Times each stage separately over `bursts` bursts; every burst must come out whole. */
export function measureStages(host: RxHost, bursts: number): StageCosts {
  const clk = clockReadNs();
  let napi = 0;
  let soft = 0;
  let hand = 0;
  let app = 0;
  let pkts = 0;
  for (let i = 0; i < bursts; i++) {
    host.inject(PIPELINE_BURST);
    const t0 = performance.now();
    const now = t0 * 1e6;
    host.napiStage(now);
    const t1 = performance.now();
    host.softirqStage(now);
    const t2 = performance.now();
    const n = host.handoffStage(now);
    const t3 = performance.now();
    host.appStage(n);
    const t4 = performance.now();
    if (n !== PIPELINE_BURST) throw new Error(`pipeline bench: burst ${i}: the app got ${n} of ${PIPELINE_BURST} requests`);
    napi += (t1 - t0) * 1e6 - clk;
    soft += (t2 - t1) * 1e6 - clk;
    hand += (t3 - t2) * 1e6 - clk;
    app += (t4 - t3) * 1e6 - clk;
    pkts += n;
  }
  host.countTx();
  const per = (x: number): number => Math.max(x, 0) / pkts;
  return { napiGroNs: per(napi), softirqNs: per(soft), handoffNs: per(hand), appNs: per(app), receiveNs: per(napi + soft + hand), packets: pkts };
}

/** Bare SpscRing push + pop in one thread, ns per item (the baseline). */
export function spscNsPerItem(items: number): number {
  const desc = ringLayout(1024, 'spsc');
  const ring = new SpscRing(allocate(desc), desc);
  let best = Infinity;
  for (let r = 0; r < 4; r++) {
    let sum = 0;
    const t0 = performance.now();
    for (let i = 0; i < items; i++) {
      ring.push(i);
      sum += ring.pop();
    }
    const ns = (performance.now() - t0) * 1e6;
    if (sum !== (items * (items - 1)) / 2) throw new Error('spsc baseline: lost items');
    if (r > 0 && ns < best) best = ns;
  }
  return best / items;
}

export interface SteadyState {
  seconds: number;
  packets: number;
  heapStartBytes: number;
  heapGrowthBytes: number;
  minorGcs: number;
  majorGcs: number;
  /** Whether a forced GC (node --expose-gc) preceded both heap readings. */
  forcedGc: boolean;
}

function sleepTick(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/**
 * Runs the receive path (inject, NAPI+GRO, SoftIRQ, hand-off, app) for `seconds` in slices of
 * ~50 ms (yielding between slices so GC entries are delivered) and reports heap growth and GCs.
 */
export async function steadyState(host: RxHost, seconds: number): Promise<SteadyState> {
  const gc = (globalThis as { gc?: () => void }).gc;
  // Warm up first so JIT tiers and first-touch allocations are not counted.
  for (let i = 0; i < 2000; i++) host.burst(performance.now() * 1e6);
  gc?.();
  await sleepTick();
  let minor = 0;
  let major = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) minor++;
      else major++;
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  const heap0 = process.memoryUsage().heapUsed;
  const start = performance.now();
  const endMs = start + seconds * 1000;
  let pkts = 0;
  while (performance.now() < endMs) {
    const sliceEnd = Math.min(endMs, performance.now() + 50);
    while (performance.now() < sliceEnd) {
      for (let k = 0; k < 16; k++) pkts += host.burst(performance.now() * 1e6);
    }
    await sleepTick();
  }
  const elapsed = (performance.now() - start) / 1000;
  gc?.();
  const heap1 = process.memoryUsage().heapUsed;
  await new Promise((r) => setTimeout(r, 20));
  obs.disconnect();
  // The forced GC after the loop is a major one and is not counted against the loop.
  if (gc !== undefined && major > 0) major--;
  host.countTx();
  return { seconds: elapsed, packets: pkts, heapStartBytes: heap0, heapGrowthBytes: heap1 - heap0, minorGcs: minor, majorGcs: major, forcedGc: gc !== undefined };
}

/** The last run's details (stage costs and steady state), for printing and RESULTS.md. */
export let lastPipeline: { stages: StageCosts; steady: SteadyState; baselineNs: number; tracedNs: number } | null = null;

export async function runPipeline(opts: { scale: number }): Promise<BenchResult[]> {
  const host = await RxHost.create();
  // Warm-up, then the best of three passes per stage set.
  const bursts = Math.ceil(scaled(200_000, opts.scale, 2000) / PIPELINE_BURST);
  measureStages(host, Math.min(bursts, 500));
  let stages: StageCosts | null = null;
  for (let r = 0; r < 3; r++) {
    const s = measureStages(host, bursts);
    if (stages === null || s.receiveNs < stages.receiveNs) stages = s;
  }
  // The same receive path recording its time trace (--tt): passes alternate with an untraced
  // host's, best of three each, so both see the same machine.
  const traced = await RxHost.create(1 << 16);
  measureStages(traced, Math.min(bursts, 500));
  let plainNs = stages!.receiveNs;
  let tracedNs = Infinity;
  for (let r = 0; r < 3; r++) {
    tracedNs = Math.min(tracedNs, measureStages(traced, bursts).receiveNs);
    plainNs = Math.min(plainNs, measureStages(host, bursts).receiveNs);
  }
  const base = spscNsPerItem(scaled(2_000_000, opts.scale, 20_000));
  const steady = await steadyState(host, Math.max(0.2, 10 * opts.scale));
  lastPipeline = { stages: stages!, steady, baselineNs: base, tracedNs };
  const bname = 'SpscRing push+pop, 1 thread';
  const st = stages!;
  return [
    makeResult('rx NAPI+GRO, ns/packet', 'ns/op', st.napiGroNs, bname, base),
    makeResult('rx SoftIRQ, ns/packet', 'ns/op', st.softirqNs, bname, base),
    makeResult('rx hand-off (homaRecv, copy-out), ns/packet', 'ns/op', st.handoffNs, bname, base),
    makeResult('app (read 100 B, end RPC), ns/packet', 'ns/op', st.appNs, bname, base),
    makeResult('rx total NAPI..hand-off (target <= 1000)', 'ns/op', st.receiveNs, bname, base),
    makeResult('rx total with --tt recording (target <= 1.10x)', 'ns/op', tracedNs, 'rx total without --tt', plainNs),
    makeResult(`steady ${steady.seconds.toFixed(1)} s: heap growth${steady.forcedGc ? '' : ' (no --expose-gc)'}`, 'bytes', steady.heapGrowthBytes, 'heapUsed at start', steady.heapStartBytes),
    makeResult(`steady ${steady.seconds.toFixed(1)} s: minor GCs`, 'count', steady.minorGcs, 'packets received', steady.packets),
  ];
}
