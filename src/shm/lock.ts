/**
 * Instrumented spinlocks in shared memory: every lock of the emulated data path (RPC bucket
 * locks, socket locks, grant lock, throttle lock, peer locks, pool locks, the pacer trylock)
 * is one Int32 word on its own cache line in a `LockTable`. Acquisition is a CAS; a miss spins
 * a bounded number of times, then falls back to `Atomics.wait` with a short timeout, so a holder
 * that the host OS descheduled cannot livelock an oversubscribed machine (futex-style 3-state
 * word: 0 free, 1 held, 2 held with waiters).
 *
 * Statistics follow Homa's `*_lock_misses` / `*_lock_miss_cycles` and go further. For each lock
 * class and each core (written only by that core, plain stores): acquisitions, misses
 * (contended acquisitions), wait ns, hold ns (sampled: one acquisition in `holdSampleEvery` by this core
 * reads the clock at both ends, because a clock read costs 60–80 ns), hand-offs (acquired by a
 * core other than the previous holder), max wait, and a log2 histogram of wait ns (for P99
 * wait). The uncontended fast path reads no clock.
 *
 * A wait longer than `maxWaitNs` throws a LockTimeoutError naming the lock, its class, the
 * holder core and the waiting core (a lock held far too long is a bug to report, not to hide).
 *
 * Memory: column `words` gives each lock LOCK_STRIDE Int32 (one line): word 0 the lock state,
 * word 1 the owner (core + 1 of the last acquirer, 0 if never taken; a plain word written only
 * by the holder). Column `stats` holds f64 rows [class][core][LOCK_STAT_FIELDS]; a row is 384
 * bytes, so every row starts on its own line. Virtual time keeps three doubles in each lock's line
 * (bytes 8-31): the last hold's end and start, and the current hold's start, all written only
 * under the lock. With assertions on (src/util/assert.ts: in tests and with HOMA_EMU_ASSERT=1)
 * or `debug`, unlocking a lock this core does not hold throws ELOCK_NOT_HELD, and acquiring one
 * it already holds throws ELOCK_HELD.
 */
import { LayoutBuilder, column, type LayoutDesc } from './layout.js';
import { clockReadCostNs, nowNs, nowNsInto } from './clock.js';
import { ShmError } from './ring.js';
import { ASSERT } from '../util/assert.js';

/** Per (class, core) statistic fields, in the order they are stored (f64 each). */
export const LockStat = {
  ACQUISITIONS: 0,
  MISSES: 1,
  WAIT_NS: 2,
  HOLD_NS_SAMPLED: 3,
  HOLD_SAMPLES: 4,
  HANDOFFS: 5,
  MAX_WAIT_NS: 6,
  TRYLOCK_FAILS: 7,
  /** First of WAIT_HIST_BUCKETS buckets: bucket b counts misses with wait in [2^b, 2^(b+1)) ns. */
  WAIT_HIST: 8,
} as const;
export const WAIT_HIST_BUCKETS = 40;
export const LOCK_STAT_FIELDS = LockStat.WAIT_HIST + WAIT_HIST_BUCKETS;

/** Int32 words per lock (one cache line): [state, owner+1, unused...]. */
export const LOCK_STRIDE = 16;
const OWNER = 1;

export const LOCK_FREE = 0;
export const LOCK_HELD = 1;
export const LOCK_CONTENDED = 2;

export interface LockTableSpec {
  /** Lock class names, e.g. ['client_bucket', 'server_bucket', 'socket', 'grant', 'throttle', ...]. */
  classes: readonly string[];
  /** Number of locks per class (the table holds their sum; ids are assigned class by class). */
  locksPerClass: readonly number[];
  /** Number of cores that take locks (stat rows). */
  cores: number;
}

