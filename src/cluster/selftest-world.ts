/**
 * `homa-emu selftest`: a synthetic pipeline that exercises the whole runtime before (and
 * independently of) the Homa protocol. Producer app threads push batches of sequence-numbered
 * items into one MPSC ring per consumer core; consumer kernel contexts (charged as SoftIRQ) pop
 * them and, for each item, increment a plain (non-atomic) counter of a shared table under one of
 * a few instrumented locks, so the lock table shows real contention. At the end the invariants
 * are checked, not assumed: produced = consumed + still queued, table sum = consumed, and every
 * consumer saw each producer's items in order.
 */
import type { EmuConfig } from '../config/config.js';
import { AppState, Role, type AppThread, type KernelContext } from '../cpu/context.js';
import { LayoutBuilder, column, subLayout, type LayoutDesc } from '../shm/layout.js';
import { MpscRing, ringLayout } from '../shm/ring.js';
import type { CoreEnv, CoreSetup, World } from '../cpu/world.js';

export const SELFTEST_TABLE_ENTRIES = 64;
export const SELFTEST_TABLE_LOCKS = 4;
const BATCH = 32;
const SEQ_BITS = 20;
const SEQ_MASK = (1 << SEQ_BITS) - 1;
/** Per-worker counter row (f64). */
const C = { PRODUCED: 0, CONSUMED: 1, FULL: 2, ORDER_ERRORS: 3, PRODUCED_AT_MEASURE: 4, CONSUMED_AT_MEASURE: 5 } as const;
const C_FIELDS = 8;

interface Roles { producers: number[]; consumers: number[] }

/** Which cores produce and which consume: the first half (at least one) produce. */
export function selftestRoles(totalCores: number): Roles {
  if (totalCores === 1) return { producers: [0], consumers: [0] };
  const np = Math.max(1, Math.floor(totalCores / 2));
  const all = [...Array(totalCores).keys()];
  return { producers: all.slice(0, np), consumers: all.slice(np) };
}

function cores(cfg: EmuConfig): number {
  return cfg.hosts * cfg.cores;
}

class Consumer implements KernelContext {
  readonly role = Role.SOFTIRQ;
  readonly name = 'consumer';
  private readonly buf = new Int32Array(64);
  private readonly lastSeq: Int32Array;

  constructor(private readonly ring: MpscRing, private readonly env: CoreEnv, private readonly table: Int32Array,
    private readonly counters: Float64Array, private readonly row: number, private readonly lock0: number, producers: number) {
    this.lastSeq = new Int32Array(producers).fill(-1);
  }

  run(): number {
    const n = this.ring.popBatch(this.buf, this.buf.length);
    if (n === 0) return 0;
    const locks = this.env.locks;
    for (let i = 0; i < n; i++) {
      const v = this.buf[i]!;
      const p = v >>> SEQ_BITS;
      const seq = v & SEQ_MASK;
      const last = this.lastSeq[p]!;
      if (last >= 0 && ((seq - last) & SEQ_MASK) !== 1) this.counters[this.row + C.ORDER_ERRORS]!++;
      this.lastSeq[p] = seq;
      const e = v % SELFTEST_TABLE_ENTRIES;
      const id = this.lock0 + (e % SELFTEST_TABLE_LOCKS);
      locks.lock(id);
      this.table[e] = this.table[e]! + 1;
      locks.unlock(id);
    }
    this.counters[this.row + C.CONSUMED]! += n;
    return n;
  }

  hasWork(): boolean {
    return this.ring.size() > 0;
  }
}

class Producer implements AppThread {
  state: number = AppState.RUNNABLE;
  readonly wakeWords = new Int32Array(1);
  readonly wakeIndex = 0;
  private readonly seq: Int32Array;
  private readonly buf = new Int32Array(BATCH);
  private next = 0;

  constructor(readonly name: string, private readonly producerIndex: number, private readonly rings: MpscRing[],
    private readonly ringCores: number[], private readonly env: CoreEnv, private readonly counters: Float64Array, private readonly row: number) {
    this.seq = new Int32Array(rings.length);
  }

