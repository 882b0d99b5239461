/**
 * The library entry of `homa-emu selftest`: runs the synthetic pipeline world on real workers
 * and returns one JSON-able result (per-core role shares, ring throughput, lock table,
 * fidelity, invariants). The CLI prints it; tests assert on it.
 */
import type { EmuConfig } from '../config/config.js';
import { coreRows, busiestCore, fidelity, workerLabel, type CoreRow, type FidelityReport } from '../metrics/cores.js';
import { lockRows, type LockRow } from '../metrics/locks.js';
import type { RunOptions } from '../run/orchestrator.js';
import { runWorld } from './worlds.js';
import { timeBaseOf } from '../metrics/emu-time.js';

export interface SelftestResult {
  measuredSec: number;
  interrupted: boolean;
  cores: CoreRow[];
  busiest: string | null;
  locks: LockRow[];
  fidelity: FidelityReport;
  pipeline: {
    producers: number; consumers: number; produced: number; consumed: number; queued: number; tableSum: number;
    ringFullEvents: number; orderErrors: number; itemsPerSec: number; producedPerSec: number;
    invariants: Record<string, boolean>;
  };
  ok: boolean;
}

export async function selftest(cfg: EmuConfig, opts: RunOptions = {}): Promise<SelftestResult> {
  const raw = await runWorld('selftest', cfg, opts);
  const tb = timeBaseOf(cfg);
  const cores = coreRows(raw.coreStats, raw.totalWorkers, cfg.cores, raw.hasFabric, tb);
  const pipeline = raw.worldResult as SelftestResult['pipeline'];
  return {
    measuredSec: raw.measuredNs / 1e9,
    interrupted: raw.interrupted,
    cores,
    busiest: busiestCore(cores)?.label ?? null,
    locks: lockRows(raw.lockStats, raw.measuredNs, tb, (g) => workerLabel(g, raw.totalWorkers, cfg.cores, raw.hasFabric)),
    fidelity: fidelity(cores, raw.hostCpus, raw.emulatedCores, raw.totalWorkers, cfg.idleMode, cfg.dilation),
    pipeline,
    ok: Object.values(pipeline.invariants).every((v) => v),
  };
}
