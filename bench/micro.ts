/**
 * Micro-benchmarks of the shared-memory primitives (src/shm), each measured beside a bare
 * baseline written in this file and run in the same process: rings against a bare Atomics SPSC
 * ring (no cached indices, one publish per item), the slab pool against a plain JS array stack,
 * and the instrumented LockTable against a bare futex-style CAS lock with no statistics. Multi-
 * thread cases run in worker threads: this same module, loaded as a worker with `workerData.micro`
 * set, plays the producer, consumer or locker role. The figures say what the instrumentation and
 * the sharing cost, so that emulator results can be read with that overhead in mind.
 */
import { Worker, workerData, parentPort } from 'node:worker_threads';
import { allocate, type LayoutDesc } from '../src/shm/layout.js';
import { MpscRing, SpscRing, RING_HEAD, RING_TAIL, ringLayout } from '../src/shm/ring.js';
import { SlabPool, initPool, poolLayout } from '../src/shm/pool.js';
import { LOCK_STRIDE, LockTable, lockTableLayout, type LockTableSpec } from '../src/shm/lock.js';
import { compiledUrl } from '../src/util/paths.js';
import { makeResult, scaled, timeNsPerOp, type BenchResult } from './harness.js';

export type { BenchResult } from './harness.js';

const RING_CAPACITY = 1024;

// ---------------------------------------------------------------------------------------------
// Baselines.

/** Bare SPSC ring: reads both indices atomically on every operation, publishes every item. */
class BareSpscRing {
  private readonly mask: number;
  constructor(private readonly idx: Int32Array, private readonly cells: Int32Array) {
    this.mask = cells.length - 1;
  }
  push(v: number): boolean {
    const t = Atomics.load(this.idx, RING_TAIL);
    if (((t - Atomics.load(this.idx, RING_HEAD)) | 0) >= this.cells.length) return false;
    this.cells[t & this.mask] = v;
    Atomics.store(this.idx, RING_TAIL, (t + 1) | 0);
    return true;
  }
  pop(): number {
    const h = Atomics.load(this.idx, RING_HEAD);
    if (h === Atomics.load(this.idx, RING_TAIL)) return -1;
    const v = this.cells[h & this.mask]!;
    Atomics.store(this.idx, RING_HEAD, (h + 1) | 0);
    return v;
  }
}

/** Bare CAS lock: the same 3-state futex word as LockTable, without statistics or clock. */
function bareLock(words: Int32Array, w: number, spinLimit: number): void {
  if (Atomics.compareExchange(words, w, 0, 1) === 0) return;
  for (let i = 0; i < spinLimit; i++) {
    if (Atomics.load(words, w) === 0 && Atomics.compareExchange(words, w, 0, 1) === 0) return;
  }
  while (Atomics.exchange(words, w, 2) !== 0) Atomics.wait(words, w, 2, 1);
}

function bareUnlock(words: Int32Array, w: number): void {
  if (Atomics.exchange(words, w, 0) === 2) Atomics.notify(words, w, 1);
}

// ---------------------------------------------------------------------------------------------
// Worker side.

type RingImpl = 'spsc' | 'mpsc' | 'bare';

interface MicroWorkerData {
  micro: true;
  role: 'producer' | 'consumer' | 'locker';
  ctl: Int32Array;
  sab: SharedArrayBuffer;
  desc: LayoutDesc;
  impl: RingImpl | 'table' | 'bare-lock';
  /** Items to push/pop, or lock/unlock pairs. */
  count: number;
  batch: number;
  /** Locker: core id and lock spec. */
  core: number;
  lockSpec?: LockTableSpec;
  counter?: Int32Array;
}

interface MicroWorkerResult { elapsedNs: number; checksum: number }

function makeRing(d: MicroWorkerData): SpscRing | MpscRing | BareSpscRing {
  if (d.impl === 'spsc') return new SpscRing(d.sab, d.desc);
  if (d.impl === 'mpsc') return new MpscRing(d.sab, d.desc);
  const ci = d.desc.columns['idx']!;
  const cc = d.desc.columns['cells']!;
  return new BareSpscRing(new Int32Array(d.sab, ci.byteOffset, ci.length), new Int32Array(d.sab, cc.byteOffset, cc.length));
}

