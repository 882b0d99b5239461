/**
 * `npm run bench [-- NAME ...] [--scale S]`: runs the benchmarks and prints each result beside
 * its baseline measured in the same process, as a ratio. Figures worth keeping go into
 * bench/RESULTS.md (newest first, with the date and the machine). Tests run every bench at a
 * tiny scale so they cannot rot; no test asserts on speed.
 */
import { availableParallelism, cpus } from 'node:os';
import { printResults, type BenchResult } from './harness.js';

type Bench = (opts: { scale: number }) => Promise<BenchResult[]>;

const BENCHES: Record<string, () => Promise<Bench>> = {
  micro: async () => (await import('./micro.js')).runMicro,
  pipeline: async () => (await import('./pipeline.js')).runPipeline,
  e2e: async () => (await import('./e2e.js')).runE2e,
  workloads: async () => (await import('./workloads.js')).runWorkloads,
  policies: async () => (await import('./policies.js')).runPolicies,
  sync: async () => (await import('./sync.js')).runSync,
  virtual: async () => (await import('./virtual.js')).runVirtual,
  startup: async () => (await import('./startup.js')).runStartup,
};

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let scale = 1;
  const names: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--scale') scale = Number(args[++i]);
    else names.push(args[i]!);
  }
  if (!(scale > 0)) {
    process.stderr.write(`bench: --scale: expected a number > 0, got ${JSON.stringify(args[args.indexOf('--scale') + 1])}\n`);
    process.exitCode = 2;
    return;
  }
  const selected = names.length > 0 ? names : Object.keys(BENCHES);
  for (const n of selected) {
    if (!(n in BENCHES)) {
      process.stderr.write(`bench: unknown bench '${n}' (known: ${Object.keys(BENCHES).join(', ')})\n`);
      process.exitCode = 2;
      return;
    }
  }
  process.stdout.write(`# ${new Date().toISOString().slice(0, 10)}, ${availableParallelism()} CPUs (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, scale ${scale}\n`);
  for (const n of selected) {
    const run = await BENCHES[n]!();
    process.stdout.write(`\n## ${n}\n`);
    printResults(await run({ scale }));
  }
}

void main();
