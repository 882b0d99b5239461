/**
 * cp_node workloads on the default cluster (2 hosts x 2 cores, every host a client and a
 * server, as cp_vs_tcp runs them): W2 (small messages) and W4 (large, grant-driven messages),
 * each at two loads, through `emulate` on real worker threads. Per case it records what a Homa
 * user compares first: throughput (RPCs/s and request Gbps, emulated time), the P99 slowdown of
 * short messages, and the host CPU one RPC costs (sum of the busy time of every emulated core,
 * in wall-clock µs of host CPU, divided by the RPCs completed). Each figure is set beside a
 * baseline measured in the same process: an unloaded run (one 100-byte RPC outstanding per
 * client host, closed loop) for RPCs/s, slowdown and CPU per RPC, and the offered load for Gbps.
 * Every run uses one base RTT, the median RTT of the (warm) unloaded run, so slowdowns of all
 * cases share a denominator.
 * Dilation: `WORKLOAD_DILATION` (50) keeps this 2-CPU machine's five worker threads from falling
 * behind the Poisson schedule at these loads; `lastWorkloads` keeps the lag and stolen time of
 * every run so the reader can check that claim.
 */
import { resolveConfig, type EmuConfig } from '../src/config/config.js';
import { emulate, type EmulateResult } from '../src/cluster/emulate.js';
import Table from 'cli-table3';
import { makeResult, type BenchResult } from './harness.js';

/** Wall time is this many times emulated time in every workload run. */
export const WORKLOAD_DILATION = 50;

/** The cases: workload and offered request load per client host (Gbps, emulated). */
export const WORKLOAD_CASES: ReadonlyArray<{ workload: string; gbps: number }> = [
  { workload: 'w2', gbps: 0.05 },
  { workload: 'w2', gbps: 0.1 },
  { workload: 'w4', gbps: 0.2 },
  { workload: 'w4', gbps: 0.5 },
];

/** What one run measured (kept for bench/RESULTS.md and the tests). */
export interface WorkloadRun {
  label: string;
  rpcs: number;
  rpcsPerSec: number;
  requestGbps: number;
  shortP99Slowdown: number;
  cpuUsPerRpc: number;
  lagFraction: number;
  meanStolenShare: number;
  canaries: Record<string, number>;
  mismatches: number;
}

/** Figures of the last `runWorkloads` call, by label ('unloaded', 'w2@0.05', ...). */
export const lastWorkloads: Record<string, WorkloadRun> = {};

/** Sum of the busy time of every emulated core (not the fabric) in µs of host CPU, per completed RPC. */
export function cpuUsPerRpc(r: EmulateResult): number {
  const rpcs = r.metrics['client_responses_done'] ?? 0;
  let busyNs = 0;
  for (const c of r.cores) if (c.label !== 'fabric') busyNs += c.busy * c.windowNs;
  return rpcs > 0 ? busyNs / 1000 / rpcs : NaN;
}

function summarize(label: string, r: EmulateResult, baseRttUs: number): WorkloadRun {
  return {
    label,
    rpcs: r.metrics['client_responses_done'] ?? 0,
    rpcsPerSec: r.throughput.rpcsPerSec,
    requestGbps: r.throughput.requestGbps,
    shortP99Slowdown: r.latency.digest.short === null ? NaN : shortSlowdownP99(r, baseRttUs),
    cpuUsPerRpc: cpuUsPerRpc(r),
    lagFraction: r.overload.lagFraction,
    meanStolenShare: r.fidelity.meanStolenShare,
    canaries: r.canaries,
    mismatches: r.accounting.mismatches,
  };
}

/**
 * P99 RTT of cperf's short messages (the shortest ~10%) over the slowdown denominator at the
 * longest of them: base RTT + length x 8 / link (a slight underestimate for the shorter ones).
 */
function shortSlowdownP99(r: EmulateResult, baseRttUs: number): number {
  const s = r.latency.digest.short!;
  return s.rttP99Us / (baseRttUs + (s.maxLength * 8) / r.latency.digest.options.linkMbps);
}

