/**
 * The files a run or a comparison leaves behind, written in one place for the CLI and library
 * callers: the JSON report (`--json`), cp_node's `.rtts` per client host (`--rtts DIR`), cperf's
 * log directory (`--data L`: `L/NAME-<node>.rtts`, `L/reports/NAME.data`,
 * `L/reports/NAME_cdf.data` and `L/homa_emu_cperf.py`, the base RTT for cperf), HomaModule's
 * /proc/net/homa_metrics snapshots (`--metrics DIR`), the plots (`--plot DIR`) and the HTML
 * report (`--html FILE`). A comparison writes one cperf experiment per variant, named
 * `NAME_<variant>`, and overlays the variants in the plots.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { EmuConfig } from '../config/config.js';
import { UserError } from '../config/errors.js';
import {
  CPERF_SHIM, EXP_NAME, cperfPaths, formatCperfShim, formatDigestData, formatRtts, formatShortCdf, rttsByHost, type RttsOptions,
} from '../metrics/cperf-files.js';
import { computeDigest, type Digest } from '../metrics/digest.js';
import { formatHomaMetrics, hostMetricsInputs } from '../metrics/homa-metrics.js';
import { htmlReport } from '../metrics/html-report.js';
import { allPlots, renderSvg } from '../metrics/plots.js';
import { chromeTraceOf, timetraceFiles } from '../metrics/trace-files.js';
import { jsonReport, type EmulateResult } from './emulate.js';

export interface OutputOptions {
  json?: string;
  rtts?: string;
  data?: string;
  /** cperf experiment name (default homa_<workload>). */
  exp?: string;
  metrics?: string;
  /** Directory for the plots as SVG. */
  plot?: string;
  /** File for the HTML report. */
  html?: string;
  /** Directory for the time traces (`nodeH.tt`, for tthoma.py). */
  tt?: string;
  /** File for the Chrome/Perfetto trace. */
  trace?: string;
}

/** Events per core ring when --tt or --trace asks for traces without --tt-events. */
export const TT_DEFAULT_EVENTS = 65536;

/** The experiment name: `--exp` checked, or cp_vs_tcp's `homa_<workload>`. */
export function experimentName(cfg: EmuConfig, exp: string | undefined): string {
  const name = exp ?? `homa_${cfg.workload}`;
  if (!EXP_NAME.test(name)) {
    throw new UserError('EINVALIDOPT', `--exp: expected letters, digits, '_' or '.' (cperf globs NAME-*.rtts, so no '-'), got ${JSON.stringify(name)}`);
  }
  return name;
}

/** Checks the output options before any worker starts (exit 2 on bad input). */
export function checkOutputOptions(cfg: EmuConfig, o: OutputOptions): void {
  experimentName(cfg, o.exp);
  if ((o.tt !== undefined || o.trace !== undefined) && cfg.ttEvents === 0) {
    throw new UserError('EINVALIDOPT', `--tt-events: expected a power of two >= 1 with ${o.tt !== undefined ? '--tt' : '--trace'} (the rings the trace is read from), got 0`);
  }
}

function rttsOptions(cfg: EmuConfig): RttsOptions {
  return { protocol: 'homa', workload: cfg.workload, gbps: cfg.gbps, ports: cfg.ports, serverNodes: cfg.hosts, serverPorts: cfg.serverPorts, clientMax: cfg.clientMax };
}

/** `.rtts` files of one run, one per client host, into `dir` as cperf names them (`NAME-<node>.rtts`). */
function writeRtts(dir: string, exp: string, cfg: EmuConfig, r: EmulateResult, suffix = ''): void {
  mkdirSync(dir, { recursive: true });
  for (const [host, pairs] of rttsByHost(r.samples)) {
    writeFileSync(join(dir, `${exp}-${host}${suffix}.rtts`), formatRtts(pairs, { exp, options: rttsOptions(cfg) }));
  }
}

function writeDigest(logDir: string, exp: string, digest: Digest): void {
  const p = cperfPaths(logDir, exp);
  mkdirSync(p.reports, { recursive: true });
  writeFileSync(p.data, formatDigestData(digest, { exp }));
  writeFileSync(p.cdf, formatShortCdf(digest, { exp }));
}

/**
 * `--plot DIR` (one SVG per plot) and `--html FILE` (the report with every plot) for one run or
 * the variants of a comparison (one curve set each: the first run of each variant).
 */
export async function writeVisuals(title: string, variants: ReadonlyArray<{ label: string; run: EmulateResult }>, o: Pick<OutputOptions, 'plot' | 'html'>): Promise<void> {
  if (o.plot === undefined && o.html === undefined) return;
  const rendered = [];
  for (const plot of allPlots(variants)) rendered.push({ plot, svg: await renderSvg(plot.spec) });
  if (o.plot !== undefined) {
    mkdirSync(o.plot, { recursive: true });
    for (const { plot, svg } of rendered) writeFileSync(join(o.plot, `${plot.name}.svg`), svg);
  }
  if (o.html !== undefined) {
    mkdirSync(dirname(o.html), { recursive: true });
    writeFileSync(o.html, htmlReport(title, variants, rendered));
  }
}

/** A run's one-line title: cluster, workload, load. */
export function runTitle(cfg: EmuConfig): string {
  return `homa-emu: ${cfg.hosts} hosts x ${cfg.cores} cores, ${cfg.workload} at ${cfg.gbps} Gbps per client host`;
}

