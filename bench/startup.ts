/**
 * Start-up at scale (issue 11 item 7): how long a cluster of N emulated cores takes from
 * `runWorld` to every worker ready, and where the time goes. Measured per size: the main
 * thread's preparation (world module, layout, shared-memory allocation and initialisation, with
 * the SAB size), N bare worker threads coming online, N worker threads that also import the
 * core-worker module (thread + module loading), N that also load the Homa world's modules, and
 * the real start (thread + modules + each
 * core's setup: policies, NIC, sockets, apps) until all are READY, with the peak RSS of the
 * process while it starts. The baseline of each figure is the bare threads (the floor the
 * host's thread creation sets). Sizes: 32 and 255 emulated cores at scale 1 (tiny in tests).
 */
import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { resolveConfig } from '../src/config/config.js';
import { buildLayout } from '../src/run/orchestrator.js';
import { loadWorld, runWorld } from '../src/cluster/worlds.js';
import { allocate, subLayout } from '../src/shm/layout.js';
import { compiledUrl } from '../src/util/paths.js';
import { makeResult, type BenchResult } from './harness.js';

export interface StartupFigures {
  hosts: number; cores: number; workers: number; sabMB: number;
  prepMs: number; bareMs: number; importMs: number; worldMs: number; readyMs: number; totalMs: number; peakRssMB: number;
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

export async function measureStartup(hosts: number, cores: number): Promise<StartupFigures> {
  const cfg = resolveConfig({ hosts, cores, durationMs: 1, warmupMs: 0, baseRttUsecs: 15, clock: 'wall', dilation: 20, watchdogMs: 120_000 });
  let t = performance.now();
  const world = await loadWorld('homa');
  const { desc, totalWorkers } = buildLayout(cfg, world);
  const sab = allocate(desc);
  world.init(cfg, sab, subLayout(desc, 'world'));
  const prepMs = performance.now() - t;
  const sabMB = sab.byteLength / 2 ** 20;

  const bareMs = await threads(totalWorkers, "require('node:worker_threads').parentPort.postMessage(1)");
  const workerUrl = compiledUrl(import.meta.url, '../src/cpu/worker.js').href;
  const importMs = await threads(totalWorkers, `import(${JSON.stringify(workerUrl)}).then(() => require('node:worker_threads').parentPort.postMessage(1))`);
  const worldsUrl = compiledUrl(import.meta.url, '../src/cluster/worlds.js').href;
  const worldMs = await threads(totalWorkers, `Promise.all([import(${JSON.stringify(workerUrl)}), import(${JSON.stringify(worldsUrl)}).then((m) => m.loadWorld('homa'))])`
    + `.then(() => require('node:worker_threads').parentPort.postMessage(1))`);

  let peak = process.memoryUsage.rss();
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage.rss()); }, 50);
  let readyMs = NaN;
  t = performance.now();
  await runWorld('homa', cfg, { onReady: () => { readyMs = performance.now() - t; } });
  const totalMs = performance.now() - t;
  clearInterval(sampler);
  return { hosts, cores, workers: totalWorkers, sabMB, prepMs, bareMs, importMs, worldMs, readyMs, totalMs, peakRssMB: peak / 2 ** 20 };
}

/** The sizes measured: 32 and 255 emulated cores at full scale (4 x 8 and 5 x 51); 2 x 2 below scale 1. */
export function startupSizes(scale: number): Array<[number, number]> {
  return scale >= 1 ? [[4, 8], [5, 51]] : [[2, 2]];
}

export let lastStartup: StartupFigures[] = [];

export async function runStartup(opts: { scale: number }): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  lastStartup = [];
  for (const [h, c] of startupSizes(opts.scale)) {
    const f = await measureStartup(h, c);
    lastStartup.push(f);
    const base = `${f.workers} bare threads online (ms)`;
    out.push(makeResult(`${h * c} cores: main-thread prep, SAB ${f.sabMB.toFixed(0)} MiB (ms)`, 'ms', f.prepMs, base, f.bareMs));
    out.push(makeResult(`${h * c} cores: threads + worker module loaded (ms)`, 'ms', f.importMs, base, f.bareMs));
    out.push(makeResult(`${h * c} cores: ... + Homa world modules loaded (ms)`, 'ms', f.worldMs, base, f.bareMs));
    out.push(makeResult(`${h * c} cores: all workers READY (ms)`, 'ms', f.readyMs, base, f.bareMs));
    out.push(makeResult(`${h * c} cores: peak RSS while starting (MiB)`, 'MiB', f.peakRssMB, 'SAB (MiB)', f.sabMB));
  }
  return out;
}