function checkSpec(spec: LockTableSpec): number {
  if (spec.classes.length < 1 || spec.classes.length !== spec.locksPerClass.length) {
    throw new ShmError('ELOCK_SPEC', `lock table: classes (${spec.classes.length}) and locksPerClass (${spec.locksPerClass.length}) must have the same length >= 1`);
  }
  let total = 0;
  for (let c = 0; c < spec.classes.length; c++) {
    const n = spec.locksPerClass[c]!;
    if (!Number.isInteger(n) || n < 1 || n > 1 << 20) {
      throw new ShmError('ELOCK_SPEC', `lock table: locksPerClass[${c}] (${spec.classes[c]}) must be an integer in [1, ${1 << 20}], got ${n}`);
    }
    total += n;
  }
  if (!Number.isInteger(spec.cores) || spec.cores < 1 || spec.cores > 4096) {
    throw new ShmError('ELOCK_SPEC', `lock table: cores must be an integer in [1, 4096], got ${spec.cores}`);
  }
  return total;
}

/** Total number of locks in the table. */
export function lockCount(spec: LockTableSpec): number {
  return checkSpec(spec);
}

export function lockTableLayout(spec: LockTableSpec): LayoutDesc {
  const total = checkSpec(spec);
  return new LayoutBuilder()
    .add('words', 'i32', total * LOCK_STRIDE)
    .add('stats', 'f64', spec.classes.length * spec.cores * LOCK_STAT_FIELDS)
    .build();
}

/** First lock id of class `classIndex` (ids of one class are contiguous). */
export function firstLockId(spec: LockTableSpec, classIndex: number): number {
  let id = 0;
  for (let c = 0; c < classIndex; c++) id += spec.locksPerClass[c]!;
  return id;
}

export interface LockOptions {
  /** CAS attempts (with test-before-CAS) before falling back to Atomics.wait. */
  spinLimit: number;
  /** Atomics.wait timeout per sleep, ms. */
  waitTimeoutMs: number;
  /** Read the clock for hold time on one acquisition in this many (power of two). */
  holdSampleEvery: number;
  /** A wait longer than this throws LockTimeoutError. */
  maxWaitNs: number;
  /** Catch unlocks of locks this core does not hold (default: src/util/assert.ts's ASSERT: in tests and with HOMA_EMU_ASSERT=1). */
  debug?: boolean;
  /**
   * Virtual time (src/cpu/vsync.ts): this core's clock. Each lock then remembers the virtual
   * time of its last release; an acquirer whose clock is earlier waits (spinning, as the
   * kernel's *_lock_miss_cycles counts it) until then, and every statistic is in emulated ns.
   */
  vclock?: { t: number };
}

/**
 * holdSampleEvery 256: each sample reads the clock twice, and in Node every read allocates a
 * 16-byte HeapNumber (performance.now's result) as well as costing 60–80 ns; at 1 in 64 the ~9
 * lock acquisitions of each received packet made lock sampling the largest source of garbage on
 * the receive path. A core still takes thousands of samples per second.
 */
export const DEFAULT_LOCK_OPTIONS: LockOptions = { spinLimit: 200, waitTimeoutMs: 1, holdSampleEvery: 256, maxWaitNs: 10e9 };

function checkOptions(o: LockOptions): void {
  const bad = (name: string, range: string, v: number): never => {
    throw new ShmError('ELOCK_OPTION', `lock: ${name} must be ${range}, got ${v}`);
  };
  if (!Number.isInteger(o.spinLimit) || o.spinLimit < 0) bad('spinLimit', 'an integer >= 0', o.spinLimit);
  if (!(o.waitTimeoutMs > 0) || !Number.isFinite(o.waitTimeoutMs)) bad('waitTimeoutMs', 'a finite number > 0', o.waitTimeoutMs);
  const h = o.holdSampleEvery;
  if (!Number.isInteger(h) || h < 1 || h > 1 << 30 || (h & (h - 1)) !== 0) bad('holdSampleEvery', 'a power of two in [1, 2^30]', h);
  if (!(o.maxWaitNs > 0)) bad('maxWaitNs', 'a number > 0', o.maxWaitNs);
}

export class LockTimeoutError extends Error {
  readonly code = 'ELOCKTIMEOUT';
  constructor(readonly lockId: number, readonly lockClass: string, readonly holderCore: number, readonly waiterCore: number, readonly waitedNs: number) {
    super(`lock ${lockClass}#${lockId} waited ${(waitedNs / 1e6).toFixed(1)} ms by core ${waiterCore}; held by core ${holderCore}`);
  }
}