  step(): number {
    const r = this.next;
    this.next = (this.next + 1) % this.rings.length;
    const base = this.producerIndex << SEQ_BITS;
    let s = this.seq[r]!;
    for (let i = 0; i < BATCH; i++) {
      this.buf[i] = base | ((s + i) & SEQ_MASK);
    }
    const pushed = this.rings[r]!.pushBatch(this.buf, BATCH);
    if (pushed < BATCH) this.counters[this.row + C.FULL]!++;
    if (pushed === 0) return 0;
    s += pushed;
    this.seq[r] = s & SEQ_MASK;
    this.counters[this.row + C.PRODUCED]! += pushed;
    this.env.doorbells.ring(this.ringCores[r]!);
    return pushed;
  }
}

export const selftestWorld: World = {
  name: 'selftest',

  lockClasses() {
    return { classes: ['table'], counts: [SELFTEST_TABLE_LOCKS] };
  },

  layout(cfg: EmuConfig): LayoutDesc {
    const n = cores(cfg);
    if (n > 1 << (31 - SEQ_BITS)) throw new Error('selftest: too many cores for the item encoding');
    const roles = selftestRoles(n);
    const b = new LayoutBuilder()
      .add('table', 'i32', SELFTEST_TABLE_ENTRIES)
      .add('counters', 'f64', n * C_FIELDS);
    roles.consumers.forEach((c, i) => b.addAll(`ring${i}`, ringLayout(cfg.ringSlots, 'mpsc')));
    return b.build();
  },

  init(): void {
    // Rings and counters start zeroed: nothing to do.
  },

  setupCore(env: CoreEnv): CoreSetup {
    const { cfg, sab, desc, globalCore } = env;
    const roles = selftestRoles(cores(cfg));
    const rings = roles.consumers.map((_, i) => new MpscRing(sab, subLayout(desc, `ring${i}`)));
    const table = column(sab, desc, 'table', 'i32');
    const counters = column(sab, desc, 'counters', 'f64');
    const row = globalCore * C_FIELDS;
    const contexts: KernelContext[] = [];
    const apps: AppThread[] = [];
    const ci = roles.consumers.indexOf(globalCore);
    if (ci >= 0) contexts.push(new Consumer(rings[ci]!, env, table, counters, row, 0 /* class 0 of this world: ids start at 0 */, roles.producers.length));
    const pi = roles.producers.indexOf(globalCore);
    if (pi >= 0) apps.push(new Producer(`producer${pi}`, pi, rings, roles.consumers, env, counters, row));
    return {
      contexts, apps,
      onMeasureStart() {
        counters[row + C.PRODUCED_AT_MEASURE] = counters[row + C.PRODUCED]!;
        counters[row + C.CONSUMED_AT_MEASURE] = counters[row + C.CONSUMED]!;
      },
    };
  },

  collect(cfg: EmuConfig, sab: SharedArrayBuffer, desc: LayoutDesc, measuredNs: number) {
    const n = cores(cfg);
    const roles = selftestRoles(n);
    const counters = column(sab, desc, 'counters', 'f64');
    const table = column(sab, desc, 'table', 'i32');
    let produced = 0, consumed = 0, full = 0, orderErrors = 0, producedWin = 0, consumedWin = 0;
    for (let c = 0; c < n; c++) {
      const r = c * C_FIELDS;
      produced += counters[r + C.PRODUCED]!;
      consumed += counters[r + C.CONSUMED]!;
      full += counters[r + C.FULL]!;
      orderErrors += counters[r + C.ORDER_ERRORS]!;
      producedWin += counters[r + C.PRODUCED]! - counters[r + C.PRODUCED_AT_MEASURE]!;
      consumedWin += counters[r + C.CONSUMED]! - counters[r + C.CONSUMED_AT_MEASURE]!;
    }
    let queued = 0;
    roles.consumers.forEach((_, i) => { queued += new MpscRing(sab, subLayout(desc, `ring${i}`)).size(); });
    let tableSum = 0;
    for (let e = 0; e < SELFTEST_TABLE_ENTRIES; e++) tableSum += table[e]!;
    const secs = measuredNs / 1e9;
    return {
      producers: roles.producers.length,
      consumers: roles.consumers.length,
      produced, consumed, queued, tableSum, ringFullEvents: full, orderErrors,
      itemsPerSec: secs > 0 ? consumedWin / secs : 0,
      producedPerSec: secs > 0 ? producedWin / secs : 0,
      invariants: {
        producedEqualsConsumedPlusQueued: produced === consumed + queued,
        tableSumEqualsConsumed: tableSum === consumed,
        orderKept: orderErrors === 0,
      },
    };
  },
};

/** This module's world, for the workers (src/cpu/world.ts: `importWorld`). */
export { selftestWorld as world };