/** Waits for the start flag (ctl[0]) after telling the main thread this worker is ready. */
function awaitStart(ctl: Int32Array): void {
  parentPort!.postMessage({ type: 'ready' });
  while (Atomics.load(ctl, 0) === 0) Atomics.wait(ctl, 0, 0, 50);
}

/** Full/empty: spin a little, then leave the CPU (the same for every implementation). */
function backoff(ctl: Int32Array, stalls: number): void {
  if ((stalls & 1023) === 1023) Atomics.wait(ctl, 1, 0, 0.02);
}

function runProducer(d: MicroWorkerData): MicroWorkerResult {
  const ring = makeRing(d);
  const buf = new Int32Array(Math.max(1, d.batch));
  awaitStart(d.ctl);
  const t0 = process.hrtime.bigint();
  let sent = 0;
  let stalls = 0;
  if (d.batch > 1 && !(ring instanceof BareSpscRing)) {
    while (sent < d.count) {
      const n = Math.min(d.batch, d.count - sent);
      for (let j = 0; j < n; j++) buf[j] = (sent + j) & 0x3fffffff;
      const k = ring.pushBatch(buf, n);
      if (k > 0) sent += k;
      else backoff(d.ctl, stalls++);
    }
  } else {
    while (sent < d.count) {
      if (ring.push(sent & 0x3fffffff)) sent++;
      else backoff(d.ctl, stalls++);
    }
  }
  return { elapsedNs: Number(process.hrtime.bigint() - t0), checksum: sent };
}

function runConsumer(d: MicroWorkerData): MicroWorkerResult {
  const ring = makeRing(d);
  const buf = new Int32Array(Math.max(1, d.batch));
  awaitStart(d.ctl);
  const t0 = process.hrtime.bigint();
  let got = 0;
  let sum = 0;
  let stalls = 0;
  if (d.batch > 1 && !(ring instanceof BareSpscRing)) {
    while (got < d.count) {
      const k = ring.popBatch(buf, d.batch);
      if (k === 0) { backoff(d.ctl, stalls++); continue; }
      for (let j = 0; j < k; j++) sum = (sum + buf[j]!) | 0;
      got += k;
    }
  } else {
    while (got < d.count) {
      const v = ring.pop();
      if (v === -1) { backoff(d.ctl, stalls++); continue; }
      sum = (sum + v) | 0;
      got++;
    }
  }
  return { elapsedNs: Number(process.hrtime.bigint() - t0), checksum: got };
}

function runLocker(d: MicroWorkerData): MicroWorkerResult {
  const x = d.counter!;
  if (d.impl === 'table') {
    const locks = new LockTable(d.sab, d.desc, d.lockSpec!, d.core, { debug: false });
    awaitStart(d.ctl);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < d.count; i++) { locks.lock(0); x[0] = x[0]! + 1; locks.unlock(0); }
    return { elapsedNs: Number(process.hrtime.bigint() - t0), checksum: d.count };
  }
  const words = new Int32Array(d.sab, d.desc.columns['words']!.byteOffset, LOCK_STRIDE);
  awaitStart(d.ctl);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < d.count; i++) { bareLock(words, 0, 200); x[0] = x[0]! + 1; bareUnlock(words, 0); }
  return { elapsedNs: Number(process.hrtime.bigint() - t0), checksum: d.count };
}

if (workerData !== null && typeof workerData === 'object' && (workerData as { micro?: unknown }).micro === true) {
  const d = workerData as MicroWorkerData;
  const r = d.role === 'producer' ? runProducer(d) : d.role === 'consumer' ? runConsumer(d) : runLocker(d);
  parentPort!.postMessage({ type: 'done', result: r });
}

// ---------------------------------------------------------------------------------------------
// Main side.

