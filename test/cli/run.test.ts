import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnCli } from './spawn-cli.js';

const cli = (...args: string[]) => spawnCli({}, ...args);

/** A small cluster, short run (emulated ms: the default clock is virtual): cheap enough for a test, long enough to complete RPCs. */
const SMALL = ['--hosts', '2', '--cores', '2', '--gbps', '0.5', '--duration-ms', '2', '--warmup-ms', '0.5'];
/** The same in wall-clock mode, where durations are wall ms and every emulated duration is dilated. */
const SMALL_WALL = ['--clock', 'wall', '--hosts', '2', '--cores', '2', '--dilation', '20', '--gbps', '0.5', '--duration-ms', '600', '--warmup-ms', '200'];

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;

/** Every invariant of one `run --json` report that does not depend on speed. */
function checkReport(j: Json): void {
  // The rate is completed RPCs over the emulated measured seconds.
  const completed = j.metrics.client_responses_done;
  expect(completed).toBeGreaterThan(0);
  if (j.header.clock === 'virtual') expect(j.header.emulatedSec).toBeCloseTo(j.config.durationMs / 1000, 12);
  else expect(j.header.emulatedSec).toBeCloseTo(j.header.measuredSec / j.header.dilation, 9);
  expect(j.throughput.rpcsPerSec).toBeCloseTo(completed / j.header.emulatedSec, 6);
  const perHost = j.throughput.perHost.reduce((a: number, h: Json) => a + h.rpcsPerSec, 0);
  expect(perHost).toBeCloseTo(j.throughput.rpcsPerSec, 6);
  // Every RPC completed in the window has one (length, RTT) sample.
  expect(j.latency.digest.count).toBe(completed);

  // Role shares of every core (the fabric too) add up to its whole window.
  for (const c of j.cores) {
    const sum = Object.values(c.share as Record<string, number>).reduce((a, b) => a + b, 0);
    expect(sum, c.label).toBeGreaterThanOrEqual(0.999);
    expect(sum, c.label).toBeLessThanOrEqual(1.001);
  }
  expect(j.cores.length).toBe(j.header.workerThreads);

  // A lock cannot be contended more often than it was acquired.
  expect(j.locks.length).toBeGreaterThan(0);
  for (const l of j.locks) {
    expect(l.acquisitions, l.cls).toBeGreaterThanOrEqual(l.misses);
    expect(l.contendedPct, l.cls).toBeGreaterThanOrEqual(0);
    expect(l.contendedPct, l.cls).toBeLessThanOrEqual(100);
    expect(l.p99MissWaitNs, l.cls).toBeLessThanOrEqual(l.maxWaitNs);
    for (const w of l.topWaiters) expect(w.core, l.cls).toMatch(/^(h\d+\.c\d+|fabric)$/);
  }
  expect(j.schemaVersion).toBe(1);
  expect(j.locks.some((l: Json) => l.acquisitions > 0)).toBe(true);

  // cperf's digest: bucket counts sum to the sample count, cumFrac rises to exactly 1.
  const d = j.latency.digest;
  expect(d.buckets.reduce((a: number, b: Json) => a + b.count, 0)).toBe(d.count);
  let prevLen = -1;
  let prevFrac = 0;
  for (const b of d.buckets) {
    expect(b.length).toBeGreaterThan(prevLen);
    expect(b.cumFrac).toBeGreaterThan(prevFrac);
    prevLen = b.length;
    prevFrac = b.cumFrac;
  }
  expect(d.buckets.at(-1).cumFrac).toBe(1);

  // Packets: every one sent was received or dropped; responses byte-exact; no slot lost.
  const a = j.accounting;
  expect(a.sent).toBe(a.received + a.dropped);
  expect(a.networkBalanced).toBe(true);
  expect(a.mismatches).toBe(0);
  for (const [k, v] of Object.entries(a.leaks as Record<string, number>)) expect(v, k).toBe(0);
}

