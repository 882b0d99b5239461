/**
 * `emulate(cfg)`: one Homa emulation under a cp_node-style workload, reduced to the figures a
 * Homa user reads (docs/DESIGN.md §7): throughput, RTT and slowdown per message length (cperf's
 * digest), short-message RTT percentiles, where the cores went, hand-off latencies, the lock
 * table, pacer, grants, canaries and fidelity. The slowdown denominator needs a base RTT: given
 * (`--base-rtt-usecs`) or measured by a short unloaded run of the same cluster first (one
 * 100-byte RPC in flight per client host), as cperf's old `--unloaded` baseline did; the probe
 * and the run share their worker threads, so a large cluster starts once. The CLI's
 * `run` prints this object; `--json` writes it whole.
 */
import type { MetricName } from '../homa/metrics.js';
import { readTimetraceData, type TimetraceData } from '../metrics/trace-files.js';
import type { EmuConfig } from '../config/config.js';
import { nonDefaults, optionValues, resolveConfig } from '../config/config.js';
import { steeringInForce } from '../config/policies.js';
import { formatWakeupPlacement } from '../config/wakeup-placement.js';
import { busiestCore, coreRows, fidelity, virtualFidelity, workerLabel, type CoreRow, type FidelityReport } from '../metrics/cores.js';
import { resolveCosts } from '../config/cost-profile.js';
import { unloadedRttPath, type PathStage } from '../homa/cost-path.js';
import { computeDigest, type Digest } from '../metrics/digest.js';
import { cdfPoints, mergeEncoded, percentiles, type Percentiles } from '../metrics/histo.js';
import { lockRows, type LockRow } from '../metrics/locks.js';
import { LockStat } from '../shm/lock.js';
import { parseStalls, type StallSpec } from '../cpu/faults.js';
import type { RunOptions, WorkerPool } from '../run/orchestrator.js';
import { openWorkerPool, runWorld } from './worlds.js';
import { column, subLayout, type LayoutDesc } from '../shm/layout.js';
import { M, NUM_METRICS } from '../homa/metrics.js';
import type { RawMetricsSource } from '../metrics/homa-metrics.js';
import { timeBaseOf, toEmulatedNs, type TimeBase } from '../metrics/emu-time.js';
import { RunInterrupted } from '../run/interrupt.js';
import { runWarnings, type RunWarning } from '../metrics/warnings.js';

/** What the Homa world's collect returns (the parts the report reads). */
export interface HomaCollected {
  hosts: Array<{ host: number; metrics: Record<MetricName, number>; app: Record<string, number> }>;
  net: { hosts: Array<Record<string, unknown>>; totals: { xmitPkts: number; rcvdPkts: number; droppedPkts: number; drops: Record<string, number>; balanced: boolean } };
  packets: Record<string, number>;
  leaks: Record<string, number>;
  cpNode?: {
    workload: { name: string; meanBytes: number };
    clients: Array<{ host: number; port: number; sent: number; completed: number; bytesOut: number; bytesIn: number; lagNs: number; maxLagNs: number; outstanding: number; outstandingStart?: number; mismatches: number; errors: Record<string, number>; refused: number; overwritten: number }>;
    servers: Array<{ host: number; port: number; requests: number; bytesIn: number; bytesOut: number }>;
    rtts: { lengths: ArrayLike<number>; rttNs: ArrayLike<number>; hosts?: ArrayLike<number> };
    rttHist: string;
    handoff: { groToSoftirq: string[]; softirqToApp: string[] };
  };
}