/** Starts one worker per entry together; returns their results; always terminates them. */
async function runWorkers(datas: Array<Omit<MicroWorkerData, 'micro' | 'ctl'>>): Promise<MicroWorkerResult[]> {
  const url = compiledUrl(import.meta.url, './micro.js');
  const ctl = new Int32Array(new SharedArrayBuffer(64));
  const workers: Worker[] = [];
  try {
    const readies: Array<Promise<void>> = [];
    const dones: Array<Promise<MicroWorkerResult>> = [];
    for (const data of datas) {
      const w = new Worker(url, { workerData: { ...data, micro: true, ctl } });
      workers.push(w);
      let ready!: () => void;
      readies.push(new Promise<void>((res) => { ready = res; }));
      dones.push(new Promise<MicroWorkerResult>((resolve, reject) => {
        w.on('message', (m: { type: string; result?: MicroWorkerResult }) => {
          if (m.type === 'ready') ready();
          else if (m.type === 'done') resolve(m.result!);
        });
        w.on('error', reject);
        w.on('exit', (code) => reject(new Error(`micro bench worker exited with code ${code}`)));
      }));
    }
    await Promise.race([Promise.all(readies), Promise.all(dones)]);
    Atomics.store(ctl, 0, 1);
    Atomics.notify(ctl, 0);
    return await Promise.all(dones);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** Items per second moved through a ring by `producers` producer workers and one consumer. */
async function ringThroughput(impl: RingImpl, producers: number, batch: number, items: number): Promise<number> {
  const desc = ringLayout(RING_CAPACITY, impl === 'mpsc' ? 'mpsc' : 'spsc');
  const sab = allocate(desc);
  const per = Math.floor(items / producers);
  const base = { sab, desc, impl, batch, core: 0 };
  const datas: Array<Omit<MicroWorkerData, 'micro' | 'ctl'>> = [{ ...base, role: 'consumer', count: per * producers }];
  for (let p = 0; p < producers; p++) datas.push({ ...base, role: 'producer', count: per });
  const res = await runWorkers(datas);
  if (res[0]!.checksum !== per * producers) throw new Error(`micro: consumer got ${res[0]!.checksum} of ${per * producers} items`);
  const ns = Math.max(...res.map((r) => r.elapsedNs));
  return (per * producers) / (ns / 1e9);
}

/** Lock/unlock pairs per second by `threads` workers on one lock (and a check of the count). */
async function lockThroughput(impl: 'table' | 'bare-lock', threads: number, pairs: number): Promise<number> {
  const lockSpec: LockTableSpec = { classes: ['bench'], locksPerClass: [1], cores: threads };
  const desc = lockTableLayout(lockSpec);
  const sab = allocate(desc);
  const counter = new Int32Array(new SharedArrayBuffer(64));
  const per = Math.floor(pairs / threads);
  const datas: Array<Omit<MicroWorkerData, 'micro' | 'ctl'>> = [];
  for (let c = 0; c < threads; c++) datas.push({ role: 'locker', sab, desc, impl, count: per, batch: 1, core: c, lockSpec, counter });
  const res = await runWorkers(datas);
  if (counter[0] !== per * threads) throw new Error(`micro: lock ${impl} lost increments (${counter[0]} of ${per * threads})`);
  const ns = Math.max(...res.map((r) => r.elapsedNs));
  return (per * threads) / (ns / 1e9);
}

/** ns per alloc+free pair on one core of a SlabPool (bursts of 8), vs a JS array stack. */
function poolNsPerPair(pairs: number): { pool: number; array: number } {
  const spec = { slots: 4096, cores: 1, cacheSlots: 64 };
  const desc = poolLayout(spec);
  const sab = allocate(desc);
  initPool(sab, desc, spec);
  const pool = new SlabPool(sab, desc, spec, 0, { debug: false });
  const held = new Int32Array(8);
  const rounds = Math.max(1, Math.floor(pairs / 8));
  let sink = 0;
  const poolNs = timeNsPerOp(rounds * 8, () => {
    for (let r = 0; r < rounds; r++) {
      for (let j = 0; j < 8; j++) held[j] = pool.alloc();
      for (let j = 0; j < 8; j++) { sink ^= held[j]!; pool.free(held[j]!); }
    }
  });
  const stack: number[] = [];
  for (let s = 0; s < spec.slots; s++) stack.push(s);
  const arrayNs = timeNsPerOp(rounds * 8, () => {
    for (let r = 0; r < rounds; r++) {
      for (let j = 0; j < 8; j++) held[j] = stack.pop() ?? -1;
      for (let j = 0; j < 8; j++) { sink ^= held[j]!; stack.push(held[j]!); }
    }
  });
  if (sink === 0.5) throw new Error('unreachable');
  return { pool: poolNs, array: arrayNs };
}

/**
 * ns per uncontended lock+unlock pair on one thread: LockTable (default hold sampling, and with
 * sampling practically off, to show what the two clock reads per sample cost) vs the bare lock.
 */
function lockNsPerPair(pairs: number): { table: number; unsampled: number; bare: number } {
  const spec: LockTableSpec = { classes: ['bench'], locksPerClass: [1], cores: 1 };
  const desc = lockTableLayout(spec);
  const sab = allocate(desc);
  const locks = new LockTable(sab, desc, spec, 0, { debug: false });
  const quiet = new LockTable(sab, desc, spec, 0, { debug: false, holdSampleEvery: 1 << 30 });
  const words = new Int32Array(sab, desc.columns['words']!.byteOffset, LOCK_STRIDE);
  const x = new Int32Array(new SharedArrayBuffer(64));
  let table = Infinity;
  let unsampled = Infinity;
  let bare = Infinity;
  // Interleaved repeats, best of each: a shared machine's noise hits all three alike.
  for (let r = 0; r < 5; r++) {
    table = Math.min(table, timeNsPerOp(pairs, () => {
      for (let i = 0; i < pairs; i++) { locks.lock(0); x[0] = x[0]! + 1; locks.unlock(0); }
    }, 1));
    unsampled = Math.min(unsampled, timeNsPerOp(pairs, () => {
      for (let i = 0; i < pairs; i++) { quiet.lock(0); x[0] = x[0]! + 1; quiet.unlock(0); }
    }, 1));
    bare = Math.min(bare, timeNsPerOp(pairs, () => {
      for (let i = 0; i < pairs; i++) { bareLock(words, 0, 200); x[0] = x[0]! + 1; bareUnlock(words, 0); }
    }, 1));
  }
  return { table, unsampled, bare };
}

/** Runs every micro-benchmark; `scale` 1 is the full size (seconds), 0.01 a smoke run. */
export async function runMicro(opts: { scale: number }): Promise<BenchResult[]> {
  const items = scaled(5_000_000, opts.scale, 10_000);
  // Cross-thread figures swing with what else the machine runs: best of a few runs at full size.
  const runs = opts.scale >= 0.1 ? 3 : 1;
  const ring = async (impl: RingImpl, producers: number, batch: number): Promise<number> => {
    let best = 0;
    for (let r = 0; r < runs; r++) best = Math.max(best, await ringThroughput(impl, producers, batch, items));
    return best;
  };
  const out: BenchResult[] = [];
  const bare = await ring('bare', 1, 1);
  const bareName = 'bare Atomics SPSC ring';
  out.push(makeResult('SpscRing push/pop, 2 threads', 'items/s', await ring('spsc', 1, 1), bareName, bare));
  out.push(makeResult('SpscRing batch 32, 2 threads', 'items/s', await ring('spsc', 1, 32), bareName, bare));
  out.push(makeResult('MpscRing 1 producer + consumer', 'items/s', await ring('mpsc', 1, 1), bareName, bare));
  out.push(makeResult('MpscRing 2 producers + consumer', 'items/s', await ring('mpsc', 2, 1), bareName, bare));

  const p = poolNsPerPair(scaled(5_000_000, opts.scale, 10_000));
  out.push(makeResult('SlabPool alloc+free pair', 'ns/op', p.pool, 'JS array stack pop+push', p.array));

  const l = lockNsPerPair(scaled(4_000_000, opts.scale, 10_000));
  out.push(makeResult('LockTable lock+unlock, uncontended', 'ns/op', l.table, 'bare CAS lock', l.bare));
  out.push(makeResult('  same, hold sampling off', 'ns/op', l.unsampled, 'bare CAS lock', l.bare));
  const pairs = scaled(2_000_000, opts.scale, 4_000);
  for (const threads of [2, 4]) {
    let t = 0;
    let b = 0;
    for (let r = 0; r < runs; r++) {
      t = Math.max(t, await lockThroughput('table', threads, pairs));
      b = Math.max(b, await lockThroughput('bare-lock', threads, pairs));
    }
    out.push(makeResult(`LockTable contended, ${threads} threads`, 'ops/s', t, `bare CAS lock, ${threads} threads`, b));
  }
  return out;
}