describe('homa-emu run (real workers)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'homa-emu-run-'));
  const json = join(dir, 'r.json');
  const dataDir = join(dir, 'data');
  const rttsDir = join(dir, 'rtts');
  const metricsDir = join(dir, 'metrics');
  const plotDir = join(dir, 'plots');
  const html = join(dir, 'report.html');
  let r: Awaited<ReturnType<typeof cli>>;
  let j: Json;

  beforeAll(async () => {
    r = await cli('run', ...SMALL, '--base-rtt-usecs', '15', '--json', json, '--data', dataDir, '--rtts', rttsDir, '--metrics', metricsDir, '--plot', plotDir, '--html', html);
    j = r.code === 0 ? JSON.parse(readFileSync(json, 'utf8')) : null;
  }, 60_000);

  it('exits 0 and prints the report', () => {
    expect(r.stderr).not.toMatch(/internal error|Error:/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^homa-emu run: 2 hosts x 2 cores, workload w3 at 0\.5 Gbps per client host, seed 1$/m);
    expect(r.stdout).toMatch(/^base RTT 15\.0 us \(given\)/m);
    expect(r.stdout).toMatch(/^Accounting: packets sent (\d+) = received (\d+) \+ dropped (\d+): ok; payload mismatches 0; slots unaccounted 0$/m);
  });

  it('writes a self-consistent JSON report with the given base RTT', () => {
    expect(j.config.hosts).toBe(2);
    expect(j.config.cores).toBe(2);
    expect(j.config.clock).toBe('virtual');
    expect(j.header.clock).toBe('virtual');
    expect(j.header.baseRttUs).toBe(15);
    expect(j.header.baseRttSource).toBe('given');
    expect(j.header.emulatedCores).toBe(4);
    expect(j.header.workerThreads).toBe(5); // 4 cores + the fabric
    expect(j.samples).toBeUndefined(); // the RTT samples go to --rtts, not the JSON
    expect(j.detail).toBeUndefined();
    expect(j.schemaVersion).toBe(1);
    checkReport(j);
  });

  it("--data writes cperf's log directory: .rtts per client host, the digest with its columns and the short-message CCDF in reports/, the base RTT for cperf", () => {
    expect(readdirSync(dataDir).sort()).toEqual(['homa_emu_cperf.py', 'homa_w3-0.rtts', 'homa_w3-1.rtts', 'reports']);
    expect(readdirSync(join(dataDir, 'reports')).sort()).toEqual(['homa_w3.data', 'homa_w3_cdf.data']);
    expect(readFileSync(join(dataDir, 'homa_emu_cperf.py'), 'utf8')).toMatch(/^cperf\.baseline_rtts\['homa-emu'\] = 15\.000$/m);
    const lines = readFileSync(join(dataDir, 'reports', 'homa_w3.data'), 'utf8').trimEnd().split('\n');
    expect(lines[0]).toMatch(/^# Digested data for homa_w3 experiment/);
    expect(lines[1]!.slice(1).trim().split(/\s+/)).toEqual(['length', 'cum_frac', 'samples', 'p50', 'p99', 'p999', 's50', 's99', 's999']);
    const rows = lines.filter((l) => !l.startsWith('#')).map((l) => l.trim().split(/\s+/).map(Number));
    expect(rows.length).toBe(j.latency.digest.buckets.length);
    for (const row of rows) expect(row.length).toBe(9);
    expect(rows.map((x) => x[0])).toEqual(j.latency.digest.buckets.map((b: Json) => b.length));
    expect(rows.reduce((a, x) => a + x[2]!, 0)).toBe(j.latency.digest.count);
    expect(rows.at(-1)![1]).toBe(1);

    const cdf = readFileSync(join(dataDir, 'reports', 'homa_w3_cdf.data'), 'utf8').trimEnd().split('\n').filter((l) => !l.startsWith('#'));
    expect(cdf.length).toBeGreaterThan(0);
    const pts = cdf.map((l) => l.trim().split(/\s+/).map(Number));
    for (const p of pts) expect(p.length).toBe(2);
    // A CCDF: RTTs rise, fractions fall, all in [0, 1).
    for (let i = 1; i < pts.length; i++) {
      expect(pts[i]![0]).toBeGreaterThanOrEqual(pts[i - 1]![0]!);
      expect(pts[i]![1]).toBeLessThanOrEqual(pts[i - 1]![1]!);
    }
    for (const p of pts) expect(p[1]! >= 0 && p[1]! < 1).toBe(true);
  });

  it('--rtts writes one file per client host, one sample line per RPC of the digest in all', () => {
    expect(readdirSync(rttsDir).sort()).toEqual(['homa_w3-0.rtts', 'homa_w3-1.rtts']);
    let n = 0;
    for (const f of readdirSync(rttsDir)) {
      const samples = readFileSync(join(rttsDir, f), 'utf8').trimEnd().split('\n').filter((l) => !l.startsWith('#'));
      for (const s of samples) expect(s).toMatch(/^\s*\d+\s+\d+\.\d+$/);
      n += samples.length;
      // The same host's samples as --data wrote.
      expect(readFileSync(join(dataDir, f), 'utf8').split('\n').slice(1)).toEqual(readFileSync(join(rttsDir, f), 'utf8').split('\n').slice(1));
    }
    expect(n).toBe(j.latency.digest.count);
  });

  it('--plot writes the five plots as SVG, --html a report with all of them', () => {
    expect(readdirSync(plotDir).sort()).toEqual(['core_roles.svg', 'handoff_cdf.svg', 'lock_wait.svg', 'short_rtt_ccdf.svg', 'slowdown.svg']);
    for (const f of readdirSync(plotDir)) expect(readFileSync(join(plotDir, f), 'utf8'), f).toMatch(/^<svg /);
    const page = readFileSync(html, 'utf8');
    expect(page.match(/<figure id="plot-/g)?.length).toBe(5);
    expect(page).toContain(`<td>${j.busiest}</td>`);
  });

  it('--metrics writes per host a homa_metrics snapshot and its start; counters add up to the JSON', () => {
    expect(readdirSync(metricsDir).sort()).toEqual(['node0.homa_metrics', 'node0.homa_metrics.prev', 'node1.homa_metrics', 'node1.homa_metrics.prev']);
    const sums: Record<string, number> = {};
    for (const h of [0, 1]) {
      const text = readFileSync(join(metricsDir, `node${h}.homa_metrics`), 'utf8');
      const prev = readFileSync(join(metricsDir, `node${h}.homa_metrics.prev`), 'utf8');
      const lines = text.trimEnd().split('\n');
      for (const l of lines) expect(l).toMatch(/^[a-zA-Z0-9_]+ +[0-9]+ .+$/);
      expect(lines.filter((l) => l.startsWith('core ')).length).toBe(2);
      const num = (t: string, name: string): number => Number(/^(\S+) +(\d+)/.exec(t.split('\n').find((l) => l.startsWith(`${name} `))!)![2]);
      expect(num(text, 'cpu_khz')).toBe(2_400_000);
      // The time between the snapshots spans every core's measured window (emulated time): from
      // the first core's start to the last core's end, which on a loaded host can trail the stop signal.
      const secs = (num(text, 'time_cycles') - num(prev, 'time_cycles')) / 2.4e9;
      for (const c of j.cores.filter((x: Json) => x.host === h)) expect(secs).toBeGreaterThanOrEqual(c.windowNs / 1e9 - 1e-6);
      expect(secs).toBeGreaterThan(j.header.emulatedSec * 0.9);
      expect(secs).toBeLessThan(j.header.emulatedSec * 1.5);
      for (const l of lines) {
        const [name, v] = l.split(/ +/);
        if (name !== 'core' && name !== 'time_cycles' && name !== 'cpu_khz') sums[name!] = (sums[name!] ?? 0) + Number(v);
      }
    }
    for (const k of ['packets_rcvd_DATA', 'packets_sent_GRANT', 'softirq_calls', 'gro_data_bypasses', 'wait_block']) expect(sums[k], k).toBe(j.metrics[k]);
    expect(sums['responses_received']).toBe(j.metrics.client_responses_done);
  });
});

describe('homa-emu run with the measured base RTT', () => {
  it('measures the base RTT with an unloaded run first and reports it as measured', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'homa-emu-run-'));
    const json = join(dir, 'r.json');
    const r = await cli('run', ...SMALL, '--workload', 'w2', '--json', json);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^base RTT \d+\.\d us \(measured\)/m);
    const j = JSON.parse(readFileSync(json, 'utf8'));
    expect(j.header.baseRttSource).toBe('measured');
    expect(j.header.baseRttUs).toBeGreaterThan(0);
    expect(Number.isFinite(j.header.baseRttUs)).toBe(true);
    checkReport(j);
  }, 60_000);
});

