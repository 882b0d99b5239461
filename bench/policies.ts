/**
 * The load-balancing comparison of the "Load balancing" issue, run as `homa-emu compare` runs
 * it (`compareVariants` over `emulate`, figures from the CLI's `runFigures`): (1) SoftIRQ
 * steering `same-core`, `gen2`, `gen3` on W3 and W4 at two loads each on the default cluster;
 * (2) the pacer variants (`nic-short`, `pacer-only`, `qdisc`) x throttle-list insertion
 * (`front`, `heap`) under a flood of 1,000-byte messages from many senders into one server.
 * The config cannot place clients on 3 hosts and one server on the 4th (`--roles split` makes
 * the first half of the hosts clients of the rest), so the flood is the closest it can express:
 * 2 hosts, `--roles split` (host 0 clients, host 1 the server), `POLICY_FLOOD_PORTS` client
 * ports on host 0, each its own sender thread and Poisson stream into the one server. Each
 * figure's baseline is the first variant (the kernel's defaults come first where they are in
 * the set) measured in the same process; the full tables go to stdout and `lastPolicies`.
 */
import { resolveConfig } from '../src/config/config.js';
import { emulate } from '../src/cluster/emulate.js';
import { warmBaseRttUs } from './workloads.js';
import { compareRows, compareVariants, parseVary, type CompareResult } from '../src/cluster/compare.js';
import { runFigures } from '../src/cli/main.js';
import Table from 'cli-table3';
import { makeResult, type BenchResult } from './harness.js';

/** Wall time is this many times emulated time (see bench/workloads.ts for the choice). */
export const POLICY_DILATION = 50;
/** Steering comparison: workload and offered load per client host (Gbps, emulated). */
export const STEERING_CASES: ReadonlyArray<{ workload: string; gbps: number }> = [
  { workload: 'w3', gbps: 0.1 },
  { workload: 'w3', gbps: 0.2 },
  { workload: 'w4', gbps: 0.5 },
  { workload: 'w4', gbps: 1 },
];
/** Client ports (sender threads) on the one client host of the pacer flood. */
export const POLICY_FLOOD_PORTS = 6;
/** Offered load of the flood (Gbps of 1,000-byte requests, emulated). */
export const POLICY_FLOOD_GBPS = 0.5;

/** Comparisons of the last `runPolicies` call, by title. */
export const lastPolicies: Record<string, CompareResult> = {};

/** A comparison as the CLI prints it: one column per variant, median [min-max] x ratio. */
export function formatCompare(r: CompareResult): string {
  const t = new Table({ head: ['figure', ...r.variants.map((v) => v.label)], style: { head: [], border: [], compact: true } });
  for (const row of compareRows(r)) t.push(row);
  return t.toString();
}

const FIGURES = ['RPCs/s', 'short RTT P99 us', 'slowdown P99'] as const;

/** BenchResults of one comparison: every variant's headline figures against the first variant's. */
function resultsOf(title: string, r: CompareResult): BenchResult[] {
  const first = r.variants[0]!;
  const out: BenchResult[] = [];
  for (const v of r.variants) {
    for (const f of FIGURES) {
      const mine = v.figures[f];
      const base = first.figures[f];
      if (mine === undefined || base === undefined) continue;
      out.push(makeResult(`${title} ${v.label}: ${f}`, f === 'RPCs/s' ? 'RPCs/s' : f.endsWith('us') ? 'us' : 'slowdown',
        mine.median, first.label, base.median));
    }
  }
  return out;
}

export async function runPolicies(opts: { scale: number; print?: boolean }): Promise<BenchResult[]> {
  for (const k of Object.keys(lastPolicies)) delete lastPolicies[k];
  const print = opts.print ?? true;
  const repeat = opts.scale >= 1 ? 2 : 1;
  const timing = {
    clock: 'wall', dilation: POLICY_DILATION, seed: 1,
    durationMs: Math.max(300, Math.round(2000 * opts.scale)), warmupMs: Math.max(100, Math.round(500 * opts.scale)),
  };
  const { baseRttUs } = await warmBaseRttUs(resolveConfig({ hosts: 2, cores: 2, ...timing }));
  const runOnce = async (partial: Record<string, unknown>): Promise<Record<string, number>> =>
    runFigures(await emulate(resolveConfig({ ...partial, baseRttUsecs: baseRttUs })));

  const jobs: Array<{ title: string; base: Record<string, unknown>; vary: string[] }> = [];
  const cases = opts.scale >= 1 ? STEERING_CASES : STEERING_CASES.filter((_, i) => i === 0);
  for (const c of cases) {
    jobs.push({ title: `steering ${c.workload}@${c.gbps}`, base: { hosts: 2, cores: 2, workload: c.workload, gbps: c.gbps, ...timing },
      vary: ['steering=same-core,gen2,gen3'] });
  }
  jobs.push({
    title: `pacer flood 1000 B@${POLICY_FLOOD_GBPS}`,
    base: { hosts: 2, cores: 2, roles: 'split', ports: POLICY_FLOOD_PORTS, workload: '1000', gbps: POLICY_FLOOD_GBPS, ...timing },
    vary: ['pacer=nic-short,pacer-only,qdisc', 'throttle-insert=front,heap'],
  });

  const results: BenchResult[] = [];
  for (const j of jobs) {
    const r = await compareVariants(j.base, parseVary(j.vary), repeat, (partial) => runOnce(partial));
    lastPolicies[j.title] = r;
    if (print) process.stdout.write(`\n### ${j.title} (${repeat} runs per variant; median [min-max] x ratio to the first)\n${formatCompare(r)}\n`);
    results.push(...resultsOf(j.title, r));
  }
  return results;
}
