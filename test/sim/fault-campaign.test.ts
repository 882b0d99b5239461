import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/config.js';
import { partialFromCli, camel } from '../../src/cli/options.js';
import { campaignPartial, checkRunInvariants, cliArgs, replayCommands, runSeed } from '../../src/cluster/campaign.js';
import type { EmulateResult } from '../../src/cluster/emulate.js';

// The seeded fault campaign in miniature: a few seeds of a tiny cluster under random loss,
// stalls, tiny pools, short timeouts and policies (npm run fuzz -- --seeds 1000 for many).
describe('fault campaign', () => {
  for (const seed of [1, 2, 8]) {
    it(`seed ${seed}: every invariant holds (a failure prints the command that replays it)`, async () => {
      const o = await runSeed(seed, 'tiny');
      const replay = replayCommands(seed, 'tiny');
      expect(o.violations, `seed ${seed} failed; replay: ${replay.fuzz}\n  (the run alone: ${replay.run})`).toEqual([]);
      expect(o.rpcs!.sent + o.rpcs!.refused + o.rpcs!.outstanding).toBeGreaterThan(0);
    }, 120_000);
  }

  it('seeds give different fault mixes, and the same seed the same mix', () => {
    expect(campaignPartial(8)).toEqual(campaignPartial(8));
    const mixes = new Set([1, 2, 3, 4, 5, 6, 7, 8].map((s) => JSON.stringify({ ...campaignPartial(s), seed: 0 })));
    expect(mixes.size).toBe(8);
    const all = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((s) => campaignPartial(s));
    expect(all.some((p) => (p['lossRate'] as number) > 0)).toBe(true);
    expect(all.some((p) => typeof p['stall'] === 'string')).toBe(true);
    expect(all.some((p) => p['maxRpcsPerHost'] !== undefined)).toBe(true);
    for (const p of all) expect(() => resolveConfig(p)).not.toThrow();
  });

  it('the replay command runs exactly the seed\'s configuration', () => {
    for (const seed of [1, 5, 8]) {
      const p = campaignPartial(seed, 'tiny');
      const args = cliArgs(p);
      const opts: Record<string, unknown> = {};
      for (let i = 0; i < args.length; i += 2) opts[camel(args[i]!.slice(2))] = args[i + 1];
      expect(resolveConfig(partialFromCli(opts))).toEqual(resolveConfig(p));
      expect(replayCommands(seed, 'tiny').run).toContain(`--seed ${seed} `);
      expect(replayCommands(seed, 'tiny').fuzz).toBe(`npm run fuzz -- --seed ${seed} --tiny`);
    }
  });

  it('the checker reports each broken invariant', () => {
    const cfg = resolveConfig({ hosts: 2, clientMax: 10 });
    const ok = {
      accounting: { mismatches: 0, leaks: { rpcs: 0 }, networkBalanced: true, sent: 10, received: 8, dropped: 2 },
      canaries: { client_error_ETIMEDOUT: 1 },
      rpcs: { sent: 10, completed: 7, mismatched: 0, aborted: 1, outstanding: 3, outstandingStart: 1, refused: 0 },
    } as unknown as EmulateResult;
    expect(checkRunInvariants(ok, cfg)).toEqual([]);
    const broken = {
      accounting: { mismatches: 2, leaks: { rpcs: 1 }, networkBalanced: false, sent: 10, received: 7, dropped: 2 },
      canaries: { client_error_EINVAL: 1 },
      rpcs: { sent: 10, completed: 6, mismatched: 0, aborted: 1, outstanding: 2, outstandingStart: 0, refused: 0 },
    } as unknown as EmulateResult;
    const v = checkRunInvariants(broken, cfg);
    expect(v).toHaveLength(5);
    expect(v.join('\n')).toMatch(/2 responses not byte-exact/);
    expect(v.join('\n')).toMatch(/packets: sent 10 != received 7 \+ dropped 2/);
    expect(v.join('\n')).toMatch(/slot leak: rpcs 1/);
    expect(v.join('\n')).toMatch(/unexpected reason EINVAL/);
    expect(v.join('\n')).toMatch(/RPCs: sent 10 - completed 6 - mismatched 0 - aborted 1 - \(outstanding 2 - outstanding at the window start 0\) = 1, expected 0/);
    // No slack at the measure boundary: one RPC either way is a violation, and so is a negative start.
    for (const d of [-1, 1]) {
      const off = { ...ok, rpcs: { ...ok.rpcs, outstanding: 3 + d } } as unknown as EmulateResult;
      expect(checkRunInvariants(off, cfg)).toHaveLength(1);
    }
    const negative = { ...ok, rpcs: { ...ok.rpcs, outstanding: 1, outstandingStart: -1 } } as unknown as EmulateResult;
    expect(checkRunInvariants(negative, cfg).join('\n')).toMatch(/outstanding at the window start: -1 < 0/);
  });
});
