/**
 * The `homa-emu` command line (commander). Commands are thin layers over the library API:
 * `selftest` (the runtime end to end on a synthetic pipeline), `run` (one emulation),
 * `compare` (variants side by side), `workloads` (W1–W5 summary). Exit codes: 0 success,
 * 2 bad input (one line naming the option, what is accepted and the value), 1 a crash or a
 * failed check (with the core that failed), 130 / 143 a run stopped by SIGINT / SIGTERM. The
 * first signal stops every core and reports what was measured (nothing, if it came during
 * start-up or the base-RTT probe); a second one exits at once.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cperfHelp, translateCperfArgs } from './aliases.js';
import { Command, CommanderError } from 'commander';
import { resolveConfig } from '../config/config.js';
import { isUserError } from '../config/errors.js';
import { selftest } from '../cluster/selftest.js';
import { coreTable, fidelityText, fmtRate, lockTable } from '../metrics/text.js';
import { addConfigOptions, camel, partialFromCli, readConfigFile } from './options.js';
import { compareRows, compareVariants, fileVariants, parseRepeat, parseVary, runFigures, type Variant } from '../cluster/compare.js';
import type { SelftestResult } from '../cluster/selftest.js';
import Table from 'cli-table3';
import { workloadInfo } from '../workload/dist.js';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { checkOutputPath, type OutputKind } from '../config/output-path.js';
import { emulate, liveRpcsDone, SCHEMA_VERSION } from '../cluster/emulate.js';
import {
  TT_DEFAULT_EVENTS, checkOutputOptions, experimentName, writeCompareData, writeRunOutputs, writeVisuals, type OutputOptions, type VariantRuns,
} from '../cluster/outputs.js';
import { RunInterrupted } from '../run/interrupt.js';
import { formatReport } from '../cluster/report.js';
import { ProgressLine, phaseName } from './progress.js';
import type { EmuConfig } from '../config/config.js';
import { checkPolicyModules } from '../policy/registry.js';

/** Resolves a config and loads any user policy module it names, so a bad one is exit 2 before the run. */
async function prepareConfig(partial: Record<string, unknown>): Promise<EmuConfig> {
  const cfg = resolveConfig(partial);
  await checkPolicyModules(cfg.policies);
  return cfg;
}

/** Validates every output option given (see checkOutputPath) before anything runs. */
function checkOutputs(opts: Record<string, unknown>, outputs: ReadonlyArray<readonly [string, OutputKind]>): void {
  for (const [option, kind] of outputs) {
    const v = opts[camel(option)];
    if (v !== undefined) checkOutputPath(option, String(v), kind);
  }
}

/**
 * Writes one output file; a failure (disk full, a path removed during the run) is reported on one
 * line naming the option and the file, and the caller exits 1 after writing what it can.
 */
function writeOutput(option: string, file: string, text: string, failures: string[]): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    failures.push(`--${option}: could not write ${file}: ${err.code ?? ''}${err.code ? ' ' : ''}${err.message.replace(/^[A-Z]+: /, '')}`);
  }
}

function reportWriteFailures(failures: string[]): void {
  for (const f of failures) process.stderr.write(`homa-emu: ${f}\n`);
  if (failures.length > 0) throw new ExitCode(1);
}

class ExitCode extends Error {
  constructor(readonly code: number) { super(`exit ${code}`); }
}

/** The signals that stop a run, and the exit code a shell gives a process they end (128 + number). */
const STOP_SIGNALS = { SIGINT: 130, SIGTERM: 143 } as const;
type StopSignal = keyof typeof STOP_SIGNALS;

/** Which signal stopped the current command (null: none). */
interface Interrupt { signal: StopSignal | null }

/**
 * Runs `fn` with SIGINT and SIGTERM turned into an abort: the first one stops every core and the
 * command reports what was measured; a second one exits at once with the signal's exit code.
 */
