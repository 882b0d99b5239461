import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../bin/homa-emu.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'homa-emu-out-'));
const aFile = join(dir, 'a-file');
writeFileSync(aFile, 'x');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000, cwd: dir });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// Would run if the outputs were fine: so exit 2 with no report proves the check came first.
const RUN = ['run', '--duration-ms', '100', '--warmup-ms', '0', '--base-rtt-usecs', '15', '--clock', 'wall', '--dilation', '20'];

function rejected(args: string[], re: RegExp): void {
  const r = cli(...args);
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^homa-emu: [^\n]+\n$/);
  expect(r.stderr).toMatch(re);
}

describe('output paths are checked before any worker starts (exit 2, one line naming the option)', () => {
  it('--json: a directory, a missing parent, a file as parent, an empty path, /proc', () => {
    rejected([...RUN, '--json', dir], /^homa-emu: --json: expected a writable file path, got ".*" \(it is a directory\)\n$/);
    rejected([...RUN, '--json', join(dir, 'missing', 'r.json')], /^homa-emu: --json: .*\(its directory .*missing does not exist\)\n$/);
    rejected([...RUN, '--json', join(aFile, 'r.json')], /^homa-emu: --json: .*a-file is not a directory\)\n$/);
    rejected([...RUN, '--json', ''], /^homa-emu: --json: expected a writable file path, got "" \(an empty path\)\n$/);
    rejected([...RUN, '--json', '/proc/homa-emu.json'], /^homa-emu: --json: .*\(\/proc is not storage\)\n$/);
  });

  it('--data and --rtts: a file, a path under a file, /proc and /sys (which made mkdir loop forever)', () => {
    rejected([...RUN, '--data', aFile], /^homa-emu: --data: expected a writable directory path, got ".*a-file" \(it is a file, not a directory\)\n$/);
    rejected([...RUN, '--rtts', join(aFile, 'sub')], /^homa-emu: --rtts: .*a-file is not a directory\)\n$/);
    rejected([...RUN, '--data', '/proc/x'], /^homa-emu: --data: .*\(\/proc is not storage\)\n$/);
    rejected([...RUN, '--rtts', '/sys/x'], /^homa-emu: --rtts: .*\(\/sys is not storage\)\n$/);
    rejected([...RUN, '--data', ' '], /^homa-emu: --data: .*\(an empty path\)\n$/);
  });

  it('selftest and compare check their --json too', () => {
    rejected(['selftest', '--duration-ms', '100', '--json', dir], /^homa-emu: --json: .*\(it is a directory\)\n$/);
    rejected(['compare', '--vary', 'hosts=1,2', '--repeat', '1', '--json', dir], /^homa-emu: --json: .*\(it is a directory\)\n$/);
  });

  it.skipIf(process.getuid?.() === 0)('an unwritable directory (not testable as root: root may write anywhere)', () => {
    const ro = join(dir, 'ro');
    mkdirSync(ro);
    chmodSync(ro, 0o500);
    rejected([...RUN, '--json', join(ro, 'r.json')], /^homa-emu: --json: .*is not writable\)\n$/);
  });

  it('a missing --data directory is created, and a write that fails at the end still prints the report and names the file', () => {
    const data = join(dir, 'new', 'deeper');
    // /dev/full passes the check (a character device) but every write to it fails with ENOSPC.
    const r = cli(...RUN, '--data', data, '--json', '/dev/full');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^homa-emu run: /);
    expect(r.stdout).toMatch(/Accounting: /);
    expect(r.stderr).toMatch(/^homa-emu: --json: could not write \/dev\/full: ENOSPC/m);
    expect(existsSync(join(data, 'reports', 'homa_w3.data'))).toBe(true);
  });
});
