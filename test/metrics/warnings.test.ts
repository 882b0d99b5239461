import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/config.js';
import { runWarnings, type WarningInput } from '../../src/metrics/warnings.js';
import { fidelity } from '../../src/metrics/cores.js';

const quiet: WarningInput = { cfg: defaultConfig(), canaries: {}, lagFraction: 0, mismatches: 0, leaks: {}, fidelity: [] };

describe('runWarnings', () => {
  it('says nothing about a clean run', () => {
    expect(runWarnings(quiet)).toEqual([]);
  });

  it('turns each kind of trouble into one warning naming the option to raise, with its current value', () => {
    const cases: Array<[Record<string, number>, string, string, RegExp]> = [
      [{ aborts_etimedout: 3 }, 'rpcs-aborted', '--timeout-ticks', /3 RPCs were aborted .*raise --timeout-ticks/],
      [{ client_error_ENOMEM: 7 }, 'client-enomem', '--max-rpcs-per-host', /ENOMEM 7 times.*--max-rpcs-per-host \(now 4096\)/],
      [{ packet_alloc_failures: 2 }, 'packet-slots-exhausted', '--packet-slots', /ran out 2 times: raise --packet-slots/],
      [{ rpc_alloc_failures: 1, server_cant_create_rpcs: 1 }, 'rpc-slots-exhausted', '--max-rpcs-per-host', /RPC slots 2 times/],
      [{ page_alloc_failures: 4 }, 'page-slots-exhausted', '--bpages-per-host', /raise --bpages-per-host \(now 1024\)/],
      [{ net_drop_switch_queue_full: 9 }, 'switch-queue-full', '--switch-queue-pkts', /dropped 9 packets for a full egress queue: raise --switch-queue-pkts \(now 4096\)/],
      [{ softirq_ring_full_drops: 5 }, 'ring-full', '--ring-slots', /raise --ring-slots \(now 4096\)/],
    ];
    for (const [canaries, code, option, re] of cases) {
      const w = runWarnings({ ...quiet, canaries });
      expect(w.map((x) => x.code), code).toEqual([code]);
      expect(w[0]!.option).toBe(option);
      expect(w[0]!.message).toMatch(re);
    }
  });

  it('the offered load not reached, mismatches, leaks and fidelity', () => {
    expect(runWarnings({ ...quiet, lagFraction: 0.009 })).toEqual([]);
    const w = runWarnings({ ...quiet, lagFraction: 0.25, mismatches: 1, leaks: { rpcs: -2 }, fidelity: ['oversubscribed: 9 worker threads on 2 host CPUs'] });
    expect(w.map((x) => x.code)).toEqual(['load-not-reached', 'payload-mismatch', 'slots-leaked', 'fidelity-oversubscribed']);
    // Virtual time (the default): the emulated cluster is saturated; the host has no part in it.
    expect(w[0]!.message).toMatch(/25% behind .*the emulated cores or links cannot carry it .*lower --gbps/);
    expect(w[0]!.message).not.toMatch(/dilation/);
    expect(w[0]!.option).toBe('--gbps');
    expect(w[1]!.option).toBeNull();
    expect(w[3]!.option).toBe('--dilation');
    const wall = runWarnings({ ...quiet, cfg: { ...quiet.cfg, clock: 'wall' }, lagFraction: 0.25 });
    expect(wall[0]!.message).toMatch(/25% behind .*raise --dilation \(now 1\) if the host is too slow/);
    expect(wall[0]!.option).toBe('--dilation');
  });
});

describe('the oversubscription warning', () => {
  it('says what to do: how many worker threads fit, or raise --dilation', () => {
    const f = fidelity([], 4, 8, 9, 'hybrid', 5);
    expect(f.warnings).toHaveLength(1);
    expect(f.warnings[0]).toMatch(/^oversubscribed: 9 worker threads on 4 host CPUs; .*use at most 4 worker threads \(--hosts x --cores, plus 1 for the switch\) or raise --dilation \(now 5\)/);
  });
});

describe('the virtual-time fidelity warnings', () => {
  const v = {
    costProfile: 'xl170', costScale: 1, syncWindowNs: 1000, deterministic: false, emulatedPerWallSec: 0.01,
    lateItems: 0, lateShare: 0, lateMeanNs: 0, lateMaxNs: 0,
    lockInversions: 0, lockInversionShare: 0, lockInversionMeanNs: 0, lockInversionMaxNs: 0, syncWaits: 0, parks: 0,
  };
  it('say nothing under 1%, and name the window above it: late items, lock holds out of emulated order', () => {
    expect(fidelity([], 2, 8, 9, 'hybrid', 1, { ...v, lateShare: 0.009, lockInversionShare: 0.009 }).warnings).toEqual([]);
    const f = fidelity([], 2, 8, 9, 'hybrid', 1, { ...v, lateShare: 0.02, lateMeanNs: 300, lateMaxNs: 900, lockInversions: 50, lockInversionShare: 0.03, lockInversionMeanNs: 400, lockInversionMaxNs: 2000 });
    const w = runWarnings({ ...quiet, fidelity: f.warnings });
    expect(w.map((x) => [x.code, x.option])).toEqual([['fidelity-late-items', '--sync-window-ns'], ['fidelity-lock-order', '--sync-window-ns']]);
    expect(w[1]!.message).toMatch(/^lock order: 3\.0% of lock acquisitions .*\(400 ns on average, 2000 ns at most\) went uncounted: lock waits read low; lower --sync-window-ns \(now 1000\)/);
  });
});

describe('homa-emu run prints the warnings and flags them in the JSON', () => {
  it('RPC slots that run out: WARNING lines and warnings[] with the option to raise', () => {
    const bin = fileURLToPath(new URL('../../bin/homa-emu.js', import.meta.url));
    const json = join(mkdtempSync(join(tmpdir(), 'homa-emu-warn-')), 'r.json');
    // 16 RPC slots per host for 200 outstanding RPCs per client host: ENOMEM is certain.
    const r = spawnSync(process.execPath, [bin, 'run', '--base-rtt-usecs', '15', '--duration-ms', '1', '--warmup-ms', '0.2',
      '--max-rpcs-per-host', '16', '--json', json], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^WARNING: clients got ENOMEM \d+ times .*raise --max-rpcs-per-host \(now 16\)/m);
    const j = JSON.parse(readFileSync(json, 'utf8'));
    const w = j.warnings.find((x: { code: string }) => x.code === 'client-enomem');
    expect(w.option).toBe('--max-rpcs-per-host');
    expect(w.message).toMatch(/ENOMEM/);
    for (const x of j.warnings) expect(Object.keys(x).sort()).toEqual(['code', 'message', 'option']);
  });
});
