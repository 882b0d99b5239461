/** Hand-made runs for the plot and HTML report tests: every figure computed from synthetic samples. */
import { NUM_ROLES, ROLE_NAMES } from '../../src/cpu/context.js';
import type { CoreRow } from '../../src/metrics/cores.js';
import { computeDigest } from '../../src/metrics/digest.js';
import type { SummarySource } from '../../src/metrics/html-report.js';
import type { LockRow } from '../../src/metrics/locks.js';
import type { PlotSource } from '../../src/metrics/plots.js';

function lock(cls: string, acquisitions: number, waitPctCore: number): LockRow {
  return {
    cls, acquisitions, acquisitionsPerSec: acquisitions, misses: 0, contendedPct: 0, waitPctCore, nsPerMiss: 0, p99WaitNs: 0,
    p99MissWaitNs: 0, maxWaitNs: 0, holdPctCore: 0, handoffsPerSec: 0, trylockFails: 0, topWaiters: [],
  };
}

function core(g: number, shares: Partial<Record<(typeof ROLE_NAMES)[number], number>>): CoreRow {
  const share: Record<string, number> = {};
  for (let r = 0; r < NUM_ROLES; r++) share[ROLE_NAMES[r]!] = 0;
  Object.assign(share, shares);
  const busy = ['napi', 'softirq', 'bypass', 'pacer', 'timer', 'app', 'kthread'].reduce((a, r) => a + share[r]!, 0);
  share['idle'] = 1 - busy - share['stolen']! - share['stall']!;
  return {
    globalCore: g, host: g >> 1, core: g & 1, label: `h${g >> 1}.c${g & 1}`, share, busy, windowNs: 1e6, passes: 0, parks: 0,
    ipisSent: 0, stolenGaps: 0, maxGapUs: 0, stalls: 0,
  };
}

/** A run whose RTTs are `scale` times a fixed pattern over lengths 100..100000 B. */
export function fakeRun(scale: number, busiestShare: number): PlotSource & SummarySource {
  const n = 2000;
  const lengths = new Int32Array(n);
  const rttNs = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    lengths[i] = [100, 100, 100, 500, 1000, 1000, 5000, 20000, 100000, 100][i % 10]!;
    rttNs[i] = scale * (10_000 + lengths[i]! * 2 + (i % 97) * 300);
  }
  const digest = computeDigest({ lengths, rttNs }, { linkMbps: 25000, baseRttUs: 10 });
  const cores = [core(0, { napi: busiestShare, softirq: 0.1 }), core(1, { app: 0.3, stolen: 0.05 }), core(2, { softirq: 0.2 }), core(3, { pacer: 0.1, app: 0.1 })];
  return {
    header: { hosts: 2, coresPerHost: 2, workload: 'w4', gbps: 1, baseRttUs: 10, emulatedSec: 0.05, dilation: 20 },
    throughput: { rpcsPerSec: 40000 / scale },
    latency: { digest },
    cores,
    busiest: 'h0.c0',
    handoff: { cdf: { groToSoftirq: [[500, 0], [900, 0.5], [3000 * scale, 0.99], [9000 * scale, 1]], softirqToApp: [[1500, 0], [2000, 0.5], [8000 * scale, 1]] } },
    locks: [lock('client', 100, 1.5 * scale), lock('server', 100, 0.5), lock('grant', 0, 0)],
  };
}
