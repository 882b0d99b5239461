/**
 * End-to-end echo throughput on real worker threads: a Homa world of 2 hosts x 2 cores (plus
 * the fabric worker), each host running `E2E_CLIENTS_PER_HOST` closed-loop client threads that
 * send 100-byte requests to the other host's echo server (2 threads), one request outstanding
 * per client thread, so `2 x E2E_CLIENTS_PER_HOST` RPCs are in flight at any time. The figure is
 * RPCs per second of wall time over the measured window (Homa's client_responses_done counters,
 * which cover exactly that window). The baseline, measured in the same run, is the raw rate of
 * one `SpscRing` between two threads (this thread pushes, a worker pops, one item at a time):
 * what the machine's cross-thread shared-memory traffic allows before any protocol work. This
 * module is also the world module the workers load (from dist/), through its `world` export.
 */
import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { resolveConfig } from '../src/config/config.js';
import { runWorld } from '../src/cluster/worlds.js';
import { allocate } from '../src/shm/layout.js';
import { SpscRing, ringLayout } from '../src/shm/ring.js';
import { compiledUrl } from '../src/util/paths.js';
import { makeHomaWorld, type collectHoma } from '../src/cluster/homa-world.js';
import type { HomaAppsSpec } from '../src/workload/echo.js';
import { makeResult, type BenchResult } from './harness.js';

/** Closed-loop client threads per host (each keeps one RPC outstanding). */
export const E2E_CLIENTS_PER_HOST = 4;
/** Request and response payload (bytes). */
export const E2E_MSG_BYTES = 100;

/** Both hosts serve port 1000 (2 threads) and run looping 100 B clients aimed at the other host. */
export function e2eApps(): HomaAppsSpec {
  const spec: HomaAppsSpec = { servers: [], clients: [] };
  for (let h = 0; h < 2; h++) spec.servers.push({ host: h, port: 1000, threads: 2, serviceUsecs: 0 });
  for (let h = 0; h < 2; h++) {
    for (let i = 0; i < E2E_CLIENTS_PER_HOST; i++) {
      spec.clients.push({ host: h, port: 40000 + i, dstHost: 1 - h, dstPort: 1000, lengths: [E2E_MSG_BYTES], loop: true });
    }
  }
  return spec;
}

/** The world the workers load from dist/bench/e2e.js. */
export const world = makeHomaWorld({ apps: e2eApps });

export interface E2eRun {
  rpcsPerSec: number;
  rpcs: number;
  measuredNs: number;
  mismatches: number;
  errors: number;
}

/** One measured run of `durationMs` (after `warmupMs`) on real workers. */
export async function e2eRun(durationMs: number, warmupMs: number, idleMode: 'park' | 'hybrid' | 'poll'): Promise<E2eRun> {
  const cfg = resolveConfig({
    hosts: 2, cores: 2, clock: 'wall', durationMs, warmupMs, idleMode, maxRpcsPerHost: 256, bpagesPerHost: 64,
    ringSlots: 1024, watchdogMs: 20_000,
    // Workers of an oversubscribed machine go silent for tens of ms: abort after 5 s, not 100 ms.
    timeoutTicks: 5000,
  });
  const run = await runWorld(compiledUrl(import.meta.url, './e2e.js').href, cfg);
  const r = run.worldResult as ReturnType<typeof collectHoma>;
  let rpcs = 0;
  let mismatches = 0;
  let errors = 0;
  for (const h of r.hosts) {
    rpcs += h.metrics['client_responses_done']!;
    mismatches += h.app['mismatches']!;
    errors += h.app['errors']!;
  }
  return { rpcsPerSec: run.measuredNs > 0 ? rpcs / (run.measuredNs / 1e9) : 0, rpcs, measuredNs: run.measuredNs, mismatches, errors };
}

// The consumer of the baseline: a CommonJS worker that imports the compiled ring.
const CONSUMER_SRC = `
const { workerData } = require('node:worker_threads');
import(workerData.ringUrl).then(({ SpscRing }) => {
  const ring = new SpscRing(workerData.sab, workerData.desc);
  const ctl = workerData.ctl;
  Atomics.store(ctl, 0, 1);
  let got = 0;
  let sum = 0;
  while (got < workerData.items) {
    const v = ring.pop();
    if (v >= 0) { got++; sum += v; }
  }
  Atomics.store(ctl, 2, sum % 1000000007);
  Atomics.store(ctl, 1, 1);
});
`;

/** Items per second through one SpscRing from this thread to a worker (one push / pop per item). */
export async function spscCrossThreadRate(items: number): Promise<number> {
  const desc = ringLayout(1024, 'spsc');
  const sab = allocate(desc);
  const ring = new SpscRing(sab, desc);
  const ctl = new Int32Array(new SharedArrayBuffer(16));
  const w = new Worker(CONSUMER_SRC, {
    eval: true,
    workerData: { ringUrl: compiledUrl(import.meta.url, '../src/shm/ring.js').href, sab, desc, ctl, items },
  });
  const exited = new Promise<void>((resolve, reject) => { w.once('exit', () => resolve()); w.once('error', reject); });
  while (Atomics.load(ctl, 0) === 0) await new Promise((r) => setTimeout(r, 1));
  let expect = 0;
  const t0 = performance.now();
  for (let i = 0; i < items; i++) {
    const v = i & 0xffff;
    while (!ring.push(v)) { /* full: spin */ }
    expect = (expect + v) % 1000000007;
  }
  while (Atomics.load(ctl, 1) === 0) { /* spin until the consumer has them all */ }
  const sec = (performance.now() - t0) / 1000;
  await exited;
  if (Atomics.load(ctl, 2) !== expect) throw new Error('spsc baseline: the consumer saw different items');
  return items / sec;
}

/** The last run's details (per idle mode), for printing and RESULTS.md. */
export const lastE2e: Record<string, E2eRun> = {};

/** Idle modes measured: park (Atomics.wait at once) and hybrid (spin, then park; the default). */
export const E2E_IDLE_MODES = ['park', 'hybrid'] as const;

export async function runE2e(opts: { scale: number }): Promise<BenchResult[]> {
  const durationMs = Math.max(300, Math.round(5000 * opts.scale));
  const warmupMs = Math.max(100, Math.round(1000 * Math.min(1, opts.scale)));
  const baseline = await spscCrossThreadRate(Math.max(100_000, Math.round(10_000_000 * opts.scale)));
  const out: BenchResult[] = [];
  for (const idle of E2E_IDLE_MODES) {
    const run = await e2eRun(durationMs, warmupMs, idle);
    lastE2e[idle] = run;
    if (run.mismatches > 0 || run.errors > 0) {
      throw new Error(`e2e bench (--idle-mode ${idle}): ${run.mismatches} mismatching response(s) and ${run.errors} error(s)`);
    }
    out.push(makeResult(`e2e 100 B echo, 2x2 cores, ${2 * E2E_CLIENTS_PER_HOST} outstanding, idle ${idle}`, 'ops/s', run.rpcsPerSec,
      'SpscRing push/pop, 2 threads', baseline));
  }
  return out;
}
