/**
 * Turns the option table (src/config/options.ts) into commander options, and commander's parsed
 * values plus an optional `--config FILE` into one partial config for `resolveConfig`. CLI flags
 * override the file; the file may use either config keys (`maxGroSkbs`) or flag names
 * (`max-gro-skbs`). A malformed file is a user error (exit 2) naming the file and the problem.
 */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { UserError } from '../config/errors.js';
import { OPTIONS, OPTION_BY_FLAG, OPTION_BY_KEY, type OptionSpec } from '../config/options.js';

/** One option's help: what it does, its range or names, and its default (where the help does not already say it). */
export function helpFor(o: OptionSpec): string {
  const range = o.kind === 'enum' ? ` (${o.values!.join('|')})`
    : o.kind === 'int' || o.kind === 'number' ? ` [${o.min}..${o.max}${o.unit ? ` ${o.unit}` : ''}]` : '';
  const unit = o.unit && o.kind !== 'bool' ? ` ${o.unit}` : '';
  const def = o.def === '' ? (o.help.includes('default') ? '' : ' (default: none)')
    : o.virtualDef !== undefined ? ` (default: ${o.virtualDef}${unit}; ${String(o.def)}${unit} with --clock wall)`
      : ` (default: ${String(o.def)}${unit})`;
  return `${o.help}${range}${def}`;
}

/** Adds the options of the given groups to `cmd`. Values stay strings; validation is resolveConfig's. */
export function addConfigOptions(cmd: Command, groups: ReadonlyArray<OptionSpec['group']>, except: readonly string[] = []): Command {
  for (const o of OPTIONS) {
    if (!groups.includes(o.group) || except.includes(o.key)) continue;
    const opt = o.kind === 'bool'
      ? new Option(`--${o.flag}`, helpFor(o))
      : new Option(`--${o.flag} <value>`, helpFor(o)).default(undefined, String(o.def));
    cmd.addOption(opt);
  }
  cmd.option('--config <file>', 'JSON file of options (config keys or flag names); flags given here override it');
  return cmd;
}

/** Reads `--config FILE` into a partial config keyed by config keys. */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError('ECONFIGFILE', `--config: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    throw new UserError('ECONFIGFILE', `--config: ${path} is not valid JSON (${(e as Error).message})`);
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw new UserError('ECONFIGFILE', `--config: ${path} must hold a JSON object of options, got ${Array.isArray(obj) ? 'an array' : typeof obj}`);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    const o = OPTION_BY_KEY.get(k) ?? OPTION_BY_FLAG.get(k);
    if (o === undefined) throw new UserError('EINVALIDOPT', `--config: ${path} has an unknown option '${k}' (see 'homa-emu run --help')`);
    out[o.key] = v;
  }
  return out;
}

/** Commander's parsed options → partial config (file first, then flags). */
export function partialFromCli(opts: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = typeof opts['config'] === 'string' ? readConfigFile(opts['config']) : {};
  for (const o of OPTIONS) {
    // commander camel-cases flags: 'max-gro-skbs' → 'maxGroSkbs' (== our keys by construction).
    const v = opts[camel(o.flag)];
    if (v !== undefined) out[o.key] = v;
  }
  return out;
}

export function camel(flag: string): string {
  return flag.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}