async function withSignals<T>(fn: (signal: AbortSignal) => Promise<T>, intr: Interrupt): Promise<T> {
  const ac = new AbortController();
  const onSig = (sig: StopSignal): void => {
    if (intr.signal !== null) {
      process.stderr.write(`\nhoma-emu: second signal (${sig}): exiting now without a report\n`);
      dieBy(sig);
    }
    intr.signal = sig;
    process.stderr.write(`\nhoma-emu: ${sig}: stopping every core and reporting what was measured (send it again to exit at once)...\n`);
    ac.abort();
  };
  const onInt = (): void => onSig('SIGINT');
  const onTerm = (): void => onSig('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    return await fn(ac.signal);
  } catch (e) {
    if (e instanceof RunInterrupted && intr.signal !== null) {
      // Nothing to report, and workers may still be loading modules (terminating a thread then can
      // crash V8): end the process the way the signal would have, which a shell reports as 130 / 143.
      process.stderr.write(`homa-emu: ${e.message} (${intr.signal})\n`);
      dieBy(intr.signal);
      await new Promise((r) => setTimeout(r, 2000)); // not reached: the signal's default action ends the process
      throw new ExitCode(STOP_SIGNALS[intr.signal]);
    }
    throw e;
  } finally {
    process.removeListener('SIGINT', onInt);
    process.removeListener('SIGTERM', onTerm);
  }
}

/**
 * Ends the process at once by the signal's default action (a shell reports 128 + its number):
 * no waiting for worker threads, which may be loading modules (terminating a thread then can
 * crash V8). process.exit is the fallback should the signal not end the process.
 */
function dieBy(sig: StopSignal): void {
  process.removeAllListeners(sig);
  process.kill(process.pid, sig);
  setTimeout(() => process.exit(STOP_SIGNALS[sig]), 1000).unref();
}

/** After a command that was stopped by a signal printed its report: exit with the signal's code. */
function exitIfInterrupted(intr: Interrupt): void {
  if (intr.signal !== null) throw new ExitCode(STOP_SIGNALS[intr.signal]);
}

function out(s: string): void {
  process.stdout.write(`${s}\n`);
}

/**
 * Commander's parse errors as one line in the CLI's style: `error: unknown option '--host'` plus
 * a suggestion on a second line becomes `homa-emu: unknown option '--host' (did you mean
 * --hosts?); see --help for the accepted options`.
 */
export function oneLineError(s: string): string {
  let line = s.trim().replace(/^error: /, '').replace(/\s*\n\s*\(Did you mean/, ' (did you mean').replace(/\s*\n\s*/g, ' ');
  if (/^unknown (option|command)/.test(line)) line += '; see --help for the accepted ones';
  return `homa-emu: ${line}\n`;
}

/** homa-emu's version, from the package.json above this file (source or dist). */
export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      const j = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
      if (j.name === 'homa-emu' && typeof j.version === 'string') return j.version;
    }
    dir = dirname(dir);
  }
  return 'unknown';
}

