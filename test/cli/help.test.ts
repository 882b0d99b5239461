import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { OPTIONS } from '../../src/config/options.js';
import { translateCperfArgs } from '../../src/cli/aliases.js';

const bin = fileURLToPath(new URL('../../bin/homa-emu.js', import.meta.url));
const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version: string };

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('help for a newcomer', () => {
  it('--version and -V print the version and exit 0', () => {
    for (const flag of ['--version', '-V']) {
      const r = cli(flag);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`homa-emu ${pkg.version} (Node.js ${process.version})\n`);
    }
  });

  it('run --help shows the default of every option', () => {
    const r = cli('run', '--help');
    expect(r.code).toBe(0);
    // Each option's entry runs from its flag to the next line that starts another option.
    const entries = r.stdout.split(/\n(?=\s{2}-)/);
    for (const o of OPTIONS) {
      const e = entries.find((x) => new RegExp(`^\\s*--${o.flag}\\s`).test(x));
      expect(e, o.flag).toBeDefined();
      const text = e!.replace(/\s+/g, ' ');
      expect(text, o.flag).toMatch(/default/);
      if (o.virtualDef !== undefined) expect(text, o.flag).toMatch(new RegExp(`\\(default: ${o.virtualDef} \\S+; ${String(o.def)} \\S+ with --clock wall\\)`));
      else if (o.def !== '') expect(text, o.flag).toContain(`(default: ${String(o.def)}`);
    }
    expect(r.stdout).toMatch(/-s, --seconds -> --duration-ms/);
  });

  it("cperf's spellings are read as ours, with a note", () => {
    const json = join(mkdtempSync(join(tmpdir(), 'homa-emu-help-')), 'r.json');
    const r = cli('run', '--clock', 'wall', '--dilation', '20', '--base-rtt-usecs', '15', '--warmup-ms', '0', '--seconds', '0.2', '-n', '3', '--client-ports', '1',
      '--server-ports', '1', '--port-threads', '1', '--json', json);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^homa-emu: note: --seconds 0\.2 read as --duration-ms 200 \(cperf's spelling\)$/m);
    expect(r.stderr).toMatch(/^homa-emu: note: -n 3 read as --hosts 3/m);
    const c = JSON.parse(readFileSync(json, 'utf8')).config;
    expect([c.durationMs, c.hosts, c.ports, c.serverPorts, c.portThreads]).toEqual([200, 3, 1, 1, 1]);
  });

  it("cperf's options without an equivalent are answered with what to use instead (exit 2, one line)", () => {
    const cases: Array<[string[], RegExp]> = [
      [['--protocol', 'tcp'], /^homa-emu: --protocol: .*Homa only/],
      [['--log-dir', 'logs'], /^homa-emu: --log-dir: .*use --data DIR/],
      [['--unsched', '2'], /^homa-emu: --unsched: .*--unsched-cutoffs/],
      [['--seconds', 'ten'], /^homa-emu: --seconds: expected a number of seconds .*got "ten"/],
    ];
    for (const [args, re] of cases) {
      const r = cli('run', '--duration-ms', '100', ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^homa-emu: [^\n]+\n$/);
      expect(r.stderr).toMatch(re);
    }
  });

  it('translateCperfArgs leaves other commands and values after -- alone, and reads --opt=value', () => {
    expect(translateCperfArgs(['node', 'x', 'workloads', '-n', '3']).argv).toEqual(['node', 'x', 'workloads', '-n', '3']);
    expect(translateCperfArgs(['node', 'x', 'run', '--seconds=2', '--hosts', '3']).argv).toEqual(['node', 'x', 'run', '--duration-ms', '2000', '--hosts', '3']);
    expect(translateCperfArgs(['node', 'x', 'run', '--protocol', 'homa', '-b', '4']).argv).toEqual(['node', 'x', 'run', '--gbps', '4']);
  });
});
