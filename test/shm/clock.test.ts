import { afterEach, describe, expect, it } from 'vitest';
import { CLOCK_WORDS, ManualClock, initClockOrigin, nowNs, ns32, ns32Diff } from '../../src/shm/clock.js';
import { compiledUrl } from '../../src/util/paths.js';
import { WorkerGroup, newControl } from '../workers/shm-common.js';
import type { DoorbellWorkerResult } from '../workers/shm-doorbell.js';

describe('ns32 / ns32Diff', () => {
  it('keeps the low 32 bits and compares across the wrap', () => {
    expect(ns32(5)).toBe(5);
    expect(ns32(2 ** 32 + 7)).toBe(7);
    expect(ns32(2 ** 31)).toBe(-(2 ** 31));
    const a = ns32(2 ** 32 - 10);
    const b = ns32(2 ** 32 + 10);
    expect(ns32Diff(b, a)).toBe(20);
    expect(ns32Diff(a, b)).toBe(-20);
    expect(ns32Diff(ns32(3_000_000_123), ns32(3_000_000_000))).toBe(123);
  });
});

describe('ManualClock', () => {
  it('only moves when told', () => {
    const c = new ManualClock(100);
    expect(c.now()).toBe(100);
    expect(c.advance(50)).toBe(150);
    expect(c.now()).toBe(150);
  });
});

const workerUrl = compiledUrl(import.meta.url, '../workers/shm-doorbell.js');
let group: WorkerGroup | undefined;
afterEach(async () => {
  await group?.terminate();
  group = undefined;
});

describe('shared clock', { timeout: 30_000 }, () => {
  it('initClockOrigin starts the clock near zero and it never goes back', () => {
    const words = new Int32Array(new SharedArrayBuffer(4 * CLOCK_WORDS));
    initClockOrigin(words);
    let prev = nowNs();
    expect(prev).toBeGreaterThanOrEqual(-1e6); // within the ~µs error of the two readings
    for (let i = 0; i < 1000; i++) {
      const t = nowNs();
      expect(t).toBeGreaterThanOrEqual(prev);
      prev = t;
    }
  });

  it('a worker that attaches reads the same clock as the main thread', async () => {
    const words = new Int32Array(new SharedArrayBuffer(4 * CLOCK_WORDS));
    initClockOrigin(words);
    const ctl = newControl();
    group = new WorkerGroup();
    group.spawn(workerUrl, { role: 'clock', ctl, words, core: 0, numCores: 1, timeoutMs: 0 });
    const before = nowNs();
    const [r] = (await group.run(ctl)) as DoorbellWorkerResult[];
    const after = nowNs();
    // The worker read its clock after `before` and before `after` (causally); allow 1 ms for
    // the error of each thread's offset estimate.
    expect(r!.nowNs).toBeGreaterThan(before - 1e6);
    expect(r!.nowNs).toBeLessThan(after + 1e6);
  });
});
