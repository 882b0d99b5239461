/**
 * `npm run bench -- virtual`: the speed and the accuracy of virtual time on a real workload.
 * 2 hosts x 4 cores, W4 at 10 Gbps per host: emulated seconds per wall second and completed
 * RPCs per wall second under --clock virtual (the default window), beside --clock wall
 * --dilation 20 on the same config in the same process (the baseline: what this host did before
 * virtual time). Then the window's trade-off: short-message P99 RTT and GRO->SoftIRQ P99 at
 * W = 50, 200, 1000 and 5000 ns, each beside the deterministic run's (W = 0, exact ordering),
 * with the share of work items the fidelity monitor saw arrive late and the speed at each W.
 */
import { resolveConfig } from '../src/config/config.js';
import { emulate, type EmulateResult } from '../src/cluster/emulate.js';
import { makeResult, type BenchResult } from './harness.js';

const BASE = { hosts: 2, cores: 4, workload: 'w4', gbps: 10, baseRttUsecs: 15, seed: 1 };

async function timed(over: Record<string, unknown>): Promise<{ r: EmulateResult; wallSec: number }> {
  const t0 = process.hrtime.bigint();
  const r = await emulate(resolveConfig({ ...BASE, ...over }));
  return { r, wallSec: Number(process.hrtime.bigint() - t0) / 1e9 };
}

const completed = (r: EmulateResult): number => r.metrics['client_responses_done'] ?? 0;

export async function runVirtual(opts: { scale: number }): Promise<BenchResult[]> {
  const emuMs = Math.max(0.3, 10 * opts.scale);
  const wallMs = Math.max(300, Math.round(3000 * opts.scale));
  const out: BenchResult[] = [];
  const wall = await timed({ clock: 'wall', dilation: 20, durationMs: wallMs, warmupMs: Math.round(wallMs / 6) });
  const virt = await timed({ durationMs: emuMs, warmupMs: emuMs / 5 });
  const wallRate = completed(wall.r) / wall.wallSec;
  out.push(makeResult('W4 10 Gbps, virtual: RPCs per wall s', 'RPCs/s', completed(virt.r) / virt.wallSec, 'wall, dilation 20', wallRate));
  out.push(makeResult('W4 10 Gbps, virtual: emulated us per wall s', 'us/s', virt.r.header.emulatedPerWallSec * 1e6, 'wall, dilation 20', 1e6 / 20));

  const exact = await timed({ durationMs: emuMs / 2, warmupMs: emuMs / 10, deterministic: true });
  const shortP99 = (r: EmulateResult): number => r.latency.digest.short?.rttP99Us ?? NaN;
  const groP99 = (r: EmulateResult): number => r.handoff.groToSoftirq.p99Ns;
  for (const w of [50, 200, 1000, 5000]) {
    const x = await timed({ durationMs: emuMs / 2, warmupMs: emuMs / 10, syncWindowNs: w });
    const f = x.r.fidelity.virtual!;
    out.push(makeResult(`W=${w}: short P99 RTT us`, 'us', shortP99(x.r), 'deterministic', shortP99(exact.r)));
    out.push(makeResult(`W=${w}: GRO->SoftIRQ P99 ns`, 'ns', groP99(x.r), 'deterministic', groP99(exact.r)));
    out.push(makeResult(`W=${w}: late items (% of work)`, '%', f.lateShare * 100, 'deterministic', 0));
    out.push(makeResult(`W=${w}: emulated us per wall s`, 'us/s', x.r.header.emulatedPerWallSec * 1e6, 'deterministic', exact.r.header.emulatedPerWallSec * 1e6));
  }
  return out;
}
