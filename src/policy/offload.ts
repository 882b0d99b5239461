/**
 * Per-core offload state of one host, as the kernel keeps it in `homa_offload_core`
 * (homa_offload.c): when each core last ran NAPI/GRO or SoftIRQ (`last_active`), when its GRO
 * handler last returned (`last_gro`), when an app thread last showed activity on it
 * (`last_app_active`), how many GRO batches are queued to its SoftIRQ (`softirq_backlog`, Gen2),
 * its Gen2 rotation offset, and its static Gen3 SoftIRQ candidates. Every core of a host reads
 * every other core's entries to steer packets and choose threads, so the state lives in one
 * SharedArrayBuffer per host (`offloadLayout`), mapped in each worker by `OffloadState`. Like
 * the kernel, the time stamps are plain stores (a reader may see a slightly stale value, which
 * only makes a heuristic slightly worse); only the backlog counter is atomic, and each core's
 * counter sits on its own cache line. Core numbers are the host's cores 0..numCores-1.
 */

import { ConfigError } from '../config/errors.js';
import { I32_PER_LINE, LayoutBuilder, allocate, column, type LayoutDesc } from '../shm/layout.js';

/** The kernel's NUM_GEN3_SOFTIRQ_CORES: candidates per GRO core; -1 ends a shorter list. */
export const GEN3_CANDIDATES = 3;
/** Int32 stride of `softirqBacklog`: one counter per 64-byte cache line. */
export const BACKLOG_STRIDE = I32_PER_LINE;
/**
 * "Never happened" time stamp written by `initOffload` (about -11.6 days). The kernel starts at
 * 0 on a clock that has run for days; our shared clock starts near 0, so 0 would make every
 * core look busy for the first busy_usecs of a run.
 */
export const NEVER_NS = -1e15;

/** Column names of the offload layout (one SAB per host). */
export const OffloadColumn = {
  LAST_ACTIVE_NS: 'lastActiveNs',
  LAST_GRO_NS: 'lastGroNs',
  LAST_APP_ACTIVE_NS: 'lastAppActiveNs',
  SOFTIRQ_BACKLOG: 'softirqBacklog',
  SOFTIRQ_OFFSET: 'softirqOffset',
  GEN3_SOFTIRQ_CORES: 'gen3SoftirqCores',
} as const;

/** Layout of one host's offload state for `numCores` cores (an integer >= 1). */
export function offloadLayout(numCores: number): LayoutDesc {
  if (!Number.isInteger(numCores) || numCores < 1) throw new ConfigError('cores', 'an integer >= 1', numCores);
  return new LayoutBuilder()
    .add(OffloadColumn.LAST_ACTIVE_NS, 'f64', numCores)
    .add(OffloadColumn.LAST_GRO_NS, 'f64', numCores)
    .add(OffloadColumn.LAST_APP_ACTIVE_NS, 'f64', numCores)
    .add(OffloadColumn.SOFTIRQ_BACKLOG, 'i32', numCores * BACKLOG_STRIDE)
    .add(OffloadColumn.SOFTIRQ_OFFSET, 'i32', numCores)
    .add(OffloadColumn.GEN3_SOFTIRQ_CORES, 'i32', numCores * GEN3_CANDIDATES)
    .build();
}

/**
 * One host's offload state mapped onto its SAB. Who writes what:
 * - `lastActiveNs[c]`: core c at the start of GRO and of SoftIRQ; a NAPI core running Gen3 on
 *   the core it picks.
 * - `lastGroNs[c]`: core c when its GRO handler returns.
 * - `lastAppActiveNs[c]`: app threads on core c (sendmsg, recvmsg, each polling iteration); a
 *   SoftIRQ core on the core of the thread it hands an RPC to.
 * - `softirqBacklog[c * BACKLOG_STRIDE]`: incremented (atomically) by the Gen2 NAPI core that
 *   queues a batch to c, decremented by c at the end of each SoftIRQ batch.
 * - `softirqOffset[c]`: core c (its own Gen2 rotation).
 * - `gen3SoftirqCores[c * 3 .. c * 3 + 2]`: the orchestrator, before the run.
 */
export class OffloadState {
  readonly numCores: number;
  readonly lastActiveNs: Float64Array;
  readonly lastGroNs: Float64Array;
  readonly lastAppActiveNs: Float64Array;
  readonly softirqBacklog: Int32Array;
  readonly softirqOffset: Int32Array;
  readonly gen3SoftirqCores: Int32Array;

  constructor(sab: SharedArrayBuffer, desc: LayoutDesc) {
    this.lastActiveNs = column(sab, desc, OffloadColumn.LAST_ACTIVE_NS, 'f64');
    this.lastGroNs = column(sab, desc, OffloadColumn.LAST_GRO_NS, 'f64');
    this.lastAppActiveNs = column(sab, desc, OffloadColumn.LAST_APP_ACTIVE_NS, 'f64');
    this.softirqBacklog = column(sab, desc, OffloadColumn.SOFTIRQ_BACKLOG, 'i32');
    this.softirqOffset = column(sab, desc, OffloadColumn.SOFTIRQ_OFFSET, 'i32');
    this.gen3SoftirqCores = column(sab, desc, OffloadColumn.GEN3_SOFTIRQ_CORES, 'i32');
    this.numCores = this.lastActiveNs.length;
  }

