import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../bin/homa-emu.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'homa-emu-sig-'));

interface Ended { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/**
 * Runs the real binary with progress lines on stderr (HOMA_EMU_PROGRESS=1) and sends `signals`
 * (in one go) as soon as a stderr line matches `when`: the test acts on a phase, not on a delay.
 */
function runAndSignal(args: string[], when: RegExp, signals: NodeJS.Signals[]): Promise<Ended> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOMA_EMU_PROGRESS: '1' } });
    let stdout = '';
    let stderr = '';
    let sent = false;
    p.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
    p.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
      if (!sent && when.test(stderr)) {
        sent = true;
        for (const sig of signals) p.kill(sig);
      }
    });
    p.on('error', reject);
    p.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** The exit status as a shell reports it: 128 + the signal's number when the signal ended the process. */
function shellStatus(r: Ended): number | null {
  if (r.signal === 'SIGINT') return 130;
  if (r.signal === 'SIGTERM') return 143;
  return r.code;
}

const SMALL = ['run', '--clock', 'wall', '--hosts', '2', '--cores', '2', '--dilation', '20', '--gbps', '0.5', '--warmup-ms', '200'];

describe('signals stop a run cleanly', () => {
  it('SIGINT while measuring: the report of what was measured, the JSON, exit 130', async () => {
    const json = join(dir, 'int.json');
    const r = await runAndSignal([...SMALL, '--base-rtt-usecs', '15', '--duration-ms', '60000', '--json', json], /measuring/, ['SIGINT']);
    expect(shellStatus(r), r.stderr).toBe(130);
    expect(r.code).toBe(130);
    expect(r.stdout).toMatch(/INTERRUPTED: the figures cover the first [\d.]+ s of the 60\.00 s window/);
    expect(r.stdout).toMatch(/Accounting: .*: ok;/);
    const j = JSON.parse(readFileSync(json, 'utf8'));
    expect(j.header.interrupted).toBe(true);
    expect(j.header.measuredSec).toBeLessThan(60);
  });

  it('SIGTERM is handled like SIGINT (exit 143)', async () => {
    const r = await runAndSignal([...SMALL, '--base-rtt-usecs', '15', '--duration-ms', '60000'], /measuring/, ['SIGTERM']);
    expect(r.code, r.stderr).toBe(143);
    expect(r.stdout).toMatch(/INTERRUPTED: the figures cover/);
  });

  it('a second signal exits at once, without a report', async () => {
    const r = await runAndSignal([...SMALL, '--base-rtt-usecs', '15', '--duration-ms', '60000'], /measuring/, ['SIGINT', 'SIGTERM']);
    expect(shellStatus(r), r.stderr).toBe(143);
    expect(r.stderr).toMatch(/second signal \(SIGTERM\): exiting now without a report/);
    expect(r.stdout).toBe('');
  });

  it('a signal during start-up ends the run without waiting for every worker (status 130)', async () => {
    const r = await runAndSignal(['run', '--clock', 'wall', '--hosts', '4', '--cores', '8', '--dilation', '20', '--base-rtt-usecs', '15', '--duration-ms', '60000'],
      /starting \d+\/33 workers ready/, ['SIGINT']);
    expect(shellStatus(r), r.stderr).toBe(130);
    expect(r.stderr).toMatch(/interrupted during start-up: nothing was measured \(SIGINT\)/);
    expect(r.stderr).not.toMatch(/watchdog|failed/);
    expect(r.stdout).toBe('');
  });

  it('a signal during the base-RTT probe does not start the main run', async () => {
    const r = await runAndSignal([...SMALL, '--duration-ms', '60000'], /base-RTT probe: (warm-up|measuring)/, ['SIGTERM']);
    expect(shellStatus(r), r.stderr).toBe(143);
    expect(r.stderr).toMatch(/interrupted during base-RTT probe: nothing was measured \(SIGTERM\)/);
    expect(r.stderr).not.toMatch(/^homa-emu: (starting|warm-up|measuring)/m);
    expect(r.stdout).toBe('');
  });

  it('a stall that covers the end of the window does not trip the watchdog', async () => {
    // Every core stalls 150 ms of every 160 (3 s wall at dilation 20), far beyond --watchdog-ms 1000.
    const r = await runAndSignal([...SMALL, '--base-rtt-usecs', '15', '--duration-ms', '1000', '--warmup-ms', '0',
      '--stall', 'core=all,ms=150,every=160,offset=0', '--watchdog-ms', '1000'], /^$/, []);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/injected stalls: all cores 150 ms every 160 ms/);
    expect(r.stderr).not.toMatch(/watchdog/);
  });
});