export function buildProgram(): Command {
  const program = new Command('homa-emu')
    .version(`homa-emu ${packageVersion()} (Node.js ${process.version})`, '-V, --version', 'print the version and exit')
    .description('Emulate Homa hosts with real threads: every emulated core is a worker thread over shared memory')
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), outputError: (s, write) => write(oneLineError(s)) });

  const st = program.command('selftest')
    .description('run the runtime end to end on a synthetic pipeline (producers -> rings -> consumers with a locked table)')
    .option('--json <file>', 'write every figure as JSON');
  addConfigOptions(st, ['cluster', 'cpu', 'run'], ['channels', 'dilation', 'seed']);
  st.action(async (opts: Record<string, unknown>) => {
    checkOutputs(opts, [['json', 'file']]);
    const partial = partialFromCli(opts);
    if (partial['hosts'] === undefined) partial['hosts'] = 1;
    if (partial['cores'] === undefined) partial['cores'] = 4;
    if (partial['durationMs'] === undefined) partial['durationMs'] = 2000;
    const cfg = resolveConfig(partial);
    const intr: Interrupt = { signal: null };
    const r = await withSignals((signal) => selftest(cfg, { signal }), intr);
    out(`homa-emu selftest: ${cfg.hosts * cfg.cores} cores (${r.pipeline.producers} producers, ${r.pipeline.consumers} consumers), ${r.measuredSec.toFixed(2)} s measured${r.interrupted ? ' (interrupted)' : ''}`);
    out(fidelityText(r.fidelity));
    out('');
    out('Per-core time (% of the measured window):');
    out(coreTable(r.cores));
    out(`busiest core: ${r.busiest}`);
    out('');
    out(`Pipeline: ${fmtRate(r.pipeline.itemsPerSec)} items/s through the rings; produced ${r.pipeline.produced}, consumed ${r.pipeline.consumed}, queued ${r.pipeline.queued}, ring-full events ${r.pipeline.ringFullEvents}`);
    out('');
    out('Locks:');
    out(lockTable(r.locks));
    out('');
    for (const [k, v] of Object.entries(r.pipeline.invariants)) out(`invariant ${k}: ${v ? 'ok' : 'VIOLATED'}`);
    const failures: string[] = [];
    if (typeof opts['json'] === 'string') writeOutput('json', resolve(opts['json']), JSON.stringify({ config: cfg, ...r }, null, 2), failures);
    reportWriteFailures(failures);
    exitIfInterrupted(intr);
    if (!r.ok) throw new ExitCode(1);
  });

  const run = program.command('run')
    .description('run one Homa emulation under a cp_node-style workload and print the report')
    .option('--json <file>', 'write every figure as JSON')
    .option('--rtts <dir>', "write the measured (length, RTT) pairs as cp_node's .rtts files (one per client host) into DIR")
    .option('--data <dir>', "write the experiment into cperf's log directory DIR: NAME-<node>.rtts, reports/NAME.data, reports/NAME_cdf.data, and homa_emu_cperf.py (the base RTT for cperf)")
    .option('--exp <name>', 'experiment name of the cperf files (letters, digits, _ and .; default homa_<workload>)')
    .option('--metrics <dir>', 'write per host a /proc/net/homa_metrics snapshot for util/metrics.py: nodeH.homa_metrics and nodeH.homa_metrics.prev')
    .option('--plot <dir>', 'write the plots as SVG into DIR (slowdown, short-message RTT CCDF, per-core roles, hand-off CDFs, lock wait)')
    .option('--html <file>', 'write an HTML report with every plot')
    .option('--tt <dir>', "write per host a time trace nodeH.tt in the kernel's timetrace text, for HomaModule's util/tthoma.py (turns on --tt-events)")
    .option('--trace <file>', 'write a Chrome/Perfetto trace (JSON): per core units of work, lock waits, hand-off arrows, counters (turns on --tt-events)');
  addConfigOptions(run, ['cluster', 'cpu', 'run', 'net', 'homa', 'policy', 'workload', 'fault']);
  run.addHelpText('after', cperfHelp());
  run.action(async (opts: Record<string, unknown>) => {
    checkOutputs(opts, RUN_OUTPUTS);
    const partial = partialFromCli(opts);
    // --tt / --trace need the rings: on at 65536 events per core unless --tt-events says otherwise.
    if ((typeof opts['tt'] === 'string' || typeof opts['trace'] === 'string') && partial['ttEvents'] === undefined) partial['ttEvents'] = TT_DEFAULT_EVENTS;
    const cfg = await prepareConfig(partial);
    const outputs = outputOptions(opts);
    checkOutputOptions(cfg, outputs);
    const progress = new ProgressLine();
    let last = { ms: 0, done: 0 };
    const intr: Interrupt = { signal: null };
    let stage = 'run';
    const r = await withSignals((signal) => emulate(cfg, {
      signal,
      onStage: (s) => { stage = s; last = { ms: 0, done: 0 }; },
      onStarting: (ready, total) => {
        progress.update(`homa-emu: ${stage === 'base-rtt' ? 'base-RTT probe: ' : ''}starting ${ready}/${total} workers ready`);
      },
      onProgress: (p) => {
        // Live RPC count: Homa's client_responses_done summed over cores (reset when measuring starts).
        const done = liveRpcsDone(p.sab, p.desc);
        const rate = p.elapsedMs > last.ms ? ((done - last.done) * 1000 * cfg.dilation) / (p.elapsedMs - last.ms) : 0;
        last = { ms: p.elapsedMs, done };
        progress.update(`homa-emu: ${stage === 'base-rtt' ? 'base-RTT probe: ' : ''}${phaseName(p.phase)} ${(Math.min(p.elapsedMs, p.totalMs) / 1000).toFixed(1)}/${(p.totalMs / 1000).toFixed(1)} s, ${done} RPCs done, ${fmtRate(Math.max(0, rate))} RPCs/s (emulated)`);
      },
    }), intr).finally(() => progress.done());
    out(formatReport(r));
    reportWriteFailures(await writeRunOutputs(cfg, r, outputs));
    exitIfInterrupted(intr);
    if (r.accounting.mismatches > 0) throw new ExitCode(1);
  });

  program.command('workloads')
    .description("summary of the cp_node workloads (as `cp_node info` prints): mean, median, share under 1 KB")
    .argument('[names...]', 'workloads (w1..w5, starve, or a length); default w1..w5')
    .option('--json', 'print JSON instead of a table')
    .action((names: string[], opts: { json?: boolean }) => {
      const rows = workloadInfo(names.length > 0 ? names : undefined);
      if (opts.json === true) { out(JSON.stringify(rows, null, 2)); return; }
      const t = new Table({ head: ['workload', 'mean B (cp_node)', 'median B', '< 1 KB %', 'max B', 'cperf -b Gbps', 'description'],
        style: { head: [], border: [], compact: true }, colWidths: [10, 18, 10, 10, 11, 15, 60], wordWrap: true });
      for (const r of rows) {
        t.push([r.name, r.meanBytes.toFixed(1), String(r.medianBytes), (r.fracUnder1KB * 100).toFixed(1), String(r.maxBytes),
          r.cperfDefaultGbps === null ? '-' : String(r.cperfDefaultGbps), r.description]);
      }
      out(t.toString());
    });

  const cmp = program.command('compare')
    .description('run variants of one configuration, each --repeat times, and print every figure side by side with its spread and ratio to the first')
    .argument('[configs...]', 'config files, one variant each (instead of --vary)')
    .option('--vary <spec>', 'OPTION=V1,V2,... (repeatable: the cartesian product)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--repeat <n>', 'runs per variant', '3')
    .option('--target <name>', 'what to run: run (the Homa emulation) or selftest', 'run')
    .option('--json <file>', 'write every run\'s figures as JSON')
    .option('--data <dir>', "write one cperf experiment per variant (NAME_<variant>) into cperf's log directory DIR (--target run)")
    .option('--exp <name>', 'experiment name prefix of the cperf files (default homa_<workload>)')
    .option('--plot <dir>', 'write the plots, variants overlaid, as SVG into DIR (--target run)')
    .option('--html <file>', 'write an HTML report with every plot, variants overlaid (--target run)');
  addConfigOptions(cmp, ['cluster', 'cpu', 'run', 'net', 'homa', 'policy', 'workload', 'fault']);
  cmp.addHelpText('after', cperfHelp());
  cmp.action(async (configs: string[], opts: Record<string, unknown>) => {
    checkOutputs(opts, [['json', 'file'], ['data', 'dir'], ['plot', 'dir'], ['html', 'file']]);
    const vary = opts['vary'] as string[];
    if ((vary.length > 0) === (configs.length > 0)) {
      throw new UsageError(`compare: give either --vary OPTION=V1,V2 or two or more config files, got ${vary.length} --vary and ${configs.length} files`);
    }
    const variants: Variant[] = vary.length > 0 ? parseVary(vary)
      : fileVariants(configs.map((path) => ({ path, partial: readConfigFile(path) })));
    if (variants.length < 2) throw new UsageError(`compare: expected at least two variants, got ${variants.length}`);
    const repeat = parseRepeat(opts['repeat']);
    const target = String(opts['target']);
    const runner = RUNNERS[target];
    if (runner === undefined) throw new UsageError(`--target: expected one of ${Object.keys(RUNNERS).join(', ')}, got ${JSON.stringify(target)}`);
    const base = partialFromCli(opts);
    // Validate every variant before running any (bad input must not cost a long run).
    for (const v of variants) await prepareConfig({ ...runner.defaults, ...base, ...v.partial });
    const files = outputOptions(opts);
    const keepRuns = files.data !== undefined || files.plot !== undefined || files.html !== undefined;
    if (keepRuns && target !== 'run') throw new UsageError(`--data/--plot/--html: expected --target run (selftest has no RTTs to write), got --target ${target}`);
    const expBase = experimentName(await prepareConfig({ ...runner.defaults, ...base }), files.exp);
    const kept = new Map<string, VariantRuns>();
    const intr: Interrupt = { signal: null };
    let runsDone = 0;
    const result = await withSignals((signal) => compareVariants(base, variants, repeat, async (partial, v, rep) => {
      if (signal.aborted) throw new Error(`interrupted after ${runsDone} of ${variants.length * repeat} runs: no comparison printed`);
      if (process.stderr.isTTY) process.stderr.write(`\r${v.label} run ${rep + 1}/${repeat}...   `);
      const cfg = await prepareConfig({ ...runner.defaults, ...partial });
      let figures: Record<string, number>;
      if (keepRuns) {
        const r = await emulate(cfg, { signal });
        const entry = kept.get(v.label) ?? { label: v.label, cfg, runs: [] };
        entry.runs.push(r);
        kept.set(v.label, entry);
        figures = runFigures(r);
      } else {
        figures = await runner.run(cfg, signal);
      }
      if (signal.aborted) throw new Error(`interrupted during run ${runsDone + 1} of ${variants.length * repeat}: no comparison printed`);
      runsDone++;
      return figures;
    }), intr).catch((e: unknown) => {
      if (intr.signal !== null && !(e instanceof ExitCode)) {
        process.stderr.write(`homa-emu: ${e instanceof RunInterrupted ? `interrupted after ${runsDone} of ${variants.length * repeat} runs` : (e as Error).message}\n`);
        throw new ExitCode(STOP_SIGNALS[intr.signal]);
      }
      throw e;
    });
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
    out(`homa-emu compare (${target}): ${variants.length} variants x ${repeat} runs; median [min-max] x ratio to the first variant`);
    const t = new Table({ head: ['figure', ...result.variants.map((v) => v.label)], style: { head: [], border: [], compact: true } });
    for (const row of compareRows(result)) t.push(row);
    out(t.toString());
    const failures: string[] = [];
    if (typeof opts['json'] === 'string') writeOutput('json', resolve(opts['json']), JSON.stringify({ schemaVersion: SCHEMA_VERSION, ...result }, null, 2), failures);
    if (files.data !== undefined) {
      const exps = writeCompareData(files.data, expBase, [...kept.values()]);
      out(`cperf experiments in ${files.data}: ${exps.map((e) => e.exp).join(', ')}`);
    }
    const firstRuns = [...kept.values()].map((v) => ({ label: v.label, run: v.runs[0]! }));
    if (firstRuns.length > 0) await writeVisuals(`homa-emu compare: ${firstRuns.map((v) => v.label).join(' vs ')}`, firstRuns, files);
    reportWriteFailures(failures);
  });

  return program;
}

