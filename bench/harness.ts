/**
 * Tiny shared helpers of the benchmarks: the result record (every figure travels with the
 * baseline it was measured against in the same process, and their ratio), a timing loop for
 * single-threaded cases (best of a few repeats after a warm-up, so JIT tiers and one-off
 * hiccups of a shared machine do not count), and a table printer. A ratio is always
 * value / baselineValue; whether higher is better depends on the unit (items/s: yes, ns/op: no).
 */
import Table from 'cli-table3';

export interface BenchResult {
  name: string;
  /** 'items/s', 'ops/s' (higher is better) or 'ns/op' (lower is better). */
  unit: string;
  value: number;
  baselineName: string;
  baselineValue: number;
  /** value / baselineValue. */
  ratio: number;
}

export function makeResult(name: string, unit: string, value: number, baselineName: string, baselineValue: number): BenchResult {
  return { name, unit, value, baselineName, baselineValue, ratio: value / baselineValue };
}

/**
 * Runs `body` (which performs `ops` operations) once to warm up, then `repeats` times; returns
 * the best time per operation in ns.
 */
export function timeNsPerOp(ops: number, body: () => void, repeats = 3): number {
  body();
  let best = Infinity;
  for (let r = 0; r < repeats; r++) {
    const t0 = process.hrtime.bigint();
    body();
    const ns = Number(process.hrtime.bigint() - t0);
    if (ns < best) best = ns;
  }
  return Math.max(best, 1) / ops;
}

/** Scales a full-size operation count, never below `min`. */
export function scaled(full: number, scale: number, min = 1000): number {
  return Math.max(min, Math.round(full * scale));
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)} M`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(1)} k`;
  return v.toFixed(v < 10 ? 2 : 1);
}

/** The results as a text table (also usable in bench/RESULTS.md). */
export function formatResults(results: readonly BenchResult[]): string {
  const t = new Table({ head: ['bench', 'value', 'unit', 'baseline', 'baseline value', 'ratio'], style: { head: [], border: [] } });
  for (const r of results) t.push([r.name, fmt(r.value), r.unit, r.baselineName, fmt(r.baselineValue), `${r.ratio.toFixed(2)}x`]);
  return t.toString();
}

export function printResults(results: readonly BenchResult[]): void {
  process.stdout.write(`${formatResults(results)}\n`);
}