export interface EmulateResult {
  header: {
    seed: number; workload: string; gbps: number; hosts: number; coresPerHost: number; emulatedCores: number;
    workerThreads: number; hostCpus: number; oversubscription: number; idleMode: string; dilation: number;
    warmupMs: number; durationMs: number; measuredSec: number; emulatedSec: number; interrupted: boolean;
    nonDefaults: Array<[string, unknown]>; stalls: StallSpec[]; baseRttUs: number; baseRttSource: 'given' | 'measured';
    /** 'virtual' (emulated time from the cost profile) or 'wall' (host time / dilation). */
    clock: string; costProfile: string; syncWindowNs: number; deterministic: boolean;
    /** Wall seconds the whole run took (virtual) and emulated seconds per wall second. */
    wallSec: number; emulatedPerWallSec: number;
    /** --clock virtual: --max-wall-s ended the run before its emulated window was over. */
    wallLimitHit: boolean;
    /** --clock virtual: the modelled unloaded 100 B RTT, stage by stage (emulated ns). */
    calibration: { stages: PathStage[]; totalUs: number } | null;
  };
  throughput: {
    rpcsPerSec: number; requestGbps: number; responseGbps: number;
    perHost: Array<{ host: number; rpcsPerSec: number; gbpsOut: number; gbpsIn: number; served: number }>;
  };
  latency: { digest: Digest; rtt: Percentiles };
  overload: { maxLagUs: number; lagFraction: number; outstanding: number };
  /**
   * Client RPCs of the window: issued, completed byte-exact, mismatched, aborted (an error after
   * the RPC was created), still outstanding at the end and at the start of the window; and sends
   * refused at once (no RPC made). sent - completed - mismatched - aborted = outstanding -
   * outstandingStart exactly: every change is counted on the clock of the core that makes it,
   * and with --clock virtual the window starts at one emulated instant on every core.
   */
  rpcs: { sent: number; completed: number; mismatched: number; aborted: number; outstanding: number; outstandingStart: number; refused: number };
  cores: CoreRow[];
  busiest: string | null;
  handoff: {
    groToSoftirq: Percentiles; softirqToApp: Percentiles;
    /** CDF points [emulated ns, fraction of hand-offs <= ns] of each (for the plots). */
    cdf: { groToSoftirq: Array<[number, number]>; softirqToApp: Array<[number, number]> };
  };
  locks: LockRow[];
  pacer: {
    /** The pacer policy in force (cfg.policies.pacer: a built-in name or a module path) and the throttle list's structure. */
    policy: string; throttleInsert: string;
    pacerPackets: number; otherDataPackets: number; pacerShare: number; helpPackets: number; throttleListAdds: number;
    checksPerAdd: number; nicThrottled: number;
    /** Time-weighted mean and max length of the throttled list (over hosts: mean of means, max of maxes). */
    throttledMean: number; throttledMax: number;
    /** Share of the time something was throttled (metrics.py's nic_backlog_cycles / elapsed), mean over hosts. */
    nicBacklogShare: number;
  };
  gro: {
    steering: string; groBatches: number; packetsPerBatch: number; dataBypasses: number; grantBypasses: number;
    gen2Rotations: number; gen3Handoffs: number; gen3AltHandoffs: number; softirqCalls: number;
  };
  threads: {
    /** The thread choice in force (cfg.policies.threadChoice) and how app threads wait. */
    threadChoice: string; waitMode: string;
    /** Messages handed straight to a waiting thread vs queued on the ready list (homa_rpc_handoff). */
    handoffsThreadWaiting: number; handoffsAltThread: number; readyListAdds: number;
    /** How recvmsg found its message: ready at once, while polling, after blocking (metrics.py's %). */
    waitNone: number; waitFast: number; waitBlock: number;
    /** Threads woken on another core (--wakeup-placement). */
    wakeupMigrations: number; placement: string;
  };
  grants: { grantsPerSec: number; needyGrants: number; fifoGrants: number; fifoGrantBytes: number; grantChecks: number };
  canaries: Record<string, number>;
  accounting: { mismatches: number; leaks: Record<string, number>; networkBalanced: boolean; sent: number; received: number; dropped: number };
  metrics: Record<string, number>;
  fidelity: FidelityReport;
  /** Trouble in the emulated cluster and fidelity of the host, each with the option to change. */
  warnings: RunWarning[];
  /** Every measured (response length, RTT ns, client host) triple; left out of the JSON report (see --rtts). */
  samples: { lengths: Int32Array; rttNs: Float64Array; hosts: Int32Array };
  /** The run's raw per-core columns (for --metrics); left out of the JSON report. */
  detail: RawMetricsSource & { timeBase: TimeBase; timetrace: TimetraceData | null };
}

/** Sum of one metric over all hosts. */
function total(c: HomaCollected, name: MetricName): number {
  let s = 0;
  for (const h of c.hosts) s += h.metrics[name];
  return s;
}

