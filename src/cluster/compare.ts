/**
 * `homa-emu compare`: runs several variants of one configuration one after another, each
 * `repeat` times, and lines up every figure per variant with its run-to-run spread (min–max) and
 * its ratio to the first variant. Variants come from `--vary option=v1,v2` (several --vary give
 * the cartesian product) or from config files (one variant each). Run-to-run variance is part of
 * the answer on a machine whose threads are scheduled by a host OS: the table shows it instead of
 * hiding it behind one number.
 */
import { basename } from 'node:path';
import { resolveConfig, type EmuConfig } from '../config/config.js';
import { UserError } from '../config/errors.js';
import { OPTION_BY_FLAG, OPTION_BY_KEY } from '../config/options.js';
import { emulate, type EmulateResult } from './emulate.js';

export interface Variant {
  label: string;
  partial: Record<string, unknown>;
}

export interface FigureStats {
  median: number;
  min: number;
  max: number;
  values: number[];
}

export interface CompareResult {
  repeat: number;
  variants: Array<{ label: string; partial: Record<string, unknown>; figures: Record<string, FigureStats> }>;
  /** Figure names in display order (the first variant's order, then any new ones). */
  figureNames: string[];
}

/** Parses `--vary` specs (`max-gro-skbs=5,20`) into the cartesian product of variants. */
export function parseVary(specs: readonly string[]): Variant[] {
  let variants: Variant[] = [{ label: '', partial: {} }];
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const name = eq > 0 ? spec.slice(0, eq) : '';
    const values = eq > 0 ? spec.slice(eq + 1).split(',').filter((v) => v !== '') : [];
    const o = OPTION_BY_FLAG.get(name) ?? OPTION_BY_KEY.get(name);
    if (o === undefined || values.length === 0) {
      throw new UserError('EINVALIDOPT', `--vary: expected OPTION=V1,V2,... with a known option (e.g. max-gro-skbs=5,20), got ${JSON.stringify(spec)}`);
    }
    const next: Variant[] = [];
    for (const v of variants) {
      for (const value of values) {
        next.push({ label: v.label === '' ? `${o.flag}=${value}` : `${v.label} ${o.flag}=${value}`, partial: { ...v.partial, [o.key]: value } });
      }
    }
    variants = next;
  }
  if (variants.length < 2) throw new UserError('EINVALIDOPT', `--vary: expected at least two variants in all, got ${variants.length}`);
  return variants;
}

/** One variant per config file (already parsed), labelled by file name. */
export function fileVariants(files: ReadonlyArray<{ path: string; partial: Record<string, unknown> }>): Variant[] {
  return files.map((f) => ({ label: basename(f.path), partial: f.partial }));
}

function stats(values: number[]): FigureStats {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]!, values };
}

/** Parses --repeat as given (a string from the CLI): a whole number in [1, 1000]; the error quotes the value as typed. */
export function parseRepeat(raw: unknown): number {
  const v = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!Number.isInteger(v) || v < 1 || v > 1000) {
    throw new UserError('EINVALIDOPT', `--repeat: expected a whole number in [1, 1000], got ${JSON.stringify(raw)}`);
  }
  return v;
}

/**
 * Runs every variant `repeat` times (variant-major order: all repeats of one variant, then the
 * next). `runOnce` returns a flat record of figures for one run.
 */
export async function compareVariants(
  base: Record<string, unknown>, variants: readonly Variant[], repeat: number,
  runOnce: (partial: Record<string, unknown>, variant: Variant, rep: number) => Promise<Record<string, number>>,
): Promise<CompareResult> {
  if (!Number.isInteger(repeat) || repeat < 1 || repeat > 1000) {
    throw new UserError('EINVALIDOPT', `--repeat: expected a whole number in [1, 1000], got ${JSON.stringify(repeat)}`);
  }
  const figureNames: string[] = [];
  const out: CompareResult['variants'] = [];
  for (const v of variants) {
    const runs: Array<Record<string, number>> = [];
    for (let r = 0; r < repeat; r++) runs.push(await runOnce({ ...base, ...v.partial }, v, r));
    const figures: Record<string, FigureStats> = {};
    for (const run of runs) for (const k of Object.keys(run)) if (!figureNames.includes(k)) figureNames.push(k);
    for (const k of figureNames) {
      const vals = runs.map((run) => run[k]).filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
      if (vals.length > 0) figures[k] = stats(vals);
    }
    out.push({ label: v.label, partial: v.partial, figures });
  }
  return { repeat, variants: out, figureNames };
}