describe('homa-emu run --clock wall', () => {
  it('keeps the wall-clock mode: times are wall / dilation and every invariant holds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'homa-emu-run-'));
    const json = join(dir, 'r.json');
    const r = await cli('run', ...SMALL_WALL, '--base-rtt-usecs', '15', '--json', json);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^measured \d+\.\d+ s wall \(\d+\.\d+ s emulated, dilation 20\)/m);
    const j = JSON.parse(readFileSync(json, 'utf8'));
    expect(j.header.clock).toBe('wall');
    expect(j.config.dilation).toBe(20);
    checkReport(j);
  }, 60_000);
});

describe('homa-emu compare --target run', () => {
  it('prints one column per variant', async () => {
    const L = join(mkdtempSync(join(tmpdir(), 'homa-emu-cmp-')), 'L');
    const r = await cli('compare', '--vary', 'max-gro-skbs=5,20', '--repeat', '1', ...SMALL, '--duration-ms', '1', '--warmup-ms', '0.2',
      '--base-rtt-usecs', '15', '--data', L, '--exp', 'emu');
    expect(r.code).toBe(0);
    // --data: one cperf experiment per variant.
    expect(r.stdout).toMatch(/^cperf experiments in .*: emu_max_gro_skbs_5, emu_max_gro_skbs_20$/m);
    expect(readdirSync(join(L, 'reports')).sort()).toEqual(['emu_max_gro_skbs_20.data', 'emu_max_gro_skbs_20_cdf.data', 'emu_max_gro_skbs_5.data', 'emu_max_gro_skbs_5_cdf.data']);
    // One .rtts per client host that completed RPCs (on a loaded machine a short run may leave one without).
    const rtts = readdirSync(L).filter((f) => f.endsWith('.rtts'));
    for (const f of rtts) expect(f).toMatch(/^emu_max_gro_skbs_(5|20)-[01]\.rtts$/);
    for (const v of ['5', '20']) expect(rtts.some((f) => f.startsWith(`emu_max_gro_skbs_${v}-`)), v).toBe(true);
    expect(r.stdout).toMatch(/^homa-emu compare \(run\): 2 variants x 1 runs/m);
    const lines = r.stdout.split('\n');
    const header = lines.find((l) => l.includes('figure'))!;
    const cells = header.split('│').map((c) => c.trim()).filter((c) => c !== '');
    expect(cells).toEqual(['figure', 'max-gro-skbs=5', 'max-gro-skbs=20']);
    const rate = lines.find((l) => /│ RPCs\/s\s+│/.test(l))!;
    expect(rate.split('│').map((c) => c.trim()).filter((c) => c !== '')).toHaveLength(3);
  }, 60_000);
});

describe('homa-emu workloads', () => {
  it("prints W1-W5 with cp_node's mean lengths", async () => {
    const r = await cli('workloads');
    expect(r.code).toBe(0);
    const means: Record<string, string> = { w1: '192.8', w2: '440.8', w3: '2567.7', w4: '61008.1', w5: '386161.4' };
    for (const [w, mean] of Object.entries(means)) {
      expect(r.stdout).toMatch(new RegExp(`│ ${w}\\s+│ ${mean.replace('.', '\\.')}\\s+│`));
    }
    const j = JSON.parse((await cli('workloads', '--json')).stdout);
    expect(j.map((x: Json) => x.name)).toEqual(['w1', 'w2', 'w3', 'w4', 'w5']);
    expect(j.map((x: Json) => x.meanBytes.toFixed(1))).toEqual(Object.values(means));
  });
});
