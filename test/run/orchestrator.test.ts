import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/config.js';
import { runWorld } from '../../src/cluster/worlds.js';
import { RunInterrupted } from '../../src/run/interrupt.js';
import { compiledUrl } from '../../src/util/paths.js';

const faulty = compiledUrl(import.meta.url, '../workers/faulty-world.js').href;

function cfg(over: Record<string, unknown>) {
  return resolveConfig({ hosts: 1, cores: 3, warmupMs: 50, durationMs: 300, idleMode: 'park', watchdogMs: 2000, clock: 'wall', ...over });
}

describe('runWorld', () => {
  it('runs every core through warm-up and measurement, then stops them all', async () => {
    const raw = await runWorld(faulty, cfg({ workload: 'none' }));
    expect(raw.summaries.map((s) => s.globalCore)).toEqual([0, 1, 2]);
    const counts = raw.worldResult as number[];
    expect(counts.every((c) => c > 0)).toBe(true);
    expect(raw.measuredNs).toBeGreaterThan(0);
    expect(raw.interrupted).toBe(false);
  });

  it('fails with a message naming the core when a worker throws', async () => {
    const started = Date.now();
    await expect(runWorld(faulty, cfg({ workload: 'throw', seed: 2, durationMs: 60_000 }))).rejects.toThrow(/core 2 \(host 0 core 2\) failed: deliberate failure/);
    // It stopped because of the failure, not because the 60 s window ended.
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('fails naming the core when setup throws, without waiting for the others', async () => {
    await expect(runWorld(faulty, cfg({ workload: 'setup', seed: 1, durationMs: 60_000 }))).rejects.toThrow(/core 1 \(host 0 core 1\) failed: deliberate failure during setup/);
  });

  it('an abort signal (SIGINT) stops every worker and reports the run as interrupted', async () => {
    const ac = new AbortController();
    // Abort once the run is under way (the first progress report), not after a guessed delay.
    const raw = await runWorld(faulty, cfg({ workload: 'none', durationMs: 60_000 }), { signal: ac.signal, onProgress: () => ac.abort() });
    expect(raw.interrupted).toBe(true);
    expect(raw.summaries).toHaveLength(3);
  });

  it('an abort during start-up ends the run at once with RunInterrupted (nothing was measured)', async () => {
    const ac = new AbortController();
    await expect(runWorld(faulty, cfg({ workload: 'none', durationMs: 60_000 }), { signal: ac.signal, onStarting: () => ac.abort() }))
      .rejects.toThrow(RunInterrupted);
  });

  it('the watchdog terminates a worker that ignores the stop signal and names it', async () => {
    // On a loaded host another worker may also be slow to leave; the hung one must be named.
    await expect(runWorld(faulty, cfg({ workload: 'hang', seed: 0, watchdogMs: 500 }))).rejects.toThrow(/watchdog: worker\(s\) (\d+, )*0(, \d+)* did not stop/);
  });
});

describe('runWorld with --clock virtual', () => {
  const vcfg = (over: Record<string, unknown>) => resolveConfig({ hosts: 1, cores: 3, warmupMs: 0.05, durationMs: 0.3, watchdogMs: 1000, ...over });

  it('ends every core at the same emulated instant: the window is exactly the duration', async () => {
    const raw = await runWorld(faulty, vcfg({ workload: 'none' }));
    expect(raw.summaries.map((s) => s.globalCore)).toEqual([0, 1, 2]);
    expect((raw.worldResult as number[]).every((c) => c > 0)).toBe(true);
    expect(raw.measuredNs).toBe(0.3e6);
    expect(raw.interrupted).toBe(false);
    expect(raw.wallLimitHit).toBe(false);
  });

  it('a worker stuck in a unit of work holds virtual time still: the run stops and names it', async () => {
    await expect(runWorld(faulty, vcfg({ workload: 'hang', seed: 0, durationMs: 1000 })))
      .rejects.toThrow(/watchdog: worker\(s\) (\d+, )*0(, \d+)* did not stop|worker\(s\) 0 hold the minimum/);
  });

  it('--max-wall-s cuts a long emulated window short and says so', async () => {
    const raw = await runWorld(faulty, vcfg({ workload: 'none', durationMs: 1e6, maxWallS: 1 }));
    expect(raw.wallLimitHit).toBe(true);
    expect(raw.measuredNs).toBeGreaterThan(0);
    expect(raw.measuredNs).toBeLessThan(1e12);
  });
});

