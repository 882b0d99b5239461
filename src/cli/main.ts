/**
 * The `homa-emu` command line (commander). Commands are thin layers over the library API:
 * `selftest` (the runtime end to end on a synthetic pipeline), `run` (one emulation),
 * `compare` (variants side by side), `workloads` (W1–W5 summary). Exit codes: 0 success,
 * 2 bad input (one line naming the option, what is accepted and the value), 1 a crash or a
 * failed check (with the core that failed). SIGINT stops the run cleanly and reports what was
 * measured.
 */
import { writeFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { resolveConfig } from '../config/config.js';
import { isUserError } from '../config/errors.js';
import { selftest } from '../run/selftest.js';
import { coreTable, fidelityText, fmtRate, lockTable } from '../metrics/text.js';
import { addConfigOptions, partialFromCli } from './options.js';

class ExitCode extends Error {
  constructor(readonly code: number) { super(`exit ${code}`); }
}

function withSigint<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  const onSig = (): void => {
    process.stderr.write('\nhoma-emu: interrupted, stopping every core...\n');
    ac.abort();
  };
  process.once('SIGINT', onSig);
  return fn(ac.signal).finally(() => process.removeListener('SIGINT', onSig));
}

function out(s: string): void {
  process.stdout.write(`${s}\n`);
}

export function buildProgram(): Command {
  const program = new Command('homa-emu')
    .description('Emulate Homa hosts with real threads: every emulated core is a worker thread over shared memory')
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  const st = program.command('selftest')
    .description('run the runtime end to end on a synthetic pipeline (producers -> rings -> consumers with a locked table)')
    .option('--json <file>', 'write every figure as JSON');
  addConfigOptions(st, ['cluster', 'cpu', 'run'], ['channels', 'dilation', 'seed']);
  st.action(async (opts: Record<string, unknown>) => {
    const partial = partialFromCli(opts);
    if (partial['hosts'] === undefined) partial['hosts'] = 1;
    if (partial['cores'] === undefined) partial['cores'] = 4;
    if (partial['durationMs'] === undefined) partial['durationMs'] = 2000;
    const cfg = resolveConfig(partial);
    const r = await withSigint((signal) => selftest(cfg, { signal }));
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
    if (typeof opts['json'] === 'string') writeFileSync(opts['json'], JSON.stringify({ config: cfg, ...r }, null, 2));
    if (!r.ok) throw new ExitCode(1);
  });

  return program;
}

/** Runs the CLI; returns the exit code (never calls process.exit, so tests can call it). */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
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