function fmt(x: number): string {
  const a = Math.abs(x);
  if (a === 0) return '0';
  if (a >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${(x / 1e3).toFixed(1)}K`;
  if (a >= 100) return x.toFixed(0);
  if (a >= 1) return x.toFixed(2);
  return x.toPrecision(2);
}

/** Rows of the comparison: figure, then per variant "median [min–max] (×ratio to first)". */
export function compareRows(r: CompareResult): string[][] {
  const first = r.variants[0]!;
  return r.figureNames.map((name) => [name, ...r.variants.map((v, i) => {
    const f = v.figures[name];
    if (f === undefined) return '-';
    const spread = r.repeat > 1 ? ` [${fmt(f.min)}–${fmt(f.max)}]` : '';
    const base = first.figures[name];
    const ratio = i > 0 && base !== undefined && base.median !== 0 ? ` x${(f.median / base.median).toFixed(2)}` : '';
    return `${fmt(f.median)}${spread}${ratio}`;
  })]);
}

/** Flat figures of one `run` (for compare): what a policy comparison looks at first. */
export function runFigures(r: EmulateResult): Record<string, number> {
  const d = r.latency.digest;
  const f: Record<string, number> = {
    'RPCs/s': r.throughput.rpcsPerSec,
    'request Gbps': r.throughput.requestGbps,
    'RTT P50 us': d.rttP50Us,
    'RTT P99 us': d.rttP99Us,
    'slowdown P50': d.slowdownP50,
    'slowdown P99': d.slowdownP99,
    'short RTT P50 us': d.short?.rttP50Us ?? NaN,
    'short RTT P99 us': d.short?.rttP99Us ?? NaN,
    'GRO->SoftIRQ P99 us': r.handoff.groToSoftirq.p99Ns / 1000,
    'SoftIRQ->app P99 us': r.handoff.softirqToApp.p99Ns / 1000,
    'busiest core busy %': Math.max(...r.cores.filter((c) => c.label !== 'fabric').map((c) => c.busy)) * 100,
    'stolen % (mean)': r.fidelity.meanStolenShare * 100,
    'paced share %': r.pacer.pacerShare * 100,
    'resent packets': r.canaries['resent_packets'] ?? 0,
  };
  for (const l of r.locks) if (l.acquisitions > 0) f[`${l.cls} lock wait % core`] = l.waitPctCore;
  return f;
}

/** What the library's `compare` returns: the figure table plus every run's full result. */
export interface CompareRunsResult extends CompareResult {
  runs: Array<{ label: string; config: EmuConfig; results: EmulateResult[] }>;
}

/**
 * The library form of `homa-emu compare`: runs `emulate` for every variant (`--vary` specs such
 * as 'steering=gen2,gen3', or `Variant`s) over `base` (a partial config), `repeat` times each,
 * and returns the figure table with spreads (as the CLI prints it) and every run's result.
 */
export async function compare(base: Record<string, unknown>, vary: readonly string[] | readonly Variant[],
  opts: { repeat?: number; signal?: AbortSignal } = {}): Promise<CompareRunsResult> {
  const variants: Variant[] = vary.length > 0 && typeof vary[0] === 'string' ? parseVary(vary as string[]) : [...(vary as Variant[])];
  if (variants.length < 2) throw new UserError('EINVALIDOPT', `compare: expected at least two variants, got ${variants.length}`);
  for (const v of variants) resolveConfig({ ...base, ...v.partial });
  const runs = new Map<string, { label: string; config: EmuConfig; results: EmulateResult[] }>();
  const table = await compareVariants(base, variants, opts.repeat ?? 1, async (partial, v) => {
    const config = resolveConfig(partial);
    const r = await emulate(config, { signal: opts.signal });
    const e = runs.get(v.label) ?? { label: v.label, config, results: [] };
    e.results.push(r);
    runs.set(v.label, e);
    return runFigures(r);
  });
  return { ...table, runs: [...runs.values()] };
}
