/**
 * `npm run bench -- sync`: what conservative synchronisation costs on this host. Nine worker
 * threads (3 hosts x 3 cores) that are always busy, each unit 0.5 us of virtual time and about
 * 0.5 us of real work, for a fixed emulated window; the figure is units of work per wall second
 * at windows W of 200, 1000 and 5000 ns and in deterministic mode, beside the same unit of work
 * run alone on one thread in this process (the baseline: what the work costs without any
 * synchronisation). The naive lockstep sketch ran 31 K / 60 K / 233 K units per wall
 * second at W = 200 / 1000 / 5000 on this 2-CPU machine.
 */
import { resolveConfig } from '../src/config/config.js';
import { runWorld } from '../src/cluster/worlds.js';
import { compiledUrl } from '../src/util/paths.js';
import { makeResult, timeNsPerOp, type BenchResult } from './harness.js';
import { work } from './worlds/busy-world.js';

const busyWorld = compiledUrl(import.meta.url, './worlds/busy-world.js').href;

/** Units per wall second of one always-busy run. */
export async function syncRate(windowNs: number, deterministic: boolean, emulatedMs: number): Promise<{ unitsPerSec: number; units: number }> {
  const cfg = resolveConfig({ hosts: 3, cores: 3, serviceUsecs: 0.5, warmupMs: 0, durationMs: emulatedMs, syncWindowNs: windowNs, deterministic });
  const t0 = process.hrtime.bigint();
  const raw = await runWorld(busyWorld, cfg);
  const wallNs = Number(process.hrtime.bigint() - t0);
  const units = (raw.worldResult as number[]).reduce((a, b) => a + b, 0);
  // Measured over the whole run (start-up included), as a user waits for it.
  return { unitsPerSec: units / (raw.wallNs / 1e9 || wallNs / 1e9), units };
}

export async function runSync(opts: { scale: number }): Promise<BenchResult[]> {
  const emulatedMs = Math.max(0.05, 20 * opts.scale);
  const n = Math.max(2000, Math.round(200_000 * opts.scale));
  let sink = 0;
  const aloneNs = timeNsPerOp(n, () => { for (let i = 0; i < n; i++) sink ^= work(i); });
  if (sink === 0.5) process.stdout.write('');
  const alone = 1e9 / aloneNs;
  const out: BenchResult[] = [];
  for (const w of [200, 1000, 5000]) {
    const r = await syncRate(w, false, emulatedMs);
    out.push(makeResult(`9 busy cores, W=${w} ns`, 'units/s', r.unitsPerSec, 'work alone, 1 thread', alone));
  }
  const d = await syncRate(0, true, emulatedMs / 4);
  out.push(makeResult('9 busy cores, deterministic', 'units/s', d.unitsPerSec, 'work alone, 1 thread', alone));
  return out;
}
