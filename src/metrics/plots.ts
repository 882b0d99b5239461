/**
 * The plots of a run, or of several variants overlaid (`compare`): slowdown against message
 * length at P50 and P99 on cperf's axes (x: messages sorted by length, placed by their
 * cumulative fraction and labelled with lengths; y: log slowdown; one step per length bucket,
 * as cperf's plot_slowdown draws it), the short-message RTT CCDF on cperf's log-log axes,
 * per-core time by role as stacked bars with the busiest core marked, the hand-off latency
 * CDFs (GRO -> SoftIRQ, SoftIRQ -> app), and lock wait by class. Each plot is a Vega-Lite spec
 * compiled by `vega-lite` and rendered to SVG by `vega` in Node (no browser, no canvas). Every
 * time is emulated (the inputs already are).
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { ROLE_NAMES } from '../cpu/context.js';
import type { CoreRow } from './cores.js';
import { shortCcdfPoints } from './cperf-files.js';
import type { Digest } from './digest.js';
import type { LockRow } from './locks.js';

/** What the plots read of one run (an `EmulateResult` is one). */
export interface PlotSource {
  latency: { digest: Digest };
  cores: CoreRow[];
  busiest: string | null;
  handoff: { cdf: { groToSoftirq: Array<[number, number]>; softirqToApp: Array<[number, number]> } };
  locks: LockRow[];
}

/** One curve set: a run, or one variant of a comparison. */
export interface PlotVariant {
  label: string;
  run: PlotSource;
}

export interface Plot {
  /** File stem and HTML id: slowdown, short_rtt_ccdf, core_roles, handoff_cdf, lock_wait. */
  name: string;
  title: string;
  spec: TopLevelSpec;
}

const WIDTH = 560;
const HEIGHT = 280;
const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const VARIANT_COLOR = { field: 'variant', type: 'nominal', title: 'variant', sort: null } as const;

/** Tick positions (cumulative fraction) and length labels of cperf's lower x axis: one per ~10% of messages. */
export function lengthTicks(d: Digest): Array<{ at: number; label: string }> {
  const ticks: Array<{ at: number; label: string }> = [];
  let next = 0.1;
  for (const b of d.buckets) {
    if (b.cumFrac + 1e-12 < next) continue;
    ticks.push({ at: b.cumFrac, label: String(b.length) });
    while (next <= b.cumFrac + 1e-12) next += 0.1;
  }
  return ticks;
}

/** Slowdown vs message length, P50 (dashed) and P99 (solid) per variant. */
export function slowdownPlot(vs: readonly PlotVariant[]): Plot {
  const values: Array<Record<string, unknown>> = [];
  for (const v of vs) {
    const b = v.run.latency.digest.buckets;
    if (b.length === 0) continue;
    for (const [pct, key] of [['P50', 'slowdownP50'], ['P99', 'slowdownP99']] as const) {
      values.push({ variant: v.label, pct, x: 0, y: b[0]![key] });
      for (const x of b) values.push({ variant: v.label, pct, x: x.cumFrac, y: x[key] });
    }
  }
  const ticks = vs.length > 0 ? lengthTicks(vs[0]!.run.latency.digest) : [];
  const labelExpr = ticks.reduceRight((acc, t) => `datum.value == ${t.at} ? '${t.label}' : ${acc}`, "''");
  return {
    name: 'slowdown',
    title: 'Slowdown vs message length (P50 dashed, P99 solid)',
    spec: {
      $schema: SCHEMA, width: WIDTH, height: HEIGHT, data: { values },
      mark: { type: 'line', interpolate: 'step-before' },
      encoding: {
        x: {
          field: 'x', type: 'quantitative', scale: { domain: [0, 1] },
          title: 'Message length (bytes), placed by cumulative fraction of messages',
          axis: { values: ticks.map((t) => t.at), labelExpr, grid: false },
        },
        y: { field: 'y', type: 'quantitative', scale: { type: 'log' }, title: 'Slowdown' },
        color: VARIANT_COLOR,
        strokeDash: { field: 'pct', type: 'nominal', title: 'percentile', scale: { domain: ['P50', 'P99'], range: [[4, 3], [1, 0]] } },
      },
    },
  };
}

/** The short-message RTT CCDF (cperf's _cdf.data points) per variant. */
export function shortRttCcdfPlot(vs: readonly PlotVariant[]): Plot {
  const values: Array<Record<string, unknown>> = [];
  for (const v of vs) for (const [x, y] of shortCcdfPoints(v.run.latency.digest)) if (y > 0) values.push({ variant: v.label, x, y });
  const maxLen = vs.map((v) => v.run.latency.digest.short?.maxLength ?? 0).reduce((a, b) => Math.max(a, b), 0);
  return {
    name: 'short_rtt_ccdf',
    title: `Short-message RTT CCDF (messages <= ${maxLen} B)`,
    spec: {
      $schema: SCHEMA, width: WIDTH, height: HEIGHT, data: { values },
      mark: { type: 'line', interpolate: 'step-after' },
      encoding: {
        x: { field: 'x', type: 'quantitative', scale: { type: 'log' }, title: 'RTT (us, emulated)' },
        y: { field: 'y', type: 'quantitative', scale: { type: 'log' }, title: 'Fraction of short RPCs slower' },
        color: VARIANT_COLOR,
      },
    },
  };
}

