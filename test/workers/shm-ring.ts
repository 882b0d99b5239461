/**
 * Worker of the ring concurrency tests. A producer pushes `count` values encoding its id and a
 * sequence number (id << 24 | seq), singly or in batches; a consumer pops until it has received
 * `expected` values, checks that each producer's sequence arrives in increasing order (exactly
 * +1 each time when it is the only consumer), and marks every value in a shared `seen` counter
 * array so the main thread can check that the multiset out equals the multiset in.
 */
import { workerData } from 'node:worker_threads';
import { MpmcRing, MpscRing, SpscRing } from '../../src/shm/ring.js';
import type { LayoutDesc } from '../../src/shm/layout.js';
import { awaitStart, backoff, reportDone } from './shm-common.js';

/** ctl words: 1 = items taken by all consumers, 2 = producers finished. */
const TAKEN = 1;
const PRODUCERS_DONE = 2;
/** Safety net for a broken ring only: give up after this long without progress (never hit when it works). */
const STALL_LIMIT_MS = 10_000;

export const SEQ_BITS = 24;

export interface RingWorkerData {
  role: 'producer' | 'consumer';
  kind: 'spsc' | 'mpsc' | 'mpmc';
  sab: SharedArrayBuffer;
  desc: LayoutDesc;
  ctl: Int32Array;
  /** Values per producer. */
  count: number;
  /** Producer id (producer role). */
  id: number;
  /** 1 for push/pop, > 1 for pushBatch/popBatch of this size. */
  batch: number;
  /** Consumer: values to receive, and whether it is the only consumer (exact order check). */
  expected: number;
  producers: number;
  soleConsumer: boolean;
  /** Consumer: shared counters, one per value index (id * count + seq). */
  seen: Int32Array;
}

export interface ConsumerResult { received: number; errors: number; firstError: string; fullOrEmpty: number }

const d = workerData as RingWorkerData;
const ring = d.kind === 'spsc' ? new SpscRing(d.sab, d.desc) : d.kind === 'mpsc' ? new MpscRing(d.sab, d.desc) : new MpmcRing(d.sab, d.desc);
const buf = new Int32Array(Math.max(1, d.batch));
awaitStart(d.ctl);

/** Tracks consecutive failed attempts; true once they have lasted STALL_LIMIT_MS (a broken ring). */
class Stall {
  total = 0;
  private run = 0;
  private since = 0;
  progress(): void { this.run = 0; this.since = 0; }
  failed(): boolean {
    backoff(d.ctl, this.run++);
    this.total++;
    if ((this.run & 1023) !== 0) return false;
    const now = Date.now();
    if (this.since === 0) this.since = now;
    return now - this.since > STALL_LIMIT_MS;
  }
}

if (d.role === 'producer') {
  const base = d.id << SEQ_BITS;
  let seq = 0;
  const stall = new Stall();
  let stalled = false;
  while (seq < d.count) {
    let k = 0;
    if (d.batch === 1) {
      if (ring.push(base | seq)) k = 1;
    } else {
      const n = Math.min(d.batch, d.count - seq);
      for (let j = 0; j < n; j++) buf[j] = base | (seq + j);
      k = ring.pushBatch(buf, n);
    }
    if (k > 0) { seq += k; stall.progress(); continue; }
    if (stall.failed()) { stalled = true; break; }
  }
  Atomics.add(d.ctl, PRODUCERS_DONE, 1);
  reportDone({ pushed: seq, stalls: stall.total, stalled });
} else {
  const next = new Int32Array(d.producers); // next expected (sole) or smallest allowed seq
  let received = 0;
  let errors = 0;
  let firstError = '';
  const stall = new Stall();
  const fail = (msg: string): void => { if (errors++ === 0) firstError = msg; };
  const take = (v: number): void => {
    const id = v >>> SEQ_BITS;
    const seq = v & ((1 << SEQ_BITS) - 1);
    if (v < 0 || id >= d.producers || seq >= d.count) { fail(`value ${v} out of range`); return; }
    if (d.soleConsumer ? seq !== next[id] : seq < next[id]!) fail(`producer ${id}: got seq ${seq}, expected ${d.soleConsumer ? '' : '>= '}${next[id]}`);
    next[id] = seq + 1;
    Atomics.add(d.seen, id * d.count + seq, 1);
  };
  const poll = (): number => {
    if (d.batch === 1) {
      const v = ring.pop();
      if (v === -1) return 0;
      take(v);
      return 1;
    }
    const k = ring.popBatch(buf, d.batch);
    for (let j = 0; j < k; j++) take(buf[j]!);
    return k;
  };
  // Several consumers count what all of them took (TAKEN) and stop at the total. A consumer
  // also stops when every producer has finished and the ring is empty: values were lost.
  const total = d.producers * d.count;
  while (d.soleConsumer ? received < d.expected : Atomics.load(d.ctl, TAKEN) < total) {
    let k = poll();
    if (k === 0 && Atomics.load(d.ctl, PRODUCERS_DONE) === d.producers) {
      k = poll(); // everything published before PRODUCERS_DONE is visible now
      if (k === 0) { if (ring.size() === 0 || stall.failed()) break; continue; }
    }
    if (k > 0) {
      received += k;
      if (!d.soleConsumer) Atomics.add(d.ctl, TAKEN, k);
      stall.progress();
      continue;
    }
    if (stall.failed()) { fail(`no value for ${STALL_LIMIT_MS} ms after ${received}`); break; }
  }
  if (received !== d.expected && d.soleConsumer) fail(`received ${received} of ${d.expected}`);
  const r: ConsumerResult = { received, errors, firstError, fullOrEmpty: stall.total };
  reportDone(r);
}