  /** Batches queued to `core`'s SoftIRQ (may be negative: see `noteSoftirqEnd`). */
  backlog(core: number): number {
    return Atomics.load(this.softirqBacklog, core * BACKLOG_STRIDE);
  }

  /** A batch was queued to `core`'s SoftIRQ (Gen2 counts its choices). */
  addBacklog(core: number): void {
    Atomics.add(this.softirqBacklog, core * BACKLOG_STRIDE, 1);
  }

  /** Start of homa_gro_receive on `core`: last_active = now. */
  noteGroStart(core: number, now: number): void {
    this.lastActiveNs[core] = now;
  }

  /** homa_gro_receive returns on `core` (bypass or not): last_gro = now. */
  noteGroEnd(core: number, now: number): void {
    this.lastGroNs[core] = now;
  }

  /** Start of homa_softirq on `core`: last_active = now. */
  noteSoftirqStart(core: number, now: number): void {
    this.lastActiveNs[core] = now;
  }

  /**
   * End of homa_softirq on `core`: softirq_backlog -= 1. Kernel quirk, kept on purpose: the
   * decrement happens after every batch, including batches nobody counted (GRO bypass,
   * same-core, Gen3, RPS), so the counter can go negative; Gen2 treats any value <= 0 as
   * "no backlog", so a negative count only makes the core look idle.
   */
  noteSoftirqEnd(core: number): void {
    Atomics.sub(this.softirqBacklog, core * BACKLOG_STRIDE, 1);
  }

  /**
   * App activity on `core`: last_app_active = now (homa_sendmsg / homa_recvmsg start, each
   * polling iteration of a waiting thread, and a hand-off to a thread on `core`).
   */
  noteAppActive(core: number, now: number): void {
    this.lastAppActiveNs[core] = now;
  }

  /** Gen3 candidate `i` (0..2) of GRO core `core`, or -1 when the list is shorter. */
  gen3Candidate(core: number, i: number): number {
    return this.gen3SoftirqCores[core * GEN3_CANDIDATES + i]!;
  }
}

/** Allocates a fresh SAB for `numCores` cores, maps it and runs `initOffload` (tests, tools). */
export function createOffloadState(numCores: number, gen3Cores?: ReadonlyArray<ReadonlyArray<number> | undefined>): OffloadState {
  const desc = offloadLayout(numCores);
  const st = new OffloadState(allocate(desc), desc);
  initOffload(st, gen3Cores);
  return st;
}

/**
 * Default Gen3 candidates of `core` on a host of `numCores`: the kernel's {core ^ 1, -1, -1}
 * (the hyperthread twin). When core ^ 1 does not exist (the last core of an odd-sized host) the
 * candidate is (core + 1) % numCores; on a 1-core host it is the core itself.
 */
export function defaultGen3Candidate(core: number, numCores: number): number {
  const twin = core ^ 1;
  return twin < numCores ? twin : (core + 1) % numCores;
}

/**
 * Resets the state before a run: every time stamp to NEVER_NS, backlogs to 0, Gen2 offsets to
 * 0 (the first rotation picks offset 1), and the Gen3 candidate lists. `gen3Cores[c]`, when
 * given, is GRO core c's list (1 to 3 distinct cores of this host, like a write of
 * "c c1 c2 c3" to the gen3_softirq_cores sysctl); cores without an entry get the default
 * (`defaultGen3Candidate`). A bad entry throws a ConfigError (code EINVALIDOPT).
 */
export function initOffload(st: OffloadState, gen3Cores?: ReadonlyArray<ReadonlyArray<number> | undefined>): void {
  const n = st.numCores;
  st.lastActiveNs.fill(NEVER_NS);
  st.lastGroNs.fill(NEVER_NS);
  st.lastAppActiveNs.fill(NEVER_NS);
  for (let c = 0; c < n; c++) Atomics.store(st.softirqBacklog, c * BACKLOG_STRIDE, 0);
  st.softirqOffset.fill(0);
  st.gen3SoftirqCores.fill(-1);
  if (gen3Cores !== undefined && gen3Cores.length > n) {
    throw new ConfigError('gen3-softirq-cores', `lists for GRO cores 0..${n - 1}`, `${gen3Cores.length} lists`);
  }
  for (let c = 0; c < n; c++) {
    const list = gen3Cores?.[c];
    if (list === undefined) {
      st.gen3SoftirqCores[c * GEN3_CANDIDATES] = defaultGen3Candidate(c, n);
      continue;
    }
    if (list.length < 1 || list.length > GEN3_CANDIDATES) {
      throw new ConfigError('gen3-softirq-cores', `1..${GEN3_CANDIDATES} SoftIRQ cores for GRO core ${c}`, list);
    }
    for (let i = 0; i < list.length; i++) {
      const cand = list[i]!;
      if (!Number.isInteger(cand) || cand < 0 || cand >= n || list.indexOf(cand) !== i) {
        throw new ConfigError('gen3-softirq-cores', `distinct cores 0..${n - 1} for GRO core ${c}`, list);
      }
      st.gen3SoftirqCores[c * GEN3_CANDIDATES + i] = cand;
    }
  }
}