/** Log2 bucket of a wait in ns (bucket b: [2^b, 2^(b+1)); waits < 2 ns go to bucket 0). */
/** Where lock waits are recorded (a core's time trace, src/metrics/timetrace.ts). */
export interface LockWaitTrace {
  record(nowNs: number, fmtId: number, a0: number, a1: number, a2: number, a3: number): void;
}

export function waitBucket(waitNs: number): number {
  if (!(waitNs >= 2)) return 0;
  const b = Math.floor(Math.log2(waitNs));
  return b < WAIT_HIST_BUCKETS ? b : WAIT_HIST_BUCKETS - 1;
}

/** One core's handle on the shared lock table. */
export class LockTable {
  readonly core: number;
  readonly numLocks: number;
  readonly debug: boolean;
  /** Debug only: 1 for each lock this core acquired and has not released (catches a self-deadlock). */
  private readonly heldHere: Uint8Array;
  private readonly words: Int32Array;
  private readonly stats: Float64Array;
  private readonly spec: LockTableSpec;
  private readonly spinLimit: number;
  private readonly waitTimeoutMs: number;
  private readonly holdMask: number;
  private readonly maxWaitNs: number;
  /** Per lock: start of this core's stat row for the lock's class. */
  private readonly rowOf: Int32Array;
  private readonly classOf: Uint16Array;
  /** The lock whose hold time is being sampled (-1: none; one at a time). */
  private sampledId = -1;
  /** [start of the sampled hold, end of it] in ns: clock readings land here, never boxed. */
  private readonly sampleNs = new Float64Array(2);
  /** Owner word value of this core (core + 1). */
  private readonly me: number;
  /** Acquisitions by this handle (int32, wraps): the hold-time sampling counter. */
  private tick = 0;
  /** One clock read's cost, subtracted from each sampled hold. */
  private readonly clockCostNs: number;
  /** Virtual time: the lock lines seen as doubles ([id*8+1] last release, [id*8+2] this hold's start). */
  private readonly vtimes: Float64Array | null;
  private readonly vclock: { t: number } | null;
  /**
   * Virtual time: holds by this core that overlapped, in emulated time, a hold another core had
   * already made of the same lock (it got the lock first on the host though it came later in
   * emulated time: ahead within the window, or carried past by one long unit), so that the wait
   * the emulated order implies (that core until this one's release) was never counted; and how
   * long those missed waits were (sum, max; ns).
   */
  orderInversions = 0;
  orderInversionNs = 0;
  orderInversionMaxNs = 0;

  constructor(sab: SharedArrayBuffer, desc: LayoutDesc, spec: LockTableSpec, core: number, opts?: Partial<LockOptions>) {
    const total = checkSpec(spec);
    if (!Number.isInteger(core) || core < 0 || core >= spec.cores) {
      throw new ShmError('ELOCK_CORE', `lock table: core must be an integer in [0, ${spec.cores - 1}], got ${core}`);
    }
    const o: LockOptions = { ...DEFAULT_LOCK_OPTIONS, ...opts };
    checkOptions(o);
    this.core = core;
    this.me = core + 1;
    this.spec = spec;
    this.numLocks = total;
    this.debug = o.debug ?? ASSERT;
    this.heldHere = new Uint8Array(this.debug ? total : 0);
    this.spinLimit = o.spinLimit;
    this.waitTimeoutMs = o.waitTimeoutMs;
    this.holdMask = o.holdSampleEvery - 1;
    this.clockCostNs = clockReadCostNs();
    this.maxWaitNs = o.maxWaitNs;
    this.words = column(sab, desc, 'words', 'i32');
    this.stats = column(sab, desc, 'stats', 'f64');
    this.vclock = o.vclock ?? null;
    this.vtimes = this.vclock !== null ? new Float64Array(this.words.buffer, this.words.byteOffset, this.words.length >> 1) : null;
    if (this.words.length < total * LOCK_STRIDE || this.stats.length < spec.classes.length * spec.cores * LOCK_STAT_FIELDS) {
      throw new ShmError('ELOCK_LAYOUT', 'lock table: layout does not match the spec (use lockTableLayout)');
    }
    this.rowOf = new Int32Array(total);
    this.classOf = new Uint16Array(total);
    let id = 0;
    for (let c = 0; c < spec.classes.length; c++) {
      for (let j = 0; j < spec.locksPerClass[c]!; j++, id++) {
        this.rowOf[id] = (c * spec.cores + core) * LOCK_STAT_FIELDS;
        this.classOf[id] = c;
      }
    }
  }