function baseConfig(scale: number, extra: Record<string, unknown>): EmuConfig {
  return resolveConfig({
    hosts: 2, cores: 2, clock: 'wall', dilation: WORKLOAD_DILATION, seed: 1,
    durationMs: Math.max(300, Math.round(3000 * scale)), warmupMs: Math.max(100, Math.round(500 * scale)),
    ...extra,
  });
}

/** The unloaded configuration: one 100-byte RPC outstanding per client host, closed loop. */
export const UNLOADED = { workload: '100', gbps: 0, clientMax: 1, ports: 1, portReceivers: 0 } as const;

/**
 * Base RTT from a warm unloaded run of `cfg`'s cluster (median 100 B RTT minus its
 * serialization, as `measureBaseRttUs` computes it). Not `measureBaseRttUs` itself: its probe
 * warms up for at most 100 ms of wall time, and on this machine the RTTs of that cold start
 * are 2-4x the warm ones, which would understate every slowdown by as much.
 */
export async function warmBaseRttUs(cfg: EmuConfig): Promise<{ baseRttUs: number; run: EmulateResult }> {
  const run = await emulate(resolveConfig({ ...cfg, ...UNLOADED, baseRttUsecs: 1 }));
  const p50 = run.latency.digest.rttP50Us;
  if (!(run.latency.digest.count > 0)) throw new Error('base RTT: the unloaded run completed no RPC');
  return { baseRttUs: Math.max(0.1, p50 - (100 * 8) / cfg.linkMbps), run };
}

/** W2 and W4 at two loads each beside the unloaded baseline. */
export async function runWorkloads(opts: { scale: number; print?: boolean }): Promise<BenchResult[]> {
  for (const k of Object.keys(lastWorkloads)) delete lastWorkloads[k];
  const { baseRttUs, run: unloadedRun } = await warmBaseRttUs(baseConfig(opts.scale, {}));
  const unloaded = summarize('unloaded', unloadedRun, baseRttUs);
  lastWorkloads['unloaded'] = unloaded;
  const results: BenchResult[] = [];
  for (const c of WORKLOAD_CASES) {
    const label = `${c.workload}@${c.gbps}`;
    const r = summarize(label, await emulate(baseConfig(opts.scale, { workload: c.workload, gbps: c.gbps, baseRttUsecs: baseRttUs })), baseRttUs);
    lastWorkloads[label] = r;
    const offeredGbps = c.gbps * 2; // both hosts are clients
    results.push(
      makeResult(`${label} Gbps: RPCs/s`, 'RPCs/s', r.rpcsPerSec, 'unloaded 100 B, 1 outstanding', unloaded.rpcsPerSec),
      makeResult(`${label} Gbps: request Gbps`, 'Gbps', r.requestGbps, 'offered (2 client hosts)', offeredGbps),
      makeResult(`${label} Gbps: short P99 slowdown`, 'slowdown', r.shortP99Slowdown, 'unloaded 100 B', unloaded.shortP99Slowdown),
      makeResult(`${label} Gbps: CPU per RPC`, 'us/RPC', r.cpuUsPerRpc, 'unloaded 100 B', unloaded.cpuUsPerRpc),
    );
  }
  if (opts.print ?? true) process.stdout.write(`${formatWorkloadRuns(baseRttUs)}\n`);
  return results;
}

/** The side table of every run: RPCs, lag behind the Poisson schedule, stolen time, canaries. */
export function formatWorkloadRuns(baseRttUs: number): string {
  const t = new Table({ head: ['run', 'RPCs', 'lag %', 'stolen % (mean)', 'CPU us/RPC', 'canaries'], style: { head: [], border: [], compact: true } });
  for (const w of Object.values(lastWorkloads)) {
    t.push([w.label, String(w.rpcs), (w.lagFraction * 100).toFixed(1), (w.meanStolenShare * 100).toFixed(1), w.cpuUsPerRpc.toFixed(0),
      Object.entries(w.canaries).map(([k, v]) => `${k} ${v}`).join(', ') || 'none']);
  }
  return `dilation ${WORKLOAD_DILATION}, base RTT ${baseRttUs.toFixed(1)} us (median RTT of the unloaded run)\n${t.toString()}`;
}
