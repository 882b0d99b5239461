/**
 * Text tables for people (cli-table3): the per-core table, the lock table and the fidelity
 * block, shared by every command's report. Numbers are formatted with their units; the JSON
 * output carries the unformatted values.
 */
import Table from 'cli-table3';
import { ROLE_NAMES } from '../cpu/context.js';
import type { CoreRow, FidelityReport } from './cores.js';
import type { LockRow } from './locks.js';

export function fmtRate(x: number): string {
  if (x >= 1e9) return `${(x / 1e9).toFixed(2)} G`;
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)} K`;
  return Number.isInteger(x) || x >= 10 ? x.toFixed(0) : x.toFixed(1);
}

export function fmtNs(ns: number): string {
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(2)} s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(1)} us`;
  return `${ns.toFixed(0)} ns`;
}

const pct = (x: number): string => (x === 0 ? '-' : `${(x * 100).toFixed(1)}`);

function table(head: string[]): Table.Table {
  return new Table({ head, style: { head: [], border: [], compact: true }, chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' } });
}

export function coreTable(rows: readonly CoreRow[]): string {
  const roles = ROLE_NAMES.filter((r) => rows.some((row) => (row.share[r] ?? 0) > 0));
  const t = table(['core', ...roles.map((r) => `${r} %`), 'busy %', 'parks', 'max gap']);
  for (const r of rows) {
    t.push([r.label, ...roles.map((role) => pct(r.share[role] ?? 0)), pct(r.busy), fmtRate(r.parks), `${r.maxGapUs.toFixed(0)} us`]);
  }
  return t.toString();
}

/** The lock table; times are emulated and rates per emulated second. */
export function lockTable(rows: readonly LockRow[]): string {
  const t = table(['lock', 'acq/s', 'contended %', 'wait % core', 'ns/miss', 'P99 miss wait', 'max wait', 'hold % core', 'handoffs/s', 'top waiters']);
  for (const r of rows) {
    t.push([r.cls, fmtRate(r.acquisitionsPerSec), r.contendedPct.toFixed(2), r.waitPctCore.toFixed(2), r.nsPerMiss.toFixed(0),
      r.misses > 0 ? fmtNs(r.p99MissWaitNs) : '-', r.misses > 0 ? fmtNs(r.maxWaitNs) : '-', r.holdPctCore.toFixed(2), fmtRate(r.handoffsPerSec),
      r.topWaiters.map((w) => w.core).join(' ')]);
  }
  return t.toString();
}

export function fidelityText(f: FidelityReport): string {
  const v = f.virtual;
  const lines = v !== null ? [
    `clock virtual: cost profile ${v.costProfile}${v.costScale !== 1 ? ` x ${v.costScale}` : ''}, sync window ${v.deterministic ? '0 ns (deterministic)' : `${v.syncWindowNs} ns`}; ${v.emulatedPerWallSec.toExponential(2)} emulated s per wall s`,
    `host CPUs ${f.hostCpus}, emulated cores ${f.emulatedCores}, worker threads ${f.workerThreads} (the host's speed changes the wall time, not the figures)`,
    `fidelity: ${fmtRate(v.lateItems)} items late (stamped before their core's clock, or an event below the bound the core had published; ${(v.lateShare * 100).toFixed(3)}% of work, mean ${v.lateMeanNs.toFixed(0)} ns, max ${v.lateMaxNs.toFixed(0)} ns late); `
      + `${fmtRate(v.lockInversions)} lock holds out of emulated order (${(v.lockInversionShare * 100).toFixed(3)}% of acquisitions; waits not counted: mean ${v.lockInversionMeanNs.toFixed(0)} ns, max ${v.lockInversionMaxNs.toFixed(0)} ns); `
      + `${fmtRate(v.syncWaits)} sync waits, ${fmtRate(v.parks)} parks (host)`,
  ] : [
    `clock wall: host CPUs ${f.hostCpus}, emulated cores ${f.emulatedCores}, worker threads ${f.workerThreads}, oversubscription ${f.oversubscription.toFixed(2)}x, idle mode ${f.idleMode}, dilation ${f.dilation}`,
    `stolen time: mean ${(f.meanStolenShare * 100).toFixed(1)}% per core, max ${(f.maxStolenShare * 100).toFixed(1)}%`,
  ];
  for (const w of f.warnings) lines.push(`WARNING: ${w}`);
  return lines.join('\n');
}
