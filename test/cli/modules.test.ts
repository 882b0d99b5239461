import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../bin/homa-emu.js', import.meta.url));
const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const RUN = ['run', '--clock', 'wall', '--dilation', '20', '--base-rtt-usecs', '15', '--duration-ms', '500', '--warmup-ms', '100'];

describe('a user module that misbehaves is named', () => {
  it('an endless loop at import: refused before the run by the checker worker (exit 2)', () => {
    const r = cli(...RUN, '--steering', fixture('hang-at-import.mjs'));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^homa-emu: --steering .*hang-at-import\.mjs: did not finish loading within \d+ ms \(an endless loop at import\?\)\n$/);
  });

  it('process.exit at import: refused before the run (exit 2), the CLI survives to say so', () => {
    const r = cli(...RUN, '--pacer', fixture('exit-at-import.mjs'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^homa-emu: --pacer .*exit-at-import\.mjs: ended the process \(process\.exit\(3\)\) while loading/);
  });

  it('an out-of-range thread choice fails the run naming the policy (no silent index 0)', () => {
    const r = cli(...RUN, '--thread-choice', fixture('bad-thread-choice.mjs'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/thread-choice policy 'out-of-range': chose waiter \d+ of \d+; expected an index 0\.\.\d+/);
  });

  it('a policy call that never returns: the watchdog names the module, the method and the core', () => {
    const r = cli(...RUN, '--thread-choice', fixture('hang-thread-choice.mjs'), '--watchdog-ms', '500');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^homa-emu: watchdog: the --thread-choice module .*hang-thread-choice\.mjs did not return from chooseInterest\(\) on core \d+ \(host \d+ core \d+\) within 500 ms of the stop signal/m);
    expect(r.stderr).not.toMatch(/fabric/);
  });
});