/** Roles stacked in the per-core bars: the busy ones, then time the host OS took. */
const BAR_ROLES = ROLE_NAMES.filter((r) => r !== 'idle');

/** Per-core time by role, stacked, one row of bars per variant; the busiest core is marked. */
export function coreRolesPlot(vs: readonly PlotVariant[]): Plot {
  const values: Array<Record<string, unknown>> = [];
  for (const v of vs) {
    for (const c of v.run.cores) {
      if (c.label === 'fabric') continue;
      for (const role of BAR_ROLES) {
        const pct = (c.share[role] ?? 0) * 100;
        values.push({ variant: v.label, core: c.label, role, order: BAR_ROLES.indexOf(role), pct, busyPct: c.busy * 100, busiest: c.label === v.run.busiest && role === BAR_ROLES[0] });
      }
    }
  }
  return {
    name: 'core_roles',
    title: 'Per-core time by role (% of the measured window; stolen: the host OS did not run the core)',
    spec: {
      $schema: SCHEMA, data: { values },
      facet: { row: { field: 'variant', type: 'nominal', title: null, sort: null } },
      spec: {
        width: WIDTH, height: 160,
        layer: [
          {
            mark: 'bar',
            encoding: {
              x: { field: 'core', type: 'nominal', title: 'core', sort: null, axis: { labelAngle: 0 } },
              y: { field: 'pct', type: 'quantitative', stack: 'zero', title: '% of window', scale: { domain: [0, 100] } },
              color: { field: 'role', type: 'nominal', scale: { domain: [...BAR_ROLES] }, title: 'role' },
              order: { field: 'order', type: 'quantitative' },
            },
          },
          {
            transform: [{ filter: 'datum.busiest' }],
            mark: { type: 'text', dy: -8, fontWeight: 'bold' },
            encoding: {
              x: { field: 'core', type: 'nominal', sort: null },
              y: { field: 'busyPct', type: 'quantitative' },
              text: { value: 'busiest' },
            },
          },
        ],
      },
      resolve: { scale: { x: 'independent' } },
    },
  };
}

/** Hand-off latency CDFs, GRO -> SoftIRQ and SoftIRQ -> app, per variant. */
export function handoffCdfPlot(vs: readonly PlotVariant[]): Plot {
  const values: Array<Record<string, unknown>> = [];
  for (const v of vs) {
    for (const [kind, pts] of [['GRO -> SoftIRQ', v.run.handoff.cdf.groToSoftirq], ['SoftIRQ -> app', v.run.handoff.cdf.softirqToApp]] as const) {
      for (const [ns, f] of pts) values.push({ variant: v.label, kind, us: Math.max(ns, 1) / 1000, f });
    }
  }
  return {
    name: 'handoff_cdf',
    title: 'Hand-off latency CDF',
    spec: {
      $schema: SCHEMA, data: { values },
      facet: { column: { field: 'kind', type: 'nominal', title: null, sort: ['GRO -> SoftIRQ', 'SoftIRQ -> app'] } },
      spec: {
        width: WIDTH / 2 - 20, height: HEIGHT - 40,
        mark: { type: 'line', interpolate: 'step-after', point: true },
        encoding: {
          x: { field: 'us', type: 'quantitative', scale: { type: 'log' }, title: 'latency (us, emulated)' },
          y: { field: 'f', type: 'quantitative', scale: { domain: [0, 1] }, title: 'fraction of hand-offs <= x' },
          color: VARIANT_COLOR,
        },
      },
      resolve: { scale: { x: 'independent' } },
    },
  };
}

/** Wait per lock class as % of one core, variants side by side. */
export function lockWaitPlot(vs: readonly PlotVariant[]): Plot {
  const values: Array<Record<string, unknown>> = [];
  for (const v of vs) for (const l of v.run.locks) if (l.acquisitions > 0) values.push({ variant: v.label, cls: l.cls, wait: l.waitPctCore, contended: l.contendedPct });
  return {
    name: 'lock_wait',
    title: 'Lock wait by class (% of one core; can exceed 100)',
    spec: {
      $schema: SCHEMA, width: WIDTH, height: HEIGHT, data: { values },
      mark: 'bar',
      encoding: {
        x: { field: 'cls', type: 'nominal', title: 'lock class', sort: null, axis: { labelAngle: 0 } },
        xOffset: { field: 'variant', type: 'nominal', sort: null },
        y: { field: 'wait', type: 'quantitative', title: 'wait (% of one core)' },
        color: VARIANT_COLOR,
        tooltip: [{ field: 'variant' }, { field: 'cls' }, { field: 'wait', format: '.2f' }, { field: 'contended', format: '.2f' }],
      },
    },
  };
}

/** The five plots of a run or comparison, in report order. */
export function allPlots(vs: readonly PlotVariant[]): Plot[] {
  return [slowdownPlot(vs), shortRttCcdfPlot(vs), coreRolesPlot(vs), handoffCdfPlot(vs), lockWaitPlot(vs)];
}

/** Compiles a Vega-Lite spec and renders it to an SVG string (headless). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
