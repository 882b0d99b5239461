/**
 * Start-up at scale (issue 11 item 7): how long a cluster of N emulated cores takes until every
 * worker is ready, where the time goes, and what the two remedies bring, each beside its
 * baseline in the same process. Measured per size: the main thread's preparation (world module,
 * layout, shared-memory allocation and initialisation, with the SAB size); N bare worker threads
 * coming online (the floor the host's thread creation sets); N threads that also load the
 * worker's modules one by one (worker.js and the Homa world, ~65 ES and CommonJS modules) versus
 * N that load the one-file bundle (scripts/bundle-worker.mjs); the real `runWorld` until every
 * worker is READY (threads, piscina, modules, each core's setup) with the modules versus the
 * bundle; and `emulate`'s path to the main run's READY when the base RTT is measured: the probe
 * and the run each starting their own threads (as before) versus sharing one pool (the run
 * finds its threads started). Peak RSS is sampled while starting. Sizes: 32 and 255 emulated
 * cores at scale 1 (4 x 8 and 5 x 51), 2 x 2 below.
 */
import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { resolveConfig, type EmuConfig } from '../src/config/config.js';
import { buildLayout } from '../src/run/orchestrator.js';
import { emulate, measureBaseRttUs } from '../src/cluster/emulate.js';
import { loadWorld, runWorld, workerEntry } from '../src/cluster/worlds.js';
import { allocate, subLayout } from '../src/shm/layout.js';
import { compiledUrl } from '../src/util/paths.js';
import { makeResult, type BenchResult } from './harness.js';

export interface StartupFigures {
  hosts: number; cores: number; workers: number; sabMB: number; prepMs: number;
  bareMs: number; modulesMs: number; bundleMs: number;
  readyModulesMs: number; readyMs: number;
  twoStartsMs: number; sharedMs: number;
  peakRssMB: number; peakRssModulesMB: number;
}

/** Starts `n` worker threads running `code` (CommonJS eval) and waits for each to post a message. */
async function threads(n: number, code: string): Promise<number> {
  const t0 = performance.now();
  const ws: Worker[] = [];
  const all: Array<Promise<void>> = [];
  for (let i = 0; i < n; i++) {
    const w = new Worker(code, { eval: true });
    ws.push(w);
    all.push(new Promise((res, rej) => { w.once('message', () => res()); w.once('error', rej); }));
    if (i % 4 === 3) await new Promise((r) => setTimeout(r, 0));
  }
  await Promise.all(all);
  const ms = performance.now() - t0;
  await Promise.all(ws.map((w) => w.terminate()));
  return ms;
}

/** Runs `body` while sampling the process's RSS every 50 ms; returns its peak (MiB). */
async function peakRss(body: () => Promise<void>): Promise<number> {
  let peak = process.memoryUsage.rss();
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage.rss()); }, 50);
  try { await body(); } finally { clearInterval(sampler); }
  return Math.max(peak, process.memoryUsage.rss()) / 2 ** 20;
}

/** With HOMA_EMU_WORKER_BUNDLE set to `v` (undefined: unset) for the duration of `body`. */
async function withBundleEnv<T>(v: string | undefined, body: () => Promise<T>): Promise<T> {
  const old = process.env['HOMA_EMU_WORKER_BUNDLE'];
  if (v === undefined) delete process.env['HOMA_EMU_WORKER_BUNDLE']; else process.env['HOMA_EMU_WORKER_BUNDLE'] = v;
  try { return await body(); } finally {
    if (old === undefined) delete process.env['HOMA_EMU_WORKER_BUNDLE']; else process.env['HOMA_EMU_WORKER_BUNDLE'] = old;
  }
}

/** ms from the call until every worker of one `runWorld` is READY (the run itself is 1 us of emulated time). */
async function timeReady(cfg: EmuConfig): Promise<number> {
  let readyMs = NaN;
  const t = performance.now();
  await runWorld('homa', cfg, { onReady: () => { readyMs = performance.now() - t; } });
  return readyMs;
}