/** Writes every file asked for by one run. */
export async function writeRunOutputs(cfg: EmuConfig, r: EmulateResult, o: OutputOptions): Promise<string[]> {
  const exp = experimentName(cfg, o.exp);
  const failures: string[] = [];
  // Each option's files are written on their own: one that fails is reported (naming the option
  // and the path), the others are still written.
  const attempt = async (option: string, path: string, write: () => void | Promise<void>): Promise<void> => {
    try {
      await write();
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      failures.push(`--${option}: could not write ${path}: ${err.code ?? ''}${err.code ? ' ' : ''}${err.message.replace(/^[A-Z]+: /, '')}`);
    }
  };
  if (o.json !== undefined) {
    const json = o.json;
    await attempt('json', json, () => {
      mkdirSync(dirname(json), { recursive: true });
      writeFileSync(json, JSON.stringify(jsonReport(cfg, r), null, 2));
    });
  }
  if (o.rtts !== undefined) { const d = o.rtts; await attempt('rtts', d, () => writeRtts(d, exp, cfg, r)); }
  if (o.data !== undefined) {
    const d = o.data;
    await attempt('data', d, () => {
      writeRtts(d, exp, cfg, r);
      writeDigest(d, exp, r.latency.digest);
      writeFileSync(join(d, CPERF_SHIM), formatCperfShim([{ exp, baseRttUs: r.header.baseRttUs }], cfg.linkMbps));
    });
  }
  if (o.metrics !== undefined) {
    const d = o.metrics;
    await attempt('metrics', d, () => {
      mkdirSync(d, { recursive: true });
      for (const h of hostMetricsInputs(r.detail, r.detail.timeBase, cfg.cpuKhz)) {
        writeFileSync(join(d, `${h.node}.homa_metrics`), formatHomaMetrics(h, 'end'));
        writeFileSync(join(d, `${h.node}.homa_metrics.prev`), formatHomaMetrics(h, 'start'));
      }
    });
  }
  if (o.plot !== undefined || o.html !== undefined) {
    await attempt(o.plot !== undefined ? 'plot' : 'html', o.plot ?? o.html!, () => writeVisuals(runTitle(cfg), [{ label: exp, run: r }], o));
  }
  const tt = r.detail.timetrace;
  const window = { timeBase: r.detail.timeBase, windowUs: cfg.ttWindowUs, trigger: cfg.ttTrigger };
  if (o.tt !== undefined) {
    const d = o.tt;
    await attempt('tt', d, () => {
      if (tt === null) throw new Error('the run kept no time trace (--tt-events 0)');
      mkdirSync(d, { recursive: true });
      for (const f of timetraceFiles(tt, { ...window, cpuKhz: cfg.cpuKhz })) writeFileSync(join(d, `${f.node}.tt`), f.text);
    });
  }
  if (o.trace !== undefined) {
    const f = o.trace;
    await attempt('trace', f, () => {
      if (tt === null) throw new Error('the run kept no time trace (--tt-events 0)');
      mkdirSync(dirname(f), { recursive: true });
      writeFileSync(f, JSON.stringify(chromeTraceOf(tt, { ...window, title: runTitle(cfg) })));
    });
  }
  return failures;
}

/** A variant label as an experiment-name suffix: `max-gro-skbs=5 steering=gen3` -> `max_gro_skbs_5_steering_gen3`. */
export function variantSlug(label: string): string {
  return label.replace(/\.json$/, '').replace(/[^A-Za-z0-9.]+/g, '_').replace(/^_+|_+$/g, '');
}

/** One variant's runs, as `compare` keeps them for its files. */
export interface VariantRuns {
  label: string;
  cfg: EmuConfig;
  runs: EmulateResult[];
}

/**
 * `compare --data L`: per variant the experiment `NAME_<variant>`: every run's `.rtts` per client
 * host (repeat k > 0 as `NAME_<variant>-<node>.r<k>.rtts`, which cperf's glob also takes), and the
 * digest of all repeats together (base RTT: the median of the runs').
 */
export function writeCompareData(logDir: string, base: string, variants: readonly VariantRuns[]): Array<{ exp: string; baseRttUs: number }> {
  const exps: Array<{ exp: string; baseRttUs: number }> = [];
  for (const v of variants) {
    const exp = `${base}_${variantSlug(v.label)}`;
    v.runs.forEach((r, k) => writeRtts(logDir, exp, v.cfg, r, k === 0 ? '' : `.r${k}`));
    const bases = v.runs.map((r) => r.header.baseRttUs).sort((a, b) => a - b);
    const baseRttUs = bases[bases.length >> 1]!;
    const n = v.runs.reduce((a, r) => a + r.samples.lengths.length, 0);
    const lengths = new Int32Array(n);
    const rttNs = new Float64Array(n);
    let at = 0;
    for (const r of v.runs) { lengths.set(r.samples.lengths, at); rttNs.set(r.samples.rttNs, at); at += r.samples.lengths.length; }
    writeDigest(logDir, exp, computeDigest({ lengths, rttNs }, { linkMbps: v.cfg.linkMbps, baseRttUs }));
    exps.push({ exp, baseRttUs });
  }
  if (variants.length > 0) writeFileSync(join(logDir, CPERF_SHIM), formatCperfShim(exps, variants[0]!.cfg.linkMbps));
  return exps;
}