  /** Time trace of lock waits (--tt): begin/end events per class, or null. */
  private trace: LockWaitTrace | null = null;
  private traceIds: Int32Array | null = null;

  /**
   * Records every wait for a lock (not the uncontended path) into `trace`: event `ids[class]`
   * when the wait begins and `ids[class] + 1` when it ends (a class with id -1 is not traced).
   */
  traceWaits(trace: LockWaitTrace, ids: Int32Array): void {
    if (ids.length !== this.spec.classes.length) {
      throw new ShmError('ELOCK_TRACE', `lock table: ${ids.length} trace ids for ${this.spec.classes.length} classes`);
    }
    this.trace = trace;
    this.traceIds = ids;
  }

  lock(id: number): void {
    if (this.debug) this.checkAcquire(id);
    if (Atomics.compareExchange(this.words, id * LOCK_STRIDE, LOCK_FREE, LOCK_HELD) === LOCK_FREE) {
      if (this.vtimes !== null) this.virtualAcquired(id);
      else this.acquired(id, -1);
      return;
    }
    this.lockSlow(id);
  }

  /** Returns true if acquired (counted as an acquisition), false if held (counted as a trylock fail). */
  trylock(id: number): boolean {
    if (this.debug) this.checkId(id);
    const w = id * LOCK_STRIDE;
    // The test before the CAS is a plain load (a hint; the CAS decides): an atomic one costs ~8 ns.
    if (this.words[w] === LOCK_FREE
      && Atomics.compareExchange(this.words, w, LOCK_FREE, LOCK_HELD) === LOCK_FREE) {
      const vt = this.vtimes;
      if (vt === null) {
        this.acquired(id, -1);
        return true;
      }
      // Free now, but still held at this core's virtual time: the kernel's trylock fails.
      if (vt[id * 8 + 1]! <= this.vclock!.t) {
        this.virtualAcquired(id);
        return true;
      }
      if (Atomics.exchange(this.words, w, LOCK_FREE) === LOCK_CONTENDED) Atomics.notify(this.words, w, 1);
    }
    this.stats[this.rowOf[id]! + LockStat.TRYLOCK_FAILS]! += 1;
    return false;
  }

  unlock(id: number): void {
    const w = id * LOCK_STRIDE;
    if (this.debug) {
      this.checkId(id);
      this.heldHere[id] = 0;
      if (Atomics.load(this.words, w) === LOCK_FREE || this.words[w + OWNER] !== this.me) {
        throw new ShmError('ELOCK_NOT_HELD',
          `lock ${this.spec.classes[this.classOf[id]!]}#${id}: unlock by core ${this.core}, which does not hold it (holder ${this.holder(id)})`);
      }
    }
    if (this.vtimes !== null) {
      this.virtualReleased(id);
    } else if (id === this.sampledId) {
      const row = this.rowOf[id]!;
      const t = this.sampleNs;
      nowNsInto(t, 1);
      const held = t[1]! - t[0]! - this.clockCostNs;
      this.stats[row + LockStat.HOLD_NS_SAMPLED]! += held > 0 ? held : 0;
      this.stats[row + LockStat.HOLD_SAMPLES]! += 1;
      this.sampledId = -1;
    }
    if (Atomics.exchange(this.words, w, LOCK_FREE) === LOCK_CONTENDED) Atomics.notify(this.words, w, 1);
  }

  /** Core that holds `id`, or -1. (Diagnostics only.) */
  holder(id: number): number {
    const w = id * LOCK_STRIDE;
    if (Atomics.load(this.words, w) === LOCK_FREE) return -1;
    return this.words[w + OWNER]! - 1;
  }