function throttleStats(c: HomaCollected): { throttledMean: number; throttledMax: number; nicBacklogShare: number } {
  let mean = 0, max = 0, share = 0, n = 0;
  for (const h of c.hosts) {
    const span = h.metrics.throttled_sample_ns;
    if (span <= 0) continue;
    n++;
    mean += h.metrics.throttled_integral / span;
    share += h.metrics.nic_backlog_ns / span;
    max = Math.max(max, h.metrics.throttled_max);
  }
  return { throttledMean: n > 0 ? mean / n : 0, throttledMax: max, nicBacklogShare: n > 0 ? share / n : 0 };
}

/** The short unloaded run that measures the base RTT of a 100-byte RPC on this cluster. */
export async function measureBaseRttUs(cfg: EmuConfig, opts: RunOptions = {}): Promise<number> {
  const virtual = cfg.clock === 'virtual';
  const probe = resolveConfig({
    ...cfg, workload: '100', gbps: 0, clientMax: 1, ports: 1, portReceivers: 0, serverPorts: 1, portThreads: 1,
    // Wall clock: warm up long enough for the first, slow RTTs (JIT, page faults) to be
    // discarded: on a small host they are 2-4x the warm ones and would shrink every slowdown.
    // Virtual clock: no warm-up effects exist; a few hundred RPCs of emulated time suffice.
    serviceUsecs: 0, warmupMs: virtual ? 0.1 : 500, durationMs: virtual ? 2 : 700, stall: '', lossRate: 0,
    baseRttUsecs: 1, maxWallS: 0, ttEvents: 0,
  } as Record<string, unknown>);
  const raw = await runWorld('homa', probe, { signal: opts.signal, onStarting: opts.onStarting, onProgress: opts.onProgress, pool: opts.pool }).catch((e: unknown) => {
    throw e instanceof RunInterrupted ? new RunInterrupted('base-RTT probe') : e;
  });
  if (raw.interrupted) throw new RunInterrupted('base-RTT probe');
  const c = raw.worldResult as HomaCollected;
  const rtt = c.cpNode?.rtts.rttNs;
  if (rtt === undefined || rtt.length === 0) {
    throw new Error('base RTT: the unloaded run completed no RPC; give --base-rtt-usecs');
  }
  const s = Float64Array.from(rtt).sort();
  const medianUs = s[s.length >> 1]! / 1000;
  // cperf's denominator is base + L*8/link: make it equal the measured median at L = 100.
  return Math.max(0.1, medianUs - (100 * 8) / cfg.linkMbps);
}

export interface EmulateOptions extends RunOptions {
  /** Called when a stage begins: the base-RTT probe (when the base RTT is not given), then the run. */
  onStage?: (stage: 'base-rtt' | 'run') => void;
}

