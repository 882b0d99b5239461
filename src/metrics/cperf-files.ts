/**
 * The text files Homa users already read, in the formats of cp_node and cperf (HomaModule
 * util/cp_node.cc dump_times, util/cperf.py get_digest and get_short_cdf): `.rtts` (four `#`
 * lines, then one `%8d %12.2f` line per RPC: length, RTT in µs), the digest's `.data` file
 * (columns `length cum_frac samples p50 p99 p999 s50 s99 s999`, same widths as cperf) and the
 * short-message CCDF `_cdf.data` (`%12.3f  %.8f`: RTT in µs, fraction of short RPCs slower than
 * it, skipping points that move both coordinates by less than 1%). Pure functions that return
 * strings; the caller writes the files. Numbers are formatted like C's printf (fixed decimals,
 * right-aligned to the field width); dates are UTC.
 */

import type { Digest } from './digest.js';
import { RttSamples, type RttPairs } from './digest.js';

/** printf("%<width>d"). */
function fmtInt(value: number, width: number): string {
  return String(Math.round(value)).padStart(width);
}

/** printf("%<width>.<decimals>f"). */
function fmtFixed(value: number, width: number, decimals: number): string {
  return value.toFixed(decimals).padStart(width);
}

/** "YYYY-MM-DD HH:MM:SS" in UTC. */
export function formatDateUtc(date: Date): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

/** The cp_node client options that dump_times writes into a `.rtts` header. */
export interface RttsOptions {
  protocol: string;
  workload: string;
  gbps: number;
  /** Client ports (cp_node prints them as --threads). */
  ports: number;
  serverNodes: number;
  serverPorts: number;
  clientMax: number;
}

export interface RttsHeader {
  /** Experiment name, e.g. `homa_w4`. */
  exp: string;
  options: RttsOptions;
  /** When the samples were dumped (default: now). */
  date?: Date;
}

/** A `.rtts` file as cp_node's `dump_times <file> <exp>` writes it, oldest sample first. */
export function formatRtts(samples: RttPairs, header: RttsHeader): string {
  const o = header.options;
  const lines: string[] = [
    `# Round-trip times measured by homa-emu (cp_node format) at ${formatDateUtc(header.date ?? new Date())}, experiment ${header.exp}`,
    `# --protocol ${o.protocol}, --workload ${o.workload}, --gbps ${o.gbps.toFixed(1)} --threads ${o.ports},`,
    `# --server-nodes ${o.serverNodes} --server-ports ${o.serverPorts}, --client-max ${o.clientMax}`,
    '# Length   RTT (usec)',
  ];
  const n = samples.count ?? samples.lengths.length;
  const start = samples instanceof RttSamples ? samples.oldestIndex : 0;
  for (let k = 0; k < n; k++) {
    let i = start + k;
    if (i >= n) i -= n;
    lines.push(`${fmtInt(samples.lengths[i], 8)} ${fmtFixed(samples.rttNs[i] / 1000, 12, 2)}`);
  }
  return lines.join('\n') + '\n';
}

export interface ReportMeta {
  /** Experiment name, e.g. `homa_w4`. */
  exp?: string;
  /** When the experiment ran (default: now). */
  date?: Date;
}

/** cperf's `reports/<exp>.data`: one line per digest bucket. */
export function formatDigestData(digest: Digest, meta: ReportMeta = {}): string {
  const lines: string[] = [
    `# Digested data for ${meta.exp ?? 'homa-emu'} experiment, run at ${formatDateUtc(meta.date ?? new Date())}`,
    '# length  cum_frac  samples     p50      p99     p999   s50    s99    s999',
  ];
  for (const b of digest.buckets) {
    lines.push(' ' + fmtInt(b.length, 7) + ' ' + fmtFixed(b.cumFrac, 9, 6) + ' ' + fmtInt(b.count, 8)
      + ' ' + fmtFixed(b.rttP50Us, 7, 1) + ' ' + fmtFixed(b.rttP99Us, 8, 1) + ' ' + fmtFixed(b.rttP999Us, 8, 1)
      + ' ' + fmtFixed(b.slowdownP50, 5, 1) + ' ' + fmtFixed(b.slowdownP99, 6, 1) + ' ' + fmtFixed(b.slowdownP999, 7, 1));
  }
  return lines.join('\n') + '\n';
}

/** cperf's relative change below which a CCDF point is skipped (in both coordinates). */
const CDF_MIN_CHANGE = 0.01;

/**
 * The points of cperf's short-message CCDF: for the short messages of the digest, each sorted
 * RTT x (µs) and the fraction y of those RPCs with a larger RTT, skipping a point when both x
 * and y differ by less than 1% from the last point kept.
 */