  /** Zeroes this core's stat rows (at the start of the measured window). */
  resetStats(): void {
    this.orderInversions = 0;
    this.orderInversionNs = 0;
    this.orderInversionMaxNs = 0;
    for (let c = 0; c < this.spec.classes.length; c++) {
      const row = (c * this.spec.cores + this.core) * LOCK_STAT_FIELDS;
      this.stats.fill(0, row, row + LOCK_STAT_FIELDS);
    }
  }

  /** Bookkeeping common to every acquisition; `now` >= 0 when the caller already read the clock. */
  private acquired(id: number, now: number): void {
    const row = this.rowOf[id]!;
    const stats = this.stats;
    stats[row + LockStat.ACQUISITIONS]! += 1;
    if (this.debug) this.heldHere[id] = 1;
    const ow = id * LOCK_STRIDE + OWNER;
    const prev = this.words[ow]!;
    if (prev !== this.me) {
      if (prev !== 0) stats[row + LockStat.HANDOFFS]! += 1;
      this.words[ow] = this.me;
    }
    const tick = this.tick;
    this.tick = (tick + 1) | 0;
    if ((tick & this.holdMask) === 0 && this.sampledId === -1) {
      this.sampledId = id;
      if (now >= 0) this.sampleNs[0] = now; else nowNsInto(this.sampleNs, 0);
    }
  }

  /**
   * Virtual time: the lock is really ours; if its last release lies in this core's virtual
   * future, the core spins until then (a miss, waiting that long in emulated ns).
   */
  private virtualAcquired(id: number): void {
    const vt = this.vtimes!;
    const clock = this.vclock!;
    const row = this.rowOf[id]!;
    const stats = this.stats;
    stats[row + LockStat.ACQUISITIONS]! += 1;
    // The last hold is [start, rel]. Only a hold that began at or before this core's time overlaps
    // it: one that began later lies in this core's future (that core ran ahead within the
    // window, or one long unit carried it past), and in emulated time this core came first.
    const rel = vt[id * 8 + 1]!;
    const lastStart = vt[id * 8 + 2]!;
    // A last hold that began in this core's future: another core took the lock first on the
    // host but later in emulated time. Kept for `unlock`, which counts it if the holds overlap.
    vt[id * 8 + 4] = lastStart > clock.t ? lastStart : Infinity;
    if (rel > clock.t && lastStart <= clock.t) {
      const wait = rel - clock.t;
      const tr = this.trace;
      if (tr !== null) {
        const ev = this.traceIds![this.classOf[id]!]!;
        if (ev >= 0) { tr.record(clock.t, ev, 0, 0, 0, 0); tr.record(rel, ev + 1, 0, 0, 0, 0); }
      }
      clock.t = rel;
      stats[row + LockStat.MISSES]! += 1;
      stats[row + LockStat.WAIT_NS]! += wait;
      if (wait > stats[row + LockStat.MAX_WAIT_NS]!) stats[row + LockStat.MAX_WAIT_NS] = wait;
      stats[row + LockStat.WAIT_HIST + waitBucket(wait)]! += 1;
    }
    vt[id * 8 + 3] = clock.t;
    if (this.debug) this.heldHere[id] = 1;
    const ow = id * LOCK_STRIDE + OWNER;
    const prev = this.words[ow]!;
    if (prev !== this.me) {
      if (prev !== 0) stats[row + LockStat.HANDOFFS]! += 1;
      this.words[ow] = this.me;
    }
  }

  /**
   * Virtual time: records this hold [start, now] (the lock's last hold unless it lies wholly
   * before the one recorded) and counts it out of emulated order if a hold another core made
   * first began inside it (kept apart from `unlock` so the wall-clock path stays small).
   */
  private virtualReleased(id: number): void {
    const vt = this.vtimes!;
    const now = this.vclock!.t;
    const start = vt[id * 8 + 3]!;
    const later = vt[id * 8 + 4]!;
    if (later < now) {
      // That other hold began inside this one: in emulated order its core would have waited
      // until now, and nobody counted that wait (fidelity: the window, or one long unit).
      const missed = now - later;
      this.orderInversions++;
      this.orderInversionNs += missed;
      if (missed > this.orderInversionMaxNs) this.orderInversionMaxNs = missed;
    }
    const row = this.rowOf[id]!;
    this.stats[row + LockStat.HOLD_NS_SAMPLED]! += now - start;
    this.stats[row + LockStat.HOLD_SAMPLES]! += 1;
    if (now >= vt[id * 8 + 1]! || start >= vt[id * 8 + 2]!) {
      vt[id * 8 + 1] = now;
      vt[id * 8 + 2] = start;
    }
  }