export async function emulate(cfg: EmuConfig, opts: EmulateOptions = {}): Promise<EmulateResult> {
  const given = cfg.baseRttUsecs > 0;
  // The base-RTT probe and the run share their worker threads: the cluster starts once.
  const own: WorkerPool | undefined = given || opts.pool !== undefined ? undefined : await openWorkerPool('homa', cfg);
  const pool = opts.pool ?? own;
  let baseRttUs = cfg.baseRttUsecs;
  let raw: Awaited<ReturnType<typeof runWorld>>;
  try {
    if (!given) {
      opts.onStage?.('base-rtt');
      baseRttUs = await measureBaseRttUs(cfg, { ...opts, pool });
    }
    opts.onStage?.('run');
    if (opts.signal?.aborted === true) throw new RunInterrupted('base-RTT probe');
    raw = await runWorld('homa', cfg, { ...opts, pool });
  } catch (e) {
    // Not awaited: threads interrupted while starting are closed once they have started.
    if (own !== undefined) void own.close();
    throw e;
  }
  if (own !== undefined) await own.close();
  const c = raw.worldResult as HomaCollected;
  const cp = c.cpNode;
  const virtual = cfg.clock === 'virtual';
  // Virtual: measuredNs is emulated already; wall: it is wall time, stretched by the dilation.
  const wallSec = virtual ? raw.wallNs / 1e9 : raw.measuredNs / 1e9;
  const emuSec = virtual ? raw.measuredNs / 1e9 : wallSec / cfg.dilation;
  const costs = virtual ? resolveCosts(cfg.costProfile, cfg.costScale) : null;

  const tb = timeBaseOf(cfg);
  const cores = coreRows(raw.coreStats, raw.totalWorkers, cfg.cores, raw.hasFabric, tb);
  const lockAcquisitions = raw.lockStats.reduce((a, l) => a + l.total[LockStat.ACQUISITIONS]!, 0);
  const vfid = costs !== null ? virtualFidelity(raw.coreStats, raw.totalWorkers, lockAcquisitions, {
    costProfile: costs.profile, costScale: cfg.costScale, syncWindowNs: cfg.deterministic ? 0 : cfg.syncWindowNs,
    deterministic: cfg.deterministic, emulatedPerWallSec: raw.wallNs > 0 ? (cfg.warmupMs / 1e3 + emuSec) / (raw.wallNs / 1e9) : 0,
  }) : null;
  const fid = fidelity(cores.filter((r) => r.label !== 'fabric'), raw.hostCpus, raw.emulatedCores, raw.totalWorkers, cfg.idleMode, cfg.dilation, vfid);
  const path = costs !== null && !costs.measured ? unloadedRttPath(cfg, costs) : null;

  const clients = cp?.clients ?? [];
  const completed = clients.reduce((a, x) => a + x.completed, 0);
  const bytesOut = clients.reduce((a, x) => a + x.bytesOut, 0);
  const bytesIn = clients.reduce((a, x) => a + x.bytesIn, 0);
  const perHost = c.hosts.map((h) => {
    const mine = clients.filter((x) => x.host === h.host);
    const servers = (cp?.servers ?? []).filter((s) => s.host === h.host);
    return {
      host: h.host,
      rpcsPerSec: emuSec > 0 ? mine.reduce((a, x) => a + x.completed, 0) / emuSec : 0,
      gbpsOut: emuSec > 0 ? (8 * (mine.reduce((a, x) => a + x.bytesOut, 0) + servers.reduce((a, s) => a + s.bytesOut, 0))) / emuSec / 1e9 : 0,
      gbpsIn: emuSec > 0 ? (8 * (mine.reduce((a, x) => a + x.bytesIn, 0) + servers.reduce((a, s) => a + s.bytesIn, 0))) / emuSec / 1e9 : 0,
      served: servers.reduce((a, s) => a + s.requests, 0),
    };
  });

  const rtts = cp?.rtts ?? { lengths: [], rttNs: [], hosts: [] };
  const samples = {
    lengths: Int32Array.from(rtts.lengths), rttNs: Float64Array.from(rtts.rttNs),
    hosts: rtts.hosts !== undefined ? Int32Array.from(rtts.hosts) : new Int32Array(rtts.lengths.length),
  };
  const digest = computeDigest(samples, { linkMbps: cfg.linkMbps, baseRttUs });

  const pacerPackets = total(c, 'pacer_packets');
  const otherData = total(c, 'other_data_packets');
  const adds = total(c, 'throttle_list_adds');
  const mismatches = clients.reduce((a, x) => a + x.mismatches, 0) + c.hosts.reduce((a, h) => a + (h.app['mismatches'] ?? 0), 0);
  const canaryNames: MetricName[] = ['resent_packets', 'rpc_timeouts', 'aborts_enotconn', 'aborts_etimedout', 'packet_alloc_failures',
    'rpc_alloc_failures', 'page_alloc_failures', 'data_dropped_no_bufs', 'data_dropped_gaps_full', 'softirq_ring_full_drops',
    'tx_ring_full', 'unknown_rpcs', 'server_cant_create_rpcs', 'ack_overflows', 'waiters_full', 'data_dropped_duplicate'];
  const canaries: Record<string, number> = {};
  for (const n of canaryNames) { const v = total(c, n); if (v !== 0) canaries[n] = v; }
  for (const [k, v] of Object.entries(c.net.totals.drops)) if (v !== 0) canaries[`net_drop_${k}`] = v;
  for (const x of clients) for (const [k, v] of Object.entries(x.errors)) canaries[`client_error_${k}`] = (canaries[`client_error_${k}`] ?? 0) + v;

  const metrics: Record<string, number> = {};
  for (const h of c.hosts) for (const [k, v] of Object.entries(h.metrics)) metrics[k] = (metrics[k] ?? 0) + v;
  // Homa's time counters (`*_ns`, and the throttled list's length x time) are kept in raw ns.
  for (const k of Object.keys(metrics)) if (k.endsWith('_ns') || k === 'throttled_integral') metrics[k] = toEmulatedNs(metrics[k]!, tb);

  const groToSoftirq = mergeEncoded(cp?.handoff.groToSoftirq ?? []);
  const softirqToApp = mergeEncoded(cp?.handoff.softirqToApp ?? []);
  const maxLagNs = clients.reduce((a, x) => Math.max(a, x.maxLagNs), 0);
  const lagFraction = emuSec > 0 && clients.length > 0 ? clients.reduce((a, x) => a + x.lagNs, 0) / 1e9 / emuSec / clients.length : 0;
  const fidelityWarnings = [...fid.warnings];
  if (raw.wallLimitHit) fidelityWarnings.push(`--max-wall-s ${cfg.maxWallS} ended the run after ${(emuSec * 1e3).toFixed(3)} of ${cfg.durationMs} emulated ms of the window: raise it or shorten --duration-ms`);
  const warnings = runWarnings({ cfg, canaries, lagFraction, mismatches, leaks: c.leaks, fidelity: fidelityWarnings });

  return {
    header: {
      seed: cfg.seed, workload: cfg.workload, gbps: cfg.gbps, hosts: cfg.hosts, coresPerHost: cfg.cores,
      emulatedCores: raw.emulatedCores, workerThreads: raw.totalWorkers, hostCpus: raw.hostCpus,
      oversubscription: raw.totalWorkers / raw.hostCpus, idleMode: cfg.idleMode, dilation: cfg.dilation,
      warmupMs: cfg.warmupMs, durationMs: cfg.durationMs, measuredSec: wallSec, emulatedSec: emuSec, interrupted: raw.interrupted,
      nonDefaults: nonDefaults(cfg), stalls: parseStalls(cfg.stall, cfg.hosts, cfg.cores),
      baseRttUs, baseRttSource: given ? 'given' : 'measured',
      clock: cfg.clock, costProfile: costs?.profile ?? 'host', syncWindowNs: cfg.deterministic ? 0 : cfg.syncWindowNs,
      deterministic: cfg.deterministic, wallSec: raw.wallNs / 1e9, emulatedPerWallSec: vfid?.emulatedPerWallSec ?? 1 / cfg.dilation,
      wallLimitHit: raw.wallLimitHit,
      calibration: path !== null ? { stages: path.stages, totalUs: path.totalNs / 1000 } : null,
    },
    throughput: {
      rpcsPerSec: emuSec > 0 ? completed / emuSec : 0,
      requestGbps: emuSec > 0 ? (8 * bytesOut) / emuSec / 1e9 : 0,
      responseGbps: emuSec > 0 ? (8 * bytesIn) / emuSec / 1e9 : 0,
      perHost,
    },
    latency: { digest, rtt: percentiles(mergeEncoded(cp ? [cp.rttHist] : [])) },
    overload: { maxLagUs: maxLagNs / 1000, lagFraction, outstanding: clients.reduce((a, x) => a + x.outstanding, 0) },
    rpcs: {
      sent: clients.reduce((a, x) => a + x.sent, 0), completed,
      mismatched: clients.reduce((a, x) => a + x.mismatches, 0),
      aborted: clients.reduce((a, x) => a + Object.values(x.errors).reduce((s, v) => s + v, 0) - x.refused, 0),
      outstanding: clients.reduce((a, x) => a + x.outstanding, 0),
      outstandingStart: clients.reduce((a, x) => a + (x.outstandingStart ?? 0), 0),
      refused: clients.reduce((a, x) => a + x.refused, 0),
    },
    cores,
    busiest: busiestCore(cores)?.label ?? null,
    handoff: {
      groToSoftirq: percentiles(groToSoftirq), softirqToApp: percentiles(softirqToApp),
      cdf: { groToSoftirq: cdfPoints(groToSoftirq), softirqToApp: cdfPoints(softirqToApp) },
    },
    locks: lockRows(raw.lockStats, raw.measuredNs, tb, (g) => workerLabel(g, raw.totalWorkers, cfg.cores, raw.hasFabric)),
    pacer: {
      policy: cfg.policies.pacer, throttleInsert: cfg.throttleInsert,
      pacerPackets, otherDataPackets: otherData, pacerShare: pacerPackets + otherData > 0 ? pacerPackets / (pacerPackets + otherData) : 0,
      helpPackets: total(c, 'pacer_help_packets'), throttleListAdds: adds,
      checksPerAdd: adds > 0 ? total(c, 'throttle_list_checks') / adds : 0, nicThrottled: total(c, 'nic_throttled'),
      ...throttleStats(c),
    },
    gro: {
      // The policy in force, as config resolution chose it (--steering, or --gro-policy's mask).
      steering: steeringInForce(cfg.policies),
      groBatches: total(c, 'gro_batches'),
      packetsPerBatch: total(c, 'gro_batches') > 0 ? total(c, 'gro_batch_packets') / total(c, 'gro_batches') : 0,
      dataBypasses: total(c, 'gro_data_bypasses'), grantBypasses: total(c, 'gro_grant_bypasses'),
      gen2Rotations: total(c, 'gen2_rotations'), gen3Handoffs: total(c, 'gen3_handoffs'), gen3AltHandoffs: total(c, 'gen3_alt_handoffs'),
      softirqCalls: total(c, 'softirq_calls'),
    },
    threads: {
      threadChoice: cfg.policies.threadChoice, waitMode: cfg.waitMode,
      handoffsThreadWaiting: total(c, 'handoffs_thread_waiting'), handoffsAltThread: total(c, 'handoffs_alt_thread'),
      readyListAdds: total(c, 'ready_list_adds'), waitNone: total(c, 'wait_none'), waitFast: total(c, 'wait_fast'),
      waitBlock: total(c, 'wait_block'), wakeupMigrations: total(c, 'wakeup_migrations'), placement: formatWakeupPlacement(cfg.policies.wakeupPlacement),
    },
    grants: {
      grantsPerSec: emuSec > 0 ? total(c, 'grants') / emuSec : 0, needyGrants: total(c, 'needy_grants'),
      fifoGrants: total(c, 'fifo_grants'), fifoGrantBytes: total(c, 'fifo_grant_bytes'), grantChecks: total(c, 'grant_check_calls'),
    },
    canaries,
    accounting: {
      mismatches, leaks: c.leaks, networkBalanced: c.net.totals.balanced,
      sent: c.net.totals.xmitPkts, received: c.net.totals.rcvdPkts, dropped: c.net.totals.droppedPkts,
    },
    metrics,
    fidelity: fid,
    warnings,
    samples,
    detail: {
      hosts: cfg.hosts, coresPerHost: cfg.cores, timeBase: timeBaseOf(cfg),
      metrics: Float64Array.from(column(raw.sab, subLayout(raw.desc, 'world'), 'metrics', 'f64')),
      coreStats: raw.coreStats, lockStats: raw.lockStats,
      timetrace: readTimetraceData(raw.sab, subLayout(raw.desc, 'world'), cfg),
    },
  };
}

/** Version of the JSON report's shape (docs/json-schema.md); raised on any incompatible change. */
export const SCHEMA_VERSION = 1;

/** The JSON report of a run (`--json`): the result without its raw samples and columns, with the option values (a valid --config file). */
export function jsonReport(cfg: EmuConfig, r: EmulateResult): Record<string, unknown> {
  const { samples: _samples, detail: _detail, ...rest } = r;
  // The short-message RTTs are samples (they go to --data's _cdf.data), not a figure.
  const short = r.latency.digest.short === null ? null : { ...r.latency.digest.short, rttsUs: undefined };
  return { schemaVersion: SCHEMA_VERSION, config: optionValues(cfg), ...rest, latency: { ...rest.latency, digest: { ...rest.latency.digest, short } } };
}

/** RPCs completed so far (all hosts), read live from the Homa world's per-core counters. */
export function liveRpcsDone(sab: SharedArrayBuffer, desc: LayoutDesc): number {
  const m = column(sab, subLayout(desc, 'world'), 'metrics', 'f64');
  let s = 0;
  for (let i = M.client_responses_done; i < m.length; i += NUM_METRICS) s += m[i]!;
  return s;
}