/** The output options of `run` and what each names (checked before the run by checkOutputPath). */
export const RUN_OUTPUTS: ReadonlyArray<readonly [string, OutputKind]> = [['json', 'file'], ['rtts', 'dir'], ['data', 'dir'],
  ['metrics', 'dir'], ['plot', 'dir'], ['html', 'file'], ['tt', 'dir'], ['trace', 'file']];

/** The file options of `run` (and those `compare` shares). */
function outputOptions(opts: Record<string, unknown>): OutputOptions {
  const str = (k: string): string | undefined => (typeof opts[k] === 'string' ? opts[k] : undefined);
  return { json: str('json'), rtts: str('rtts'), data: str('data'), exp: str('exp'), metrics: str('metrics'), plot: str('plot'), html: str('html'), tt: str('tt'), trace: str('trace') };
}

class UsageError extends Error {
  readonly code = 'EUSAGE';
}

/** Flat figures of one selftest run (for compare). */
export function selftestFigures(r: SelftestResult): Record<string, number> {
  const f: Record<string, number> = {
    'items/s': r.pipeline.itemsPerSec,
    'busiest core busy %': Math.max(...r.cores.map((c) => c.busy)) * 100,
    'stolen % (mean)': r.fidelity.meanStolenShare * 100,
  };
  for (const l of r.locks) {
    f[`${l.cls} lock contended %`] = l.contendedPct;
    f[`${l.cls} lock wait % core`] = l.waitPctCore;
  }
  return f;
}

