import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { oneLineError } from '../../src/cli/main.js';

const bin = fileURLToPath(new URL('../../bin/homa-emu.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'homa-emu-bad-'));

/** Runs the real binary in `dir` (so ./module paths resolve there). */
function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000, cwd: dir });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Exit 2, nothing on stdout, exactly one line on stderr matching `re`, no stack trace. */
function expectRejected(args: string[], re: RegExp): string {
  const r = cli(...args);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^homa-emu: [^\n]+\n$/);
  expect(r.stderr).toMatch(re);
  expect(r.stderr).not.toMatch(/\bat .*:\d+:\d+|internal error/);
  return r.stderr;
}

// A run that would otherwise start: short, base RTT given (nothing is measured before the error).
const RUN = ['run', '--duration-ms', '100', '--warmup-ms', '0', '--base-rtt-usecs', '15'];

describe('homa-emu run rejects bad input (exit 2, one line, nothing run)', () => {
  it('an unknown workload', () => {
    expectRejected([...RUN, '--workload', 'w9'], /^homa-emu: --workload: expected w1\.\.w5, starve, or a message length 1\.\.1000000 bytes, got "w9"\n$/);
  });

  it('an experiment name cperf could not glob apart, and a cpu_khz out of range', () => {
    expectRejected([...RUN, '--exp', 'homa-w4'], /^homa-emu: --exp: expected letters, digits, '_' or '\.' \(cperf globs NAME-\*\.rtts, so no '-'\), got "homa-w4"\n$/);
    expectRejected([...RUN, '--cpu-khz', '0'], /^homa-emu: --cpu-khz: expected a whole number in \[1000, 100000000\], got "0"\n$/);
  });

  it('a negative load', () => {
    expectRejected([...RUN, '--gbps', '-1'], /^homa-emu: --gbps: expected a number in \[0, 1000\] Gbps, got "-1"\n$/);
  });

  it('an unknown option, with the nearest known one suggested on the same line', () => {
    expectRejected([...RUN, '--bogus'], /^homa-emu: unknown option '--bogus'; see --help for the accepted ones\n$/);
    expectRejected([...RUN, '--host', '3'], /^homa-emu: unknown option '--host' \(did you mean --hosts\?\); see --help/);
  });

  it('a config file that is not JSON', () => {
    const f = join(dir, 'bad.json');
    writeFileSync(f, '{ "hosts": 2, ');
    expectRejected([...RUN, '--config', f], /^homa-emu: --config: .*bad\.json is not valid JSON \(/);
  });

  it('a config file with an unknown key', () => {
    const f = join(dir, 'unknown.json');
    writeFileSync(f, JSON.stringify({ hosts: 2, 'max-gro-skbs': 5, nope: 1 }));
    expectRejected([...RUN, '--config', f], /^homa-emu: --config: .*unknown\.json has an unknown option 'nope' \(see 'homa-emu run --help'\)\n$/);
  });

  it('a steering policy that does not exist lists the valid names', () => {
    expectRejected([...RUN, '--steering', 'gen9'],
      /^homa-emu: --steering: expected one of same-core, next, idle, gen2, gen3, rps-ip, rps-ports, or a module path .*got "gen9"\n$/);
  });

  it('a user policy module that does not exist (the message says what is accepted)', () => {
    expectRejected([...RUN, '--steering', './nope.mjs'],
      /^homa-emu: --steering \/.*\/nope\.mjs: file not found \(expected a built-in name: same-core, next, idle, gen2, gen3, rps-ip, rps-ports; or the path of an existing \.js\/\.mjs module\)\n$/);
  });

  it('a user policy module of the wrong shape', () => {
    writeFileSync(join(dir, 'noexport.mjs'), 'export const x = 1;\n');
    expectRejected([...RUN, '--steering', './noexport.mjs'], /^homa-emu: --steering \/.*\/noexport\.mjs: has no default export and no export named 'policy'\n$/);
    writeFileSync(join(dir, 'shape.mjs'), "export default { name: 'shape' };\n");
    expectRejected([...RUN, '--steering', './shape.mjs'], /^homa-emu: --steering \/.*\/shape\.mjs: the exported policy lacks 'chooseSoftirqCore' \(a function\)\n$/);
  });

  it('more cores than the sizing allows', () => {
    expectRejected([...RUN, '--hosts', '64', '--cores', '64'],
      /^homa-emu: --hosts x --cores: expected at most 256 worker threads in all, got 64 x 64 \+ 1 fabric = 4097\n$/);
  });

  it('a port count of 0', () => {
    expectRejected([...RUN, '--ports', '0'], /^homa-emu: --ports: expected a whole number in \[1, 64\], got "0"\n$/);
    expectRejected([...RUN, '--server-ports', '0'], /^homa-emu: --server-ports: expected a whole number in \[1, 64\], got "0"\n$/);
  });

  it('a malformed --stall spec is refused on the main thread (exit 2 with the syntax, no core named)', () => {
    for (const spec of ['core=x', 'core=0,ms=5', 'core=0,ms=5,every=5', 'core=0,ms=5,every=10,bogus=1', 'ms=5,every=10']) {
      const err = expectRejected([...RUN, '--stall', spec], /^homa-emu: --stall: expected 'core=H\.C\|N\|all,ms=M,every=E\[,offset=O\]' with ms < every/);
      expect(err).toContain(JSON.stringify(spec));
      expect(err).not.toMatch(/core \d+ \(host/);
    }
    expectRejected([...RUN, '--stall', 'core=9.0,ms=5,every=10'], /^homa-emu: --stall: expected a core H\.C with H < 2 and C < 2, got "9\.0"\n$/);
  });

  it('numbers: hex, underflow to 0 and non-numbers are refused with the value as given', () => {
    expectRejected([...RUN, '--duration-ms', '0x10'], /^homa-emu: --duration-ms: expected a number in \[0.001, 3600000\] ms in decimal notation, got "0x10"\n$/);
    expectRejected([...RUN, '--gbps', '1e-400'], /^homa-emu: --gbps: expected .* underflows to 0\), got "1e-400"\n$/);
    expectRejected([...RUN, '--hosts', 'Infinity'], /^homa-emu: --hosts: expected .*, got "Infinity"\n$/);
    expectRejected([...RUN, '--hosts', ' '], /^homa-emu: --hosts: expected .*, got " "\n$/);
    expectRejected(['compare', '--vary', 'hosts=2,3', '--repeat', 'abc'], /^homa-emu: --repeat: expected a whole number in \[1, 1000\], got "abc"\n$/);
  });

  it('compare checks every variant before running any', () => {
    expectRejected(['compare', '--vary', 'steering=gen2,gen9', '--repeat', '1'], /^homa-emu: --steering: expected one of .*got "gen9"\n$/);
    expectRejected(['compare', '--vary', 'nosuch=1,2'], /^homa-emu: --vary: expected OPTION=V1,V2,\.\.\. with a known option/);
  });
});

describe('oneLineError', () => {
  it("folds commander's suggestion into one line and names where the accepted options are", () => {
    expect(oneLineError("error: unknown option '--host'\n(Did you mean --hosts?)\n"))
      .toBe("homa-emu: unknown option '--host' (did you mean --hosts?); see --help for the accepted ones\n");
    expect(oneLineError("error: option '--hosts <value>' argument missing\n")).toBe("homa-emu: option '--hosts <value>' argument missing\n");
  });
});
