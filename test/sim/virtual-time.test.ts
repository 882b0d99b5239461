/**
 * Virtual time on real worker threads (src/cpu/vcore-loop.ts, src/cpu/vsync.ts): what it must
 * show whatever the host. Queueing theory: a Poisson source feeding one core of fixed-cost work
 * waits as M/D/1 says. Locks: two cores that always want one lock held h each wait h per
 * acquisition in emulated time; alone, never. Calibration: an unloaded 100 B RTT is exactly the
 * sum of the cost profile's stages on its path. Determinism: two --deterministic runs of one seed
 * give identical figures. Host independence: random wall-clock sleeps injected into the core
 * loops (HOMA_EMU_TEST_JITTER) change the wall time, not the figures. No assertion depends on the
 * host's speed.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/config.js';
import { runWorld } from '../../src/cluster/worlds.js';
import { emulate } from '../../src/cluster/emulate.js';
import { LockStat } from '../../src/shm/lock.js';
import { resolveCosts } from '../../src/config/cost-profile.js';
import { unloadedRttPath } from '../../src/homa/cost-path.js';
import { compiledUrl } from '../../src/util/paths.js';
import { spawnCli } from '../cli/spawn-cli.js';

const mdlWorld = compiledUrl(import.meta.url, '../workers/mdl-world.js').href;
const lockWorld = compiledUrl(import.meta.url, '../workers/lock-world.js').href;

const cli = spawnCli;

describe('virtual time: queueing theory', () => {
  // D = 1 us of work per arrival; rate rho per us. M/D/1 mean wait = rho * D / (2 (1 - rho)).
  for (const rho of [0.5, 0.8]) {
    it(`one core fed Poisson arrivals of fixed-cost work waits as M/D/1 says (rho ${rho})`, async () => {
      const cfg = resolveConfig({ hosts: 1, cores: 2, gbps: rho, serviceUsecs: 1, warmupMs: 1, durationMs: 150, seed: 7 });
      const raw = await runWorld(mdlWorld, cfg);
      const [n, sum] = raw.worldResult as number[];
      const expected = (rho * 1000) / (2 * (1 - rho));
      expect(n!).toBeGreaterThan(50_000);
      expect(Math.abs(sum! / n! - expected) / expected).toBeLessThan(0.05);
    }, 60_000);
  }
});

describe('virtual time: locks', () => {
  const holdNs = 2000;
  for (const det of [false, true]) {
    it(`two cores that always want one lock held ${holdNs} ns wait ${holdNs} ns per acquisition; the lock is always held${det ? ' (deterministic)' : ''}`, async () => {
      const cfg = resolveConfig({ hosts: 1, cores: 2, serviceUsecs: holdNs / 1000, warmupMs: 0.1, durationMs: 2, deterministic: det });
      const raw = await runWorld(lockWorld, cfg);
      const t = raw.lockStats[0]!.total;
      const acq = t[LockStat.ACQUISITIONS]!;
      expect(acq).toBeGreaterThan(900); // 2 ms / 2 us
      // Every acquisition but at most one per core at the window's start waits exactly one hold.
      expect(t[LockStat.MISSES]!).toBeGreaterThanOrEqual(acq - 2);
      expect(t[LockStat.WAIT_NS]! / t[LockStat.MISSES]!).toBeCloseTo(holdNs, 0);
      expect(t[LockStat.MAX_WAIT_NS]!).toBeCloseTo(holdNs, 0);
      // Held all the time: the holds add up to the window (within one hold at each edge).
      expect(Math.abs(t[LockStat.HOLD_NS_SAMPLED]! - raw.measuredNs)).toBeLessThanOrEqual(2 * holdNs);
    }, 60_000);
  }

  it('one core alone never waits', async () => {
    const cfg = resolveConfig({ hosts: 1, cores: 1, serviceUsecs: 2, warmupMs: 0.1, durationMs: 1 });
    const raw = await runWorld(lockWorld, cfg);
    const t = raw.lockStats[0]!.total;
    expect(t[LockStat.ACQUISITIONS]!).toBeGreaterThan(400);
    expect(t[LockStat.MISSES]!).toBe(0);
    expect(t[LockStat.WAIT_NS]!).toBe(0);
  }, 60_000);
});

describe('virtual time: calibration', () => {
  const unloaded = (over: Record<string, unknown> = {}): ReturnType<typeof resolveConfig> => resolveConfig({
    hosts: 2, cores: 1, workload: '100', gbps: 0, clientMax: 1, ports: 1, portReceivers: 0,
    serverPorts: 1, portThreads: 1, warmupMs: 0.1, durationMs: 1, baseRttUsecs: 15, ...over,
  });

  it('an unloaded 100 B RTT is exactly the sum of the profile stages on its path', async () => {
    const cfg = unloaded();
    const r = await emulate(cfg);
    const model = unloadedRttPath(cfg, resolveCosts('xl170', 1));
    expect(r.header.calibration!.totalUs).toBeCloseTo(model.totalNs / 1000, 9);
    expect(r.samples.rttNs.length).toBeGreaterThan(100);
    // Every RTT is the modelled path, except the one or two that met the timer's tick (1 ms) on their way.
    const inexact = Array.from(r.samples.rttNs).filter((x) => Math.abs(x - model.totalNs) >= 1e-3).length;
    expect(inexact).toBeLessThanOrEqual(2);
    expect(Math.min(...r.samples.rttNs)).toBeCloseTo(model.totalNs, 3);
    // Near the kernel's 15 us on xl170.
    expect(model.totalNs).toBeGreaterThan(12_000);
    expect(model.totalNs).toBeLessThan(17_000);
  }, 60_000);

  it('parallel runs of the unloaded echo give the deterministic run\'s figures', async () => {
    // Both hosts ping each other in lockstep: items cross between workers at the same instants,
    // so a scan of the bounds that misses an item in flight, or a core that jumps past an item
    // handed to it during its check, shows as a ~40 us RTT or a few RPCs fewer. Each of those
    // used to hit about one run in ten; five runs here.
    const det = await emulate(unloaded({ deterministic: true }));
    const want = { n: det.metrics['client_responses_done'], rtt: Array.from(det.samples.rttNs) };
    for (let i = 0; i < 5; i++) {
      const r = await emulate(unloaded());
      expect({ n: r.metrics['client_responses_done'], rtt: Array.from(r.samples.rttNs) }).toEqual(want);
      expect(r.fidelity.virtual!.lateItems).toBe(0);
    }
  }, 120_000);
});

/** The same run without and with HOMA_EMU_TEST_JITTER=`jitter` (seed,maxMs,every): both JSON reports, each run checked to exit 0. */
async function withAndWithoutJitter(dir: string, args: string[], jitter: string): Promise<[any, any]> {
  const a = await cli({}, ...args, '--json', join(dir, 'a.json'));
  const b = await cli({ HOMA_EMU_TEST_JITTER: jitter }, ...args, '--json', join(dir, 'b.json'));
  expect(a.code, a.stderr).toBe(0);
  expect(b.code, b.stderr).toBe(0);
  return [JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8')), JSON.parse(readFileSync(join(dir, 'b.json'), 'utf8'))];
}

/** Every figure of a JSON report, less those that describe the host (wall time, parks, sync waits). */
function figures(j: Record<string, unknown>): unknown {
  const host = new Set(['measuredSec', 'wallSec', 'emulatedPerWallSec', 'parks', 'ipisSent', 'syncWaits', 'hostCpus', 'oversubscription']);
  return JSON.parse(JSON.stringify(j, (k, v) => (host.has(k) ? undefined : v)));
}

// W1 at 0.2 Gbps per host: a loaded but stable cluster (the busiest core about half busy with
// interrupt work), mostly short messages so that a short window yields many short-message RTTs.
const RUN = ['run', '--hosts', '2', '--cores', '2', '--workload', 'w1', '--gbps', '0.2', '--duration-ms', '2', '--warmup-ms', '0.3',
  '--base-rtt-usecs', '15', '--seed', '3'];

describe('virtual time: determinism and host independence', () => {
  it('two --deterministic runs with one seed give identical figures', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'homa-emu-det-'));
    const a = await cli({}, ...RUN, '--deterministic', '--json', join(dir, 'a.json'));
    const b = await cli({}, ...RUN, '--deterministic', '--json', join(dir, 'b.json'));
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const ja = JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8'));
    const jb = JSON.parse(readFileSync(join(dir, 'b.json'), 'utf8'));
    expect(ja.metrics.client_responses_done).toBeGreaterThan(200);
    expect(figures(jb)).toEqual(figures(ja));
  }, 120_000);

  // The pacer, thread wake-ups and a sender at its cap of outstanding RPCs are all busy in these:
  // each reads state other cores write, which must carry its virtual time or a core's next event
  // can fall below the bound others already ran past (counted as late items; the runs then
  // differ on a loaded host).
  const DET_RUNS: Array<[string, string[], string]> = [
    ['W4 at 5 Gbps, 2 x 4 (the pacer)', ['--hosts', '2', '--cores', '4', '--workload', 'w4', '--gbps', '5'], 'pacer_packets'],
    ['W3 at 15 Gbps, 2 x 3, blocking waits (senders at their cap)', ['--hosts', '2', '--cores', '3', '--workload', 'w3', '--gbps', '15', '--wait-mode', 'block'], 'wait_block'],
  ];
  for (const [what, opts, busy] of DET_RUNS) {
    it(`--deterministic under random wall-clock sleeps, ${what}: the same figures, no event found below a published bound`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'homa-emu-det4-'));
      const args = ['run', ...opts, '--duration-ms', '2', '--warmup-ms', '0.5', '--base-rtt-usecs', '15', '--seed', '3', '--deterministic'];
      const [ja, jb] = await withAndWithoutJitter(dir, args, '5,2,40');
      expect(ja.metrics[busy]).toBeGreaterThan(50);
      expect([ja.fidelity.virtual.lateItems, jb.fidelity.virtual.lateItems]).toEqual([0, 0]);
      expect(figures(jb)).toEqual(figures(ja));
    }, 120_000);
  }

  it('random wall-clock sleeps in the core loops change nothing but the wall time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'homa-emu-jit-'));
    // Long enough for ~500 short messages, so that their P99 is not a handful of samples.
    const args = [...RUN, '--duration-ms', '10'];
    // Up to 5 ms asleep, in one loop pass in 50 on average, in every core.
    const [ja, jb] = await withAndWithoutJitter(dir, args, '11,5,50');
    const rel = (x: number, y: number): number => Math.abs(x - y) / Math.max(Math.abs(x), 1e-9);
    expect(ja.latency.digest.short.count).toBeGreaterThan(800);
    expect(rel(jb.throughput.rpcsPerSec, ja.throughput.rpcsPerSec), `RPCs/s ${ja.throughput.rpcsPerSec} vs ${jb.throughput.rpcsPerSec}`).toBeLessThan(0.02);
    const sa = ja.latency.digest.short;
    const sb = jb.latency.digest.short;
    expect(rel(sb.rttP50Us, sa.rttP50Us), `short P50 ${sa.rttP50Us} vs ${sb.rttP50Us}`).toBeLessThan(0.05);
    expect(rel(sb.rttP99Us, sa.rttP99Us), `short P99 ${sa.rttP99Us} vs ${sb.rttP99Us}`).toBeLessThan(0.15);
  }, 180_000);
});
