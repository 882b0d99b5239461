import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/config.js';
import { openWorkerPool, runWorld, workerEntry } from '../../src/cluster/worlds.js';
import { WorkerPool } from '../../src/run/orchestrator.js';
import { emulate } from '../../src/cluster/emulate.js';
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


describe('start-up: the worker bundle and worker threads shared between runs', () => {
  it('the built-in worlds load the one-file bundle; a world given as a path, or HOMA_EMU_WORKER_BUNDLE=0, the modules one by one', async () => {
    expect(workerEntry()).toEqual({ url: expect.stringMatching(/\/dist\/src\/cluster\/worker\.bundle\.cjs$/) as unknown, bundled: true });
    const pool = await openWorkerPool(faulty, cfg({}));
    expect(pool.piscina.options.filename).toMatch(/\/dist\/src\/cpu\/worker\.js$/);
    await pool.close();
    const old = process.env['HOMA_EMU_WORKER_BUNDLE'];
    process.env['HOMA_EMU_WORKER_BUNDLE'] = '0';
    try {
      expect(workerEntry().bundled).toBe(false);
    } finally {
      if (old === undefined) delete process.env['HOMA_EMU_WORKER_BUNDLE']; else process.env['HOMA_EMU_WORKER_BUNDLE'] = old;
    }
  });

  it('two runs on one pool run on the same threads; the pool stays open until closed', async () => {
    const c = cfg({ workload: 'none', durationMs: 100 });
    const pool = await openWorkerPool(faulty, c);
    try {
      const first = await runWorld(faulty, c, { pool });
      expect(first.summaries.map((s) => s.globalCore)).toEqual([0, 1, 2]);
      const threads = new Set(pool.piscina.threads);
      expect(threads.size).toBe(3);
      expect(pool.closed).toBe(false);
      const second = await runWorld(faulty, c, { pool });
      expect(second.summaries.map((s) => s.globalCore)).toEqual([0, 1, 2]);
      expect((second.worldResult as number[]).every((n) => n > 0)).toBe(true);
      expect(new Set(pool.piscina.threads)).toEqual(threads);
    } finally {
      await pool.close();
    }
    expect(pool.closed).toBe(true);
  });

  it('a pool of another size, or a closed one, is refused; a failed run closes the pool it was given', async () => {
    const pool = new WorkerPool(faulty, 2);
    await expect(runWorld(faulty, cfg({ workload: 'none' }), { pool })).rejects.toThrow(/pool given is for 2 workers .* needs 3/);
    await pool.close();
    const pool3 = await openWorkerPool(faulty, cfg({}));
    await expect(runWorld(faulty, cfg({ workload: 'throw', seed: 2, durationMs: 60_000 }), { pool: pool3 })).rejects.toThrow(/core 2 .* failed/);
    expect(pool3.closed).toBe(true);
    await expect(runWorld(faulty, cfg({ workload: 'none' }), { pool: pool3 })).rejects.toThrow(/and closed/);
  });

  it('emulate measures the base RTT and runs on the threads it is given (the probe does not start a second cluster)', async () => {
    const c = resolveConfig({ hosts: 2, cores: 1, warmupMs: 0.05, durationMs: 0.2, gbps: 0.5, baseRttUsecs: 0 });
    const pool = await openWorkerPool('homa', c);
    try {
      const stages: string[] = [];
      const r = await emulate(c, { pool, onStage: (s) => stages.push(s) });
      expect(stages).toEqual(['base-rtt', 'run']);
      expect(r.header.baseRttSource).toBe('measured');
      expect(r.header.baseRttUs).toBeGreaterThan(5);
      expect(pool.piscina.threads).toHaveLength(3);
      expect(pool.closed).toBe(false);
    } finally {
      await pool.close();
    }
  }, 120_000);
});