  private lockSlow(id: number): void {
    const words = this.words;
    const w = id * LOCK_STRIDE;
    const t0 = nowNs();
    let got = false;
    for (let i = 0; i < this.spinLimit; i++) {
      if (Atomics.load(words, w) === LOCK_FREE
        && Atomics.compareExchange(words, w, LOCK_FREE, LOCK_HELD) === LOCK_FREE) {
        got = true;
        break;
      }
    }
    let t1 = 0;
    if (!got) {
      // Announce a waiter (state 2); whoever unlocks will notify. Acquiring this way leaves the
      // word at 2, which at worst costs the next unlock one unneeded notify.
      while (Atomics.exchange(words, w, LOCK_CONTENDED) !== LOCK_FREE) {
        Atomics.wait(words, w, LOCK_CONTENDED, this.waitTimeoutMs);
        t1 = nowNs();
        if (t1 - t0 > this.maxWaitNs) {
          throw new LockTimeoutError(id, this.spec.classes[this.classOf[id]!]!, this.holder(id), this.core, t1 - t0);
        }
      }
    }
    if (this.vtimes !== null) {
      // The host's wait says nothing about the emulated core: only virtual time counts.
      this.virtualAcquired(id);
      return;
    }
    t1 = nowNs();
    const wait = t1 - t0;
    const tr = this.trace;
    if (tr !== null) {
      const ev = this.traceIds![this.classOf[id]!]!;
      if (ev >= 0) { tr.record(t0, ev, 0, 0, 0, 0); tr.record(t1, ev + 1, 0, 0, 0, 0); }
    }
    const row = this.rowOf[id]!;
    const stats = this.stats;
    stats[row + LockStat.MISSES]! += 1;
    stats[row + LockStat.WAIT_NS]! += wait;
    if (wait > stats[row + LockStat.MAX_WAIT_NS]!) stats[row + LockStat.MAX_WAIT_NS] = wait;
    stats[row + LockStat.WAIT_HIST + waitBucket(wait)]! += 1;
    this.acquired(id, t1);
  }

  /** Debug: a lock this core already holds would spin forever (the kernel's self-deadlock). */
  private checkAcquire(id: number): void {
    this.checkId(id);
    if (this.heldHere[id] === 1) {
      throw new ShmError('ELOCK_HELD', `lock ${this.spec.classes[this.classOf[id]!]}#${id}: core ${this.core} acquires a lock it already holds`);
    }
  }

  private checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.numLocks) {
      throw new ShmError('ELOCK_ID', `lock: id must be an integer in [0, ${this.numLocks - 1}], got ${id}`);
    }
  }
}

/** Main thread: stats of one class summed over cores, plus per-core rows. */
export function readLockStats(sab: SharedArrayBuffer, desc: LayoutDesc, spec: LockTableSpec): Array<{ cls: string; perCore: Float64Array[]; total: Float64Array }> {
  checkSpec(spec);
  const stats = column(sab, desc, 'stats', 'f64');
  const out: Array<{ cls: string; perCore: Float64Array[]; total: Float64Array }> = [];
  for (let c = 0; c < spec.classes.length; c++) {
    const perCore: Float64Array[] = [];
    const total = new Float64Array(LOCK_STAT_FIELDS);
    for (let k = 0; k < spec.cores; k++) {
      const row = (c * spec.cores + k) * LOCK_STAT_FIELDS;
      const r = stats.slice(row, row + LOCK_STAT_FIELDS);
      perCore.push(r);
      for (let f = 0; f < LOCK_STAT_FIELDS; f++) {
        if (f === LockStat.MAX_WAIT_NS) total[f] = Math.max(total[f]!, r[f]!);
        else total[f]! += r[f]!;
      }
    }
    out.push({ cls: spec.classes[c]!, perCore, total });
  }
  return out;
}