export async function measureStartup(hosts: number, cores: number): Promise<StartupFigures> {
  const cfg = resolveConfig({ hosts, cores, durationMs: 0.001, warmupMs: 0, baseRttUsecs: 15, watchdogMs: 300_000 });
  let t = performance.now();
  const world = await loadWorld('homa');
  const { desc, totalWorkers } = buildLayout(cfg, world);
  const sab = allocate(desc);
  world.init(cfg, sab, subLayout(desc, 'world'));
  const prepMs = performance.now() - t;
  const sabMB = sab.byteLength / 2 ** 20;
  // Each figure on stderr as it is measured (a full run takes minutes on a loaded host).
  const log = (what: string, ms: number): void => { process.stderr.write(`startup ${hosts}x${cores}: ${what} ${(ms / 1000).toFixed(2)} s\n`); };

  const post = "require('node:worker_threads').parentPort.postMessage(1)";
  const bareMs = await threads(totalWorkers, post);
  log('bare threads', bareMs);
  const workerUrl = compiledUrl(import.meta.url, '../src/cpu/worker.js').href;
  const worldsUrl = compiledUrl(import.meta.url, '../src/cluster/worlds.js').href;
  const modulesMs = await threads(totalWorkers, `Promise.all([import(${JSON.stringify(workerUrl)}), import(${JSON.stringify(worldsUrl)}).then((m) => m.loadWorld('homa'))])`
    + `.then(() => ${post})`);
  log('threads + modules', modulesMs);
  const entry = workerEntry();
  if (!entry.bundled) throw new Error('startup bench: no current worker bundle (run npm run build)');
  const bundleMs = await threads(totalWorkers, `import(${JSON.stringify(entry.url)}).then(() => ${post})`);
  log('threads + bundle', bundleMs);

  let readyModulesMs = NaN;
  let readyMs = NaN;
  const peakRssModulesMB = await peakRss(async () => { readyModulesMs = await withBundleEnv('0', () => timeReady(cfg)); });
  log('READY, modules', readyModulesMs);
  const peakRssMB = await peakRss(async () => { readyMs = await withBundleEnv(undefined, () => timeReady(cfg)); });
  log('READY, bundle', readyMs);

  // emulate's path to the main run's READY with a measured base RTT.
  const probed = resolveConfig({ ...cfg, baseRttUsecs: 0 } as Record<string, unknown>);
  t = performance.now();
  await measureBaseRttUs(probed);
  const twoStartsMs = (performance.now() - t) + await timeReady(cfg);
  log('probe + run READY, each starting', twoStartsMs);
  let sharedMs = NaN;
  t = performance.now();
  await emulate(probed, { onStage: (s) => { if (s === 'run') sharedMs = -1; }, onReady: () => { if (sharedMs === -1) sharedMs = performance.now() - t; } });
  log('probe + run READY, shared threads', sharedMs);

  return {
    hosts, cores, workers: totalWorkers, sabMB, prepMs, bareMs, modulesMs, bundleMs, readyModulesMs, readyMs, twoStartsMs, sharedMs,
    peakRssMB, peakRssModulesMB,
  };
}

/** The sizes measured: 32 and 255 emulated cores at full scale (4 x 8 and 5 x 51); 32 only at scale 0.1 to 1; 2 x 2 below. */
export function startupSizes(scale: number): Array<[number, number]> {
  return scale >= 1 ? [[4, 8], [5, 51]] : scale >= 0.1 ? [[4, 8]] : [[2, 2]];
}

export let lastStartup: StartupFigures[] = [];

export async function runStartup(opts: { scale: number }): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  lastStartup = [];
  for (const [h, c] of startupSizes(opts.scale)) {
    const f = await measureStartup(h, c);
    lastStartup.push(f);
    const n = h * c;
    const bare = `${f.workers} bare threads online (ms)`;
    out.push(makeResult(`${n} cores: main-thread prep, SAB ${f.sabMB.toFixed(0)} MiB (ms)`, 'ms', f.prepMs, bare, f.bareMs));
    out.push(makeResult(`${n} cores: threads + worker modules one by one (ms)`, 'ms', f.modulesMs, bare, f.bareMs));
    out.push(makeResult(`${n} cores: threads + worker bundle (ms)`, 'ms', f.bundleMs, 'threads + modules (ms)', f.modulesMs));
    out.push(makeResult(`${n} cores: all workers READY, bundle (ms)`, 'ms', f.readyMs, 'READY, modules (ms)', f.readyModulesMs));
    out.push(makeResult(`${n} cores: main run READY after the base-RTT probe, shared threads (ms)`, 'ms', f.sharedMs, 'probe and run each starting (ms)', f.twoStartsMs));
    out.push(makeResult(`${n} cores: peak RSS while starting, bundle (MiB)`, 'MiB', f.peakRssMB, 'with modules (MiB)', f.peakRssModulesMB));
  }
  return out;
}
