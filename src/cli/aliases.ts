/**
 * The options of HomaModule's cperf / cp_vs_tcp that a Homa user types first, mapped onto ours
 * before commander parses the command line: those with an equivalent are rewritten (`--seconds
 * 5` becomes `--duration-ms 5000`, `-n 3` becomes `--hosts 3`, `--client-ports` becomes
 * `--ports`, ...) with a note on stderr, and those without one (TCP, log directories, plotting,
 * cluster management) are refused with exit 2 and one line saying what to use instead. Only the
 * commands that run an emulation (`run`, `compare`) read them.
 */
import { UserError } from '../config/errors.js';

interface Rewrite {
  /** cperf's spellings. */
  names: readonly string[];
  /** Our option. */
  to: string;
  /** Converts the value (default: unchanged); throws a UserError for a bad one. */
  value?: (v: string, given: string) => string;
}

function seconds(v: string, given: string): string {
  if (!/^\s*(\d+\.?\d*|\.\d+)\s*$/.test(v)) throw new UserError('EINVALIDOPT', `${given}: expected a number of seconds (cperf's option, read as --duration-ms), got ${JSON.stringify(v)}`);
  return String(Math.round(Number(v) * 1000 * 1e6) / 1e6);
}

/** cperf options with an equivalent here. */
export const CPERF_REWRITES: readonly Rewrite[] = [
  { names: ['-s', '--seconds'], to: '--duration-ms', value: seconds },
  { names: ['-n', '--nodes'], to: '--hosts' },
  { names: ['--client-ports'], to: '--ports' },
  { names: ['-b', '--net-bw'], to: '--gbps' },
  { names: ['-w'], to: '--workload' },
];

/** cperf options without an equivalent: what to do instead. */
export const CPERF_ANSWERS: ReadonlyArray<readonly [readonly string[], string]> = [
  [['-p', '--protocol', '--tcp', '--dctcp', '--tcp-client-max', '--tcp-client-ports', '--tcp-port-receivers', '--tcp-port-threads', '--tcp-server-ports'],
    'homa-emu emulates Homa only (TCP and DCTCP are not emulated); drop it'],
  [['-l', '--log-dir', '--cperf-log', '--delete-rtts'],
    "homa-emu keeps no log directory; use --data DIR (cperf's .data files), --rtts DIR (cp_node's .rtts files) and --json FILE"],
  [['--plot-only'], "homa-emu does not plot; HomaModule's plotting scripts read the files of --data DIR"],
  [['--unsched', '--unsched-boost', '--no-homa-prio'], 'homa-emu has no homa_prio; set the unscheduled levels with --unsched-cutoffs (8 lengths) and --num-priorities'],
  [['-d', '--debug', '--skip', '--set-ids', '--stripped', '--tt-freeze', '-6', '--ipv6', '-v', '--verbose'],
    "it manages cperf's real cluster and has no equivalent in an emulation; drop it"],
];

/** The commands whose options may be given in cperf's spelling. */
const COMMANDS = new Set(['run', 'compare']);

/**
 * Rewrites cperf's option spellings in `argv` (process.argv form: node, script, command, ...).
 * Returns the new argv and one note per rewrite; throws a UserError for an option we answer.
 */
export function translateCperfArgs(argv: readonly string[]): { argv: string[]; notes: string[] } {
  if (!COMMANDS.has(argv[2] ?? '')) return { argv: [...argv], notes: [] };
  const out = argv.slice(0, 3);
  const notes: string[] = [];
  for (let i = 3; i < argv.length; i++) {
    const tok = argv[i]!;
    if (tok === '--') { out.push(...argv.slice(i)); break; }
    const eq = tok.startsWith('--') ? tok.indexOf('=') : -1;
    const name = eq > 0 ? tok.slice(0, eq) : tok;
    const answer = CPERF_ANSWERS.find(([names]) => names.includes(name));
    if (answer !== undefined) {
      const v = name === '-p' || name === '--protocol' ? (eq > 0 ? tok.slice(eq + 1) : argv[i + 1]) : undefined;
      if (v === 'homa') { notes.push(`${name} homa: homa-emu always emulates Homa; ignored`); if (eq < 0) i++; continue; }
      throw new UserError('EUSAGE', `${name}: cperf's option is not one of homa-emu's: ${answer[1]}`);
    }
    const rw = CPERF_REWRITES.find((r) => r.names.includes(name));
    if (rw === undefined) { out.push(tok); continue; }
    let value: string | undefined;
    if (eq > 0) value = tok.slice(eq + 1);
    else { value = argv[i + 1]; i++; }
    if (value === undefined) throw new UserError('EUSAGE', `${name}: expected a value (cperf's option, read as ${rw.to}), got nothing`);
    const converted = rw.value ? rw.value(value, name) : value;
    notes.push(`${name} ${value} read as ${rw.to} ${converted} (cperf's spelling)`);
    out.push(rw.to, converted);
  }
  return { argv: out, notes };
}

/** The help text that lists the cperf spellings understood. */
export function cperfHelp(): string {
  const rw = CPERF_REWRITES.map((r) => `  ${r.names.join(', ')} -> ${r.to}${r.to === '--duration-ms' ? ' (x 1000)' : ''}`).join('\n');
  return `\ncperf / cp_vs_tcp spellings accepted:\n${rw}\n  --server-ports, --port-threads, --port-receivers, --client-max, --workload, --gbps, --mtu: the same names\n`
    + `cperf options without an equivalent (--protocol tcp, --log-dir, --plot-only, --unsched, ...) are refused with what to use instead.\n`;
}
