import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../bin/homa-emu.js', import.meta.url));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('homa-emu selftest', () => {
  it('runs, prints the tables and writes consistent JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'homa-emu-'));
    const json = join(dir, 'r.json');
    const r = cli('selftest', '--cores', '2', '--duration-ms', '300', '--warmup-ms', '50', '--json', json);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Per-core time/);
    expect(r.stdout).toMatch(/invariant producedEqualsConsumedPlusQueued: ok/);
    const j = JSON.parse(readFileSync(json, 'utf8'));
    expect(j.config.cores).toBe(2);
    expect(j.pipeline.produced).toBe(j.pipeline.consumed + j.pipeline.queued);
  });
});

describe('bad input', () => {
  it.each([
    [['selftest', '--cores', '-1'], /^homa-emu: --cores: expected a whole number in \[1, 64\], got "-1"\n$/],
    [['selftest', '--idle-mode', 'nap'], /^homa-emu: --idle-mode: expected one of poll, park, hybrid, got "nap"\n$/],
    [['selftest', '--ring-slots', '1000'], /power of two, got "1000"\n$/],
    [['selftest', '--duration-ms', '0'], /^homa-emu: --duration-ms: expected a number in \[0.001, 3600000\] ms, got "0"\n$/],
    [['selftest', '--bogus'], /unknown option '--bogus'/],
    [['nosuchcommand'], /unknown command 'nosuchcommand'/],
  ])('%j exits 2 with one line', (args, re) => {
    const r = cli(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(re);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
  });

  it('a malformed config file exits 2 naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'homa-emu-'));
    const f = join(dir, 'bad.json');
    writeFileSync(f, '{ "cores": 2, ');
    const r = cli('selftest', '--config', f);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^homa-emu: --config: .*bad\.json is not valid JSON/);
    writeFileSync(f, JSON.stringify({ 'max-gro-skbs': 5, nope: 1 }));
    const r2 = cli('selftest', '--config', f);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/unknown option 'nope'/);
  });
});

describe('homa-emu compare', () => {
  it('prints one column per variant', () => {
    const r = cli('compare', '--target', 'selftest', '--vary', 'ring-slots=64,256', '--repeat', '1', '--cores', '2', '--duration-ms', '200', '--warmup-ms', '20');
    expect(r.code).toBe(0);
    const header = r.stdout.split('\n').find((l) => l.includes('figure'))!;
    expect(header).toMatch(/figure\s+│ ring-slots=64\s+│ ring-slots=256/);
    expect(r.stdout).toMatch(/items\/s/);
  });

  it('rejects a bad variant before running anything', () => {
    const r = cli('compare', '--target', 'selftest', '--vary', 'ring-slots=64,100');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--ring-slots: expected a whole number .* power of two, got "100"/);
  });
});