export { runFigures } from '../cluster/compare.js';

const RUNNERS: Record<string, { defaults: Record<string, unknown>; run: (cfg: ReturnType<typeof resolveConfig>, signal: AbortSignal) => Promise<Record<string, number>> }> = {
  run: {
    defaults: {},
    run: async (cfg, signal) => runFigures(await emulate(cfg, { signal })),
  },
  selftest: {
    defaults: { hosts: 1, cores: 4, durationMs: 2000 },
    run: async (cfg, signal) => selftestFigures(await selftest(cfg, { signal })),
  },
};

/** Runs the CLI; returns the exit code (never calls process.exit, so tests can call it). */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    const translated = translateCperfArgs(argv);
    for (const n of translated.notes) process.stderr.write(`homa-emu: note: ${n}\n`);
    await program.parseAsync(translated.argv);
    return 0;
  } catch (e) {
    if (e instanceof ExitCode) return e.code;
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0) return 0;
      return 2; // commander already printed one line (unknown option, missing argument...)
    }
    if (isUserError(e)) {
      process.stderr.write(`homa-emu: ${(e as Error).message}\n`);
      return 2;
    }
    const err = e as Error;
    process.stderr.write(`homa-emu: ${err.message ?? String(e)}\n`);
    if (process.env['HOMA_EMU_DEBUG'] && err.stack) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
}
