/**
 * A seeded fault campaign (TigerBeetle's VOPR in miniature): each seed picks a random mix of
 * packet loss (0-20%), core stalls, tiny RPC / buffer pools, short timeouts and policies for a
 * small cluster, runs it, and checks the invariants that must hold whatever the faults: every
 * response byte-exact, every packet sent either received or dropped (with a reason), no slot
 * leaked, every client RPC completed, aborted with a known reason, or still outstanding. A
 * failing seed comes with the one command that replays it. test/sim/fault-campaign.test.ts runs
 * a few seeds; `npm run fuzz -- --seeds 1000` (bench/fuzz.ts) runs many.
 */
import { resolveConfig, type EmuConfig } from '../config/config.js';
import { OPTION_BY_KEY } from '../config/options.js';
import { Rng } from '../util/rng.js';
import { STEERING_NAMES, THREAD_CHOICE_NAMES, WAIT_MODES } from '../config/policy-names.js';
import { emulate, type EmulateResult } from './emulate.js';

export type CampaignScale = 'tiny' | 'normal';

/** Reasons an RPC may legitimately be aborted under injected faults. */
export const ABORT_REASONS: readonly string[] = ['ETIMEDOUT', 'ENOTCONN', 'ENOMEM'];

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[rng.nextBelow(xs.length)]!;
}

function chance(rng: Rng, p: number): boolean {
  return rng.nextFloat() < p;
}

/** The options of one seed's run (config keys; defaults left out). */
export function campaignPartial(seed: number, scale: CampaignScale = 'tiny'): Record<string, unknown> {
  const rng = Rng.derive(seed, 0x5eed);
  const p: Record<string, unknown> = {
    seed,
    hosts: scale === 'tiny' ? 2 : 2 + rng.nextBelow(2),
    cores: 1 + rng.nextBelow(2),
    // Emulated time (--clock virtual): a few ms, with a 100 us timer tick so that RESENDs and
    // timeouts happen within the window.
    warmupMs: 0.2,
    durationMs: scale === 'tiny' ? 2 : 2 + rng.nextBelow(4),
    tickUsecs: 100,
    baseRttUsecs: 15,
    workload: pick(rng, scale === 'tiny' ? ['w1', 'w2', 'w3', 'w4'] : ['w1', 'w2', 'w3', 'w4', 'w5']),
    gbps: Math.round((0.2 + 1.8 * rng.nextFloat()) * 100) / 100,
  };
  if (chance(rng, 0.6)) p['lossRate'] = Math.round(rng.nextFloat() * 0.2 * 1000) / 1000;
  if (chance(rng, 0.3)) {
    const ms = 0.05 * (1 + rng.nextBelow(4));
    const every = Math.round(ms * (4 + rng.nextBelow(8)) * 100) / 100;
    p['stall'] = `core=${chance(rng, 0.5) ? 'all' : String(rng.nextBelow((p['hosts'] as number) * (p['cores'] as number)))},ms=${ms},every=${every}`;
  }
  if (chance(rng, 0.4)) p['maxRpcsPerHost'] = 16 << rng.nextBelow(4);
  if (chance(rng, 0.3)) p['bpagesPerHost'] = 16 << rng.nextBelow(3);
  if (chance(rng, 0.4)) {
    const t = 2 + rng.nextBelow(19);
    p['timeoutTicks'] = t;
    p['resendTicks'] = Math.max(1, Math.min(5, t - 1));
  }
  if (chance(rng, 0.5)) p['steering'] = pick(rng, STEERING_NAMES);
  if (chance(rng, 0.5)) p['threadChoice'] = pick(rng, THREAD_CHOICE_NAMES);
  // PACER_NAMES in the order the campaign has always drawn them (another order would change what a seed runs).
  if (chance(rng, 0.5)) p['pacer'] = pick(rng, ['nic-short', 'pacer-only', 'qdisc']);
  if (chance(rng, 0.5)) p['waitMode'] = pick(rng, WAIT_MODES);
  return p;
}

/** The `homa-emu run` arguments of a partial config (flag names, values as strings). */
export function cliArgs(partial: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(partial)) {
    const o = OPTION_BY_KEY.get(k);
    if (o === undefined) throw new Error(`campaign: unknown option ${k}`);
    if (o.kind === 'bool') { if (v === true) out.push(`--${o.flag}`); continue; }
    out.push(`--${o.flag}`, String(v));
  }
  return out;
}

function shellQuote(s: string): string {
  return /^[\w.,:=/@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The command that replays one seed with its checks, and the plain run it performs. */
export function replayCommands(seed: number, scale: CampaignScale): { fuzz: string; run: string } {
  return {
    fuzz: `npm run fuzz -- --seed ${seed}${scale === 'tiny' ? ' --tiny' : ''}`,
    run: `node bin/homa-emu.js run ${cliArgs(campaignPartial(seed, scale)).map(shellQuote).join(' ')}`,
  };
}

/** The invariants a run must satisfy under any faults; returns one line per violation. */
export function checkRunInvariants(r: EmulateResult, cfg: EmuConfig): string[] {
  const bad: string[] = [];
  const a = r.accounting;
  if (a.mismatches !== 0) bad.push(`${a.mismatches} responses not byte-exact`);
  if (a.sent !== a.received + a.dropped) bad.push(`packets: sent ${a.sent} != received ${a.received} + dropped ${a.dropped}`);
  for (const [k, v] of Object.entries(a.leaks)) if (v !== 0) bad.push(`slot leak: ${k} ${v}`);
  for (const [k, v] of Object.entries(r.canaries)) {
    const m = /^client_error_(.*)$/.exec(k);
    if (m !== null && v > 0 && !ABORT_REASONS.includes(m[1]!)) bad.push(`${v} RPCs aborted with an unexpected reason ${m[1]}`);
  }
  // The window's RPC balance is exact (issue 11 item 8: no slack at the measure boundary): every
  // change of a port's outstanding count is counted by the core that makes it, in the same unit
  // of work as its sent / completed / error counter, and each core snapshots it at its window
  // start (one emulated instant on every core), so any other value is an RPC lost or counted twice.
  const b = r.rpcs;
  const balance = b.sent - b.completed - b.mismatched - b.aborted - (b.outstanding - b.outstandingStart);
  if (balance !== 0) {
    bad.push(`RPCs: sent ${b.sent} - completed ${b.completed} - mismatched ${b.mismatched} - aborted ${b.aborted} - (outstanding ${b.outstanding} `
      + `- outstanding at the window start ${b.outstandingStart}) = ${balance}, expected 0`);
  }
  // Virtual time: the count at one emulated instant, never negative (wall time: per core as each noticed the phase).
  if (cfg.clock === 'virtual' && b.outstandingStart < 0) bad.push(`RPCs outstanding at the window start: ${b.outstandingStart} < 0`);
  return bad;
}

export interface SeedOutcome {
  seed: number;
  partial: Record<string, unknown>;
  violations: string[];
  rpcs: EmulateResult['rpcs'] | null;
}

/** Runs one seed and checks it; a crash is a violation too. */
export async function runSeed(seed: number, scale: CampaignScale = 'tiny'): Promise<SeedOutcome> {
  const partial = campaignPartial(seed, scale);
  const cfg = resolveConfig(partial);
  try {
    const r = await emulate(cfg);
    return { seed, partial, violations: checkRunInvariants(r, cfg), rpcs: r.rpcs };
  } catch (e) {
    return { seed, partial, violations: [`crashed: ${e instanceof Error ? e.message : String(e)}`], rpcs: null };
  }
}
