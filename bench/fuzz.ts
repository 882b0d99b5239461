/**
 * `npm run fuzz -- --seeds N [--from S] [--tiny]` or `npm run fuzz -- --seed S [--tiny]`: the
 * seeded fault campaign of src/cluster/campaign.ts over many seeds. Each seed prints one line; a
 * failing seed prints its violations and the command that replays it, and the exit code is 1
 * when any seed failed (2 for bad arguments).
 */
import { replayCommands, runSeed, type CampaignScale } from '../src/cluster/campaign.js';

function usage(msg: string): never {
  process.stderr.write(`fuzz: ${msg}; usage: npm run fuzz -- --seeds N [--from S] [--tiny] | --seed S [--tiny]\n`);
  process.exit(2);
}

function count(flag: string, v: string | undefined, min: number): number {
  if (v === undefined || !/^\d+$/.test(v) || Number(v) < min) usage(`${flag}: expected a whole number >= ${min}, got ${JSON.stringify(v ?? null)}`);
  return Number(v);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let first = 1;
  let n = 100;
  let scale: CampaignScale = 'normal';
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--seeds') n = count(a, args[++i], 1);
    else if (a === '--from') first = count(a, args[++i], 0);
    else if (a === '--seed') { first = count(a, args[++i], 0); n = 1; }
    else if (a === '--tiny') scale = 'tiny';
    else usage(`unknown argument ${JSON.stringify(a)}`);
  }
  let failed = 0;
  const t0 = Date.now();
  for (let seed = first; seed < first + n; seed++) {
    const o = await runSeed(seed, scale);
    const what = Object.entries(o.partial).filter(([k]) => !['seed', 'warmupMs', 'tickUsecs', 'baseRttUsecs'].includes(k)).map(([k, v]) => `${k}=${String(v)}`).join(' ');
    if (o.violations.length === 0) {
      const b = o.rpcs!;
      process.stdout.write(`seed ${seed} ok: RPCs sent ${b.sent}, completed ${b.completed}, aborted ${b.aborted}, outstanding ${b.outstandingStart} at the start and ${b.outstanding} at the end, refused ${b.refused} (${what})\n`);
      continue;
    }
    failed++;
    const cmd = replayCommands(seed, scale);
    process.stdout.write(`seed ${seed} FAILED (${what}):\n${o.violations.map((v) => `  ${v}\n`).join('')}  replay: ${cmd.fuzz}\n  (the run alone: ${cmd.run})\n`);
  }
  process.stdout.write(`fuzz: ${n - failed} of ${n} seeds passed in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  if (failed > 0) process.exitCode = 1;
}

void main();
