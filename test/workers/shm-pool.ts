/**
 * Worker of the slab pool concurrency test. Each worker is one core: it allocates random
 * batches, claims each slot in a shared `owner` array (exchange -1 → its id: anything but -1
 * means the slot was handed out twice), holds slots across iterations, checks before freeing
 * that nobody overwrote its claim, frees random batches, and at the end frees everything it
 * holds and flushes its cache so the main thread can audit the pool.
 */
import { workerData } from 'node:worker_threads';
import { SlabPool, type PoolSpec } from '../../src/shm/pool.js';
import type { LayoutDesc } from '../../src/shm/layout.js';
import { awaitStart, reportDone } from './shm-common.js';

export interface PoolWorkerData {
  sab: SharedArrayBuffer;
  desc: LayoutDesc;
  spec: PoolSpec;
  core: number;
  ctl: Int32Array;
  owner: Int32Array;
  iterations: number;
  maxHeld: number;
  seed: number;
  debug: boolean;
}

export interface PoolWorkerResult { allocs: number; frees: number; failedAllocs: number; exhausted: number; errors: number; firstError: string }

const d = workerData as PoolWorkerData;
const pool = new SlabPool(d.sab, d.desc, d.spec, d.core, { debug: d.debug });
const held = new Int32Array(d.maxHeld);
let nHeld = 0;
let rng = d.seed >>> 0 || 1;
const rand = (n: number): number => { // xorshift32
  rng ^= rng << 13; rng >>>= 0; rng ^= rng >>> 17; rng ^= rng << 5; rng >>>= 0;
  return rng % n;
};
let allocs = 0, frees = 0, failedAllocs = 0, errors = 0;
let firstError = '';
const fail = (m: string): void => { if (errors++ === 0) firstError = m; };

const release = (j: number): void => {
  const s = held[j]!;
  const o = Atomics.compareExchange(d.owner, s, d.core, -1);
  if (o !== d.core) fail(`core ${d.core}: slot ${s} owner overwritten by ${o}`);
  pool.free(s);
  frees++;
  held[j] = held[--nHeld]!;
};

awaitStart(d.ctl);
for (let it = 0; it < d.iterations; it++) {
  if (rand(2) === 0) {
    const k = 1 + rand(16);
    for (let j = 0; j < k && nHeld < d.maxHeld; j++) {
      const s = pool.alloc();
      if (s === -1) { failedAllocs++; break; }
      allocs++;
      const o = Atomics.exchange(d.owner, s, d.core);
      if (o !== -1) fail(`core ${d.core}: slot ${s} handed out while owned by ${o}`);
      held[nHeld++] = s;
    }
  } else {
    const k = 1 + rand(16);
    for (let j = 0; j < k && nHeld > 0; j++) release(rand(nHeld));
  }
  // Every so often re-check every claim this core holds.
  if ((it & 255) === 0) {
    for (let j = 0; j < nHeld; j++) if (Atomics.load(d.owner, held[j]!) !== d.core) fail(`core ${d.core}: lost claim on ${held[j]}`);
  }
}
while (nHeld > 0) release(nHeld - 1);
pool.flush();
const r: PoolWorkerResult = { allocs, frees, failedAllocs, exhausted: pool.exhausted, errors, firstError };
reportDone(r);
