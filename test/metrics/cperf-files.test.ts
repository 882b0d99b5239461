import { describe, expect, it } from 'vitest';
import { EXP_NAME, cperfPaths, formatCperfShim, formatDigestData, formatRtts, formatShortCdf, rttsByHost } from '../../src/metrics/cperf-files.js';
import { computeDigest, RttSamples } from '../../src/metrics/digest.js';

const OPTS = { linkMbps: 8000, baseRttUs: 10 };
const DATE = new Date(Date.UTC(2026, 10, 21, 1, 2, 3));

function samplesOf(pairs: [number, number][], max?: number): RttSamples {
  const s = new RttSamples(max);
  for (const [len, ns] of pairs) s.push(len, ns);
  return s;
}

describe('formatRtts', () => {
  const header = {
    exp: 'homa_w4', date: DATE,
    options: { protocol: 'homa', workload: 'w4', gbps: 10, ports: 5, serverNodes: 9, serverPorts: 2, clientMax: 200 },
  };

  it('writes four # lines, then "%8d %12.2f" lines of length and RTT in µs', () => {
    const text = formatRtts(samplesOf([[1000, 33_000], [83_912, 1_234_567], [12, 4_999]]), header);
    expect(text.split('\n')).toEqual([
      '# Round-trip times measured by homa-emu (cp_node format) at 2026-11-21 01:02:03, experiment homa_w4',
      '# --protocol homa, --workload w4, --gbps 10.0 --threads 5,',
      '# --server-nodes 9 --server-ports 2, --client-max 200',
      '# Length   RTT (usec)',
      '    1000        33.00',
      '   83912      1234.57',
      '      12         5.00',
      '',
    ]);
  });

  it('writes a wrapped ring oldest first', () => {
    const s = samplesOf([[1, 1000], [2, 2000], [3, 3000], [4, 4000]], 3);
    const lines = formatRtts(s, header).trimEnd().split('\n').slice(4);
    expect(lines.map((l) => Number(l.trim().split(/\s+/)[0]))).toEqual([2, 3, 4]);
  });
});

describe('formatDigestData', () => {
  it('writes cperf\'s columns and widths, one line per bucket', () => {
    const pairs: [number, number][] = [
      [2000, 24_000], [1000, 33_000], [5000, 45_000], [1000, 11_000], [2000, 36_000], [1000, 22_000], [2000, 12_000], [1000, 44_000],
    ];
    const text = formatDigestData(computeDigest(samplesOf(pairs), OPTS), { exp: 'homa_w4', date: DATE });
    expect(text.split('\n')).toEqual([
      '# Digested data for homa_w4 experiment, run at 2026-11-21 01:02:03',
      '# length  cum_frac  samples     p50      p99     p999   s50    s99    s999',
      '    1000  0.500000        4    33.0     44.0     44.0   3.0    4.0     4.0',
      '    2000  0.875000        3    24.0     36.0     36.0   2.0    3.0     3.0',
      '    5000  1.000000        1    45.0     45.0     45.0   3.0    3.0     3.0',
      '',
    ]);
    // The header names are the columns cperf's readers look up.
    expect(text.split('\n')[1].slice(1).trim().split(/\s+/)).toEqual(['length', 'cum_frac', 'samples', 'p50', 'p99', 'p999', 's50', 's99', 's999']);
  });
});

describe('formatShortCdf', () => {
  it('writes each RTT and the fraction slower than it (%12.3f  %.8f)', () => {
    const pairs: [number, number][] = [[1000, 33_000], [1000, 11_000], [1000, 44_000], [1000, 22_000], [9000, 1e6]];
    // 5 RPCs, budget 0: only length 1000 (4 RPCs) is short.
    const text = formatShortCdf(computeDigest(samplesOf(pairs), OPTS), { exp: 'homa_w1', date: DATE });
    expect(text.split('\n')).toEqual([
      '# Fraction of RTTS longer than a given time for homa_w1 experiment',
      '# Includes messages <= 1000 bytes; measured at 2026-11-21 01:02:03',
      '# Data collected at 2026-11-21 01:02:03 ',
      '#       usec        frac',
      '      11.000  0.75000000',
      '      22.000  0.50000000',
      '      33.000  0.25000000',
      '      44.000  0.00000000',
      '',
    ]);
  });

  it('skips points that change both x and y by less than 1%', () => {
    // 299 RPCs at 50 µs and one at 100 µs. y after the k-th is (300-k)/300. From y = 299/300,
    // the next point needs a 1% drop: 296/300 (3 steps), then 293/300; x never changes until 100.
    const pairs: [number, number][] = [];
    for (let i = 0; i < 299; i++) pairs.push([100, 50_000]);
    pairs.push([100, 100_000]);
    const lines = formatShortCdf(computeDigest(samplesOf(pairs), OPTS), { exp: 'x', date: DATE }).trimEnd().split('\n').slice(4);
    expect(lines.slice(0, 3)).toEqual(['      50.000  0.99666667', '      50.000  0.98666667', '      50.000  0.97666667']);
    expect(lines[lines.length - 1]).toBe('     100.000  0.00000000');
    // Every written point moved y by at least 1% from the previous one (x is constant until the last).
    const ys = lines.map((l) => Number(l.trim().split(/\s+/)[1]));
    for (let i = 1; i < ys.length - 1; i++) expect((ys[i - 1] - ys[i]) / ys[i - 1]).toBeGreaterThanOrEqual(0.0099);
    expect(lines.length).toBeLessThan(300);
  });

  it('writes only the header when there are no samples', () => {
    const text = formatShortCdf(computeDigest(new RttSamples(), OPTS), { exp: 'x', date: DATE });
    expect(text.trimEnd().split('\n')).toHaveLength(4);
  });
});

describe('cperf log directory helpers', () => {
  it('split samples per client host in their order', () => {
    const m = rttsByHost({ lengths: Int32Array.of(1, 2, 3, 4), rttNs: Float64Array.of(10, 20, 30, 40), hosts: Int32Array.of(2, 0, 2, 0) });
    expect([...m.keys()]).toEqual([0, 2]);
    expect([...m.get(0)!.lengths]).toEqual([2, 4]);
    expect([...m.get(2)!.rttNs]).toEqual([10, 30]);
  });

  it("name an experiment's files as cperf reads them", () => {
    const p = cperfPaths('L', 'homa_w4');
    expect([p.rtts(3), p.data, p.cdf, p.reports]).toEqual(['L/homa_w4-3.rtts', 'L/reports/homa_w4.data', 'L/reports/homa_w4_cdf.data', 'L/reports']);
    expect(EXP_NAME.test('homa_w4_steering_gen3')).toBe(true);
    expect(EXP_NAME.test('homa-w4')).toBe(false);
  });

  it("hand cperf the first experiment's base RTT and the link speed, listing every experiment's", () => {
    const py = formatCperfShim([{ exp: 'a', baseRttUs: 12.3456 }, { exp: 'b', baseRttUs: 20 }], 25000);
    const code = py.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(code).toEqual(['import cperf', "cperf.node_type = 'homa-emu'", "cperf.baseline_rtts['homa-emu'] = 12.346", 'cperf.link_mbps = 25000.0']);
    expect(py).toMatch(/^# {3}experiment b: base RTT 20\.000 us \(emulated\)$/m);
  });
});
