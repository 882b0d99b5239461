import { describe, expect, it } from 'vitest';
import {
  allPlots, coreRolesPlot, lengthTicks, lockWaitPlot, renderSvg, shortRttCcdfPlot, slowdownPlot, type PlotVariant,
} from '../../src/metrics/plots.js';
import { shortCcdfPoints } from '../../src/metrics/cperf-files.js';
import { fakeRun } from './plot-fixtures.js';

const A: PlotVariant = { label: 'steering=gen2', run: fakeRun(1, 0.8) };
const B: PlotVariant = { label: 'steering=gen3', run: fakeRun(2, 0.6) };

/* eslint-disable @typescript-eslint/no-explicit-any */
const rows = (p: { spec: any }): Array<Record<string, any>> => p.spec.data.values;

describe('plots (Vega-Lite specs)', () => {
  it('slowdown: per variant a P50 and a P99 step curve from x=0 through every bucket on cperf axes', () => {
    const p = slowdownPlot([A, B]);
    const buckets = A.run.latency.digest.buckets;
    for (const v of [A, B]) {
      for (const pct of ['P50', 'P99']) {
        const pts = rows(p).filter((r) => r['variant'] === v.label && r['pct'] === pct);
        expect(pts.length).toBe(buckets.length + 1);
        expect(pts[0]!['x']).toBe(0);
        expect(pts.at(-1)!['x']).toBe(1);
        const key = pct === 'P50' ? 'slowdownP50' : 'slowdownP99';
        expect(pts.slice(1).map((r) => r['y'])).toEqual(v.run.latency.digest.buckets.map((b) => b[key]));
      }
    }
    expect((p.spec as any).encoding.y.scale.type).toBe('log');
    expect((p.spec as any).encoding.x.scale.domain).toEqual([0, 1]);
  });

  it("lengthTicks: one length label at every ~10% of messages, at the bucket's cumulative fraction", () => {
    const ticks = lengthTicks(A.run.latency.digest);
    expect(ticks.map((t) => t.label)).toEqual(['100', '500', '1000', '5000', '20000', '100000']);
    expect(ticks.map((t) => t.at)).toEqual([0.4, 0.5, 0.7, 0.8, 0.9, 1]);
  });

  it('short RTT CCDF: the points of the _cdf.data file with a positive fraction', () => {
    const p = shortRttCcdfPlot([A]);
    const expected = shortCcdfPoints(A.run.latency.digest).filter(([, y]) => y > 0);
    expect(rows(p).map((r) => [r['x'], r['y']])).toEqual(expected);
    expect(expected.length).toBeGreaterThan(3);
  });

  it('core roles: every emulated core by every non-idle role, the busiest core marked once per variant', () => {
    const p = coreRolesPlot([A, B]);
    expect(new Set(rows(p).map((r) => r['core']))).toEqual(new Set(['h0.c0', 'h0.c1', 'h1.c0', 'h1.c1']));
    expect(rows(p).some((r) => r['role'] === 'idle')).toBe(false);
    expect(rows(p).filter((r) => r['busiest']).map((r) => [r['variant'], r['core']])).toEqual([['steering=gen2', 'h0.c0'], ['steering=gen3', 'h0.c0']]);
    const napi = rows(p).find((r) => r['variant'] === 'steering=gen2' && r['core'] === 'h0.c0' && r['role'] === 'napi')!;
    expect(napi['pct']).toBeCloseTo(80, 9);
  });

  it('lock wait: classes that were acquired, per variant', () => {
    const p = lockWaitPlot([A, B]);
    expect(rows(p).map((r) => `${r['variant']}/${r['cls']}/${r['wait']}`)).toEqual([
      'steering=gen2/client/1.5', 'steering=gen2/server/0.5', 'steering=gen3/client/3', 'steering=gen3/server/0.5',
    ]);
  });
});

describe('renderSvg (vega in Node)', () => {
  it('renders each of the five plots to an SVG with its axis titles and both variants in the legend', async () => {
    const plots = allPlots([A, B]);
    expect(plots.map((p) => p.name)).toEqual(['slowdown', 'short_rtt_ccdf', 'core_roles', 'handoff_cdf', 'lock_wait']);
    for (const p of plots) {
      const svg = await renderSvg(p.spec);
      expect(svg, p.name).toMatch(/^<svg [^>]*width="\d+" height="\d+"/);
      if (p.name !== 'core_roles') {
        expect(svg, p.name).toContain('steering=gen2');
        expect(svg, p.name).toContain('steering=gen3');
      }
      if (p.name === 'slowdown') {
        expect(svg).toContain('Slowdown');
        expect(svg).toContain('>20000<');
      }
      if (p.name === 'core_roles') expect(svg.match(/>busiest</g)?.length).toBe(2);
      if (p.name === 'handoff_cdf') expect(svg).toContain('SoftIRQ -&gt; app');
    }
  }, 30_000);
});