export function shortCcdfPoints(digest: Digest): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const short = digest.short;
  if (short === null) return out;
  const rtts = short.rttsUs;
  const total = rtts.length;
  let remaining = total;
  let prevX = 0;
  let prevY = 1.0;
  for (let i = 0; i < total; i++) {
    const x = rtts[i];
    remaining--;
    const y = remaining / total;
    if (prevY !== 0 && prevX !== 0 && Math.abs((y - prevY) / prevY) < CDF_MIN_CHANGE
      && Math.abs((x - prevX) / prevX) < CDF_MIN_CHANGE) continue;
    out.push([x, y]);
    prevX = x;
    prevY = y;
  }
  return out;
}

/** cperf's `reports/<exp>_cdf.data`: the points of `shortCcdfPoints`, `%12.3f  %.8f`. */
export function formatShortCdf(digest: Digest, meta: ReportMeta = {}): string {
  const exp = meta.exp ?? 'homa-emu';
  const date = formatDateUtc(meta.date ?? new Date());
  const lines: string[] = [
    `# Fraction of RTTS longer than a given time for ${exp} experiment`,
    `# Includes messages <= ${digest.short ? digest.short.maxLength : 0} bytes; measured at ${date}`,
    `# Data collected at ${date} `,
    '#       usec        frac',
  ];
  for (const [x, y] of shortCcdfPoints(digest)) lines.push(`${fmtFixed(x, 12, 3)}  ${y.toFixed(8)}`);
  return lines.join('\n') + '\n';
}

/**
 * An experiment name cperf can glob: its readers find an experiment's `.rtts` files as
 * `NAME-*.rtts`, so a `-` inside NAME would make one experiment's glob take another's files.
 */
export const EXP_NAME = /^[A-Za-z0-9_.]+$/;

/** The samples of each client host (host -> its samples, in their recorded order). */
export function rttsByHost(samples: { lengths: Int32Array; rttNs: Float64Array; hosts: Int32Array }): Map<number, RttPairs> {
  const counts = new Map<number, number>();
  for (let i = 0; i < samples.hosts.length; i++) counts.set(samples.hosts[i]!, (counts.get(samples.hosts[i]!) ?? 0) + 1);
  const out = new Map<number, { lengths: Int32Array; rttNs: Float64Array; n: number }>();
  for (const [h, n] of [...counts].sort((a, b) => a[0] - b[0])) out.set(h, { lengths: new Int32Array(n), rttNs: new Float64Array(n), n: 0 });
  for (let i = 0; i < samples.hosts.length; i++) {
    const e = out.get(samples.hosts[i]!)!;
    e.lengths[e.n] = samples.lengths[i]!;
    e.rttNs[e.n] = samples.rttNs[i]!;
    e.n++;
  }
  return new Map([...out].map(([h, e]) => [h, { lengths: e.lengths, rttNs: e.rttNs }]));
}

/**
 * Paths of one experiment in cperf's log directory L (what cp_vs_tcp and cperf's readers
 * expect): `L/NAME-<id>.rtts` per client node (cp_node's dump_times, copied back by cperf),
 * `L/reports/NAME.data` (the digest) and `L/reports/NAME_cdf.data` (the short-message CCDF).
 */
export function cperfPaths(logDir: string, exp: string): { rtts: (node: number) => string; data: string; cdf: string; reports: string } {
  const reports = `${logDir}/reports`;
  return { rtts: (node) => `${logDir}/${exp}-${node}.rtts`, data: `${reports}/${exp}.data`, cdf: `${reports}/${exp}_cdf.data`, reports };
}

/** File name (in L) of the Python module that hands cperf the emulated cluster's base RTT. */
export const CPERF_SHIM = 'homa_emu_cperf.py';

/**
 * cperf takes its slowdown base RTT from the CloudLab node type (a table keyed by
 * /var/emulab/boot/nodetype, 15 us for an xl170) and the link speed from `sysctl` on node0;
 * neither exists for an emulated cluster. This module, imported before a cperf script runs,
 * sets both in cperf's globals: a node type `homa-emu` whose base RTT is the emulated one.
 * cperf has one base RTT for all experiments: with several (compare), the first is used and
 * every experiment's own is listed in a comment.
 */
export function formatCperfShim(experiments: ReadonlyArray<{ exp: string; baseRttUs: number }>, linkMbps: number): string {
  const first = experiments[0];
  if (first === undefined) throw new Error('formatCperfShim: no experiment');
  return [
    '# Written by homa-emu. Import this module before running a cperf script (see homa-emu\'s',
    '# README, "cperf"): it gives cperf the emulated cluster\'s base RTT and link speed, which',
    '# cperf otherwise takes from the CloudLab node type and from sysctl on node0.',
    ...experiments.map((e) => `#   experiment ${e.exp}: base RTT ${e.baseRttUs.toFixed(3)} us (emulated)`),
    'import cperf',
    "cperf.node_type = 'homa-emu'",
    `cperf.baseline_rtts['homa-emu'] = ${first.baseRttUs.toFixed(3)}`,
    `cperf.link_mbps = ${linkMbps.toFixed(1)}`,
    '',
  ].join('\n');
}
