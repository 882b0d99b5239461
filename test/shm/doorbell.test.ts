import { afterEach, describe, expect, it } from 'vitest';
import { DOORBELL_AWAKE, DOORBELL_PARKED, DOORBELL_RUNG, DOORBELL_STRIDE, Doorbells } from '../../src/shm/doorbell.js';
import { compiledUrl } from '../../src/util/paths.js';
import { WorkerGroup, newControl } from '../workers/shm-common.js';
import type { DoorbellWorkerResult } from '../workers/shm-doorbell.js';

function bells(n: number): Doorbells {
  return new Doorbells(new Int32Array(new SharedArrayBuffer(4 * Doorbells.wordsFor(n))), n);
}

describe('Doorbells, one thread', () => {
  it('gives each core its own cache line and checks the buffer size', () => {
    expect(DOORBELL_STRIDE * 4).toBe(64);
    expect(Doorbells.wordsFor(3)).toBe(48);
    expect(() => new Doorbells(new Int32Array(new SharedArrayBuffer(4 * 47)), 3)).toThrow(/need 48 words, got 47/);
  });

  it('ring on an awake core is a no-op (no wake-up counted)', () => {
    const b = bells(2);
    b.ring(1);
    expect(b.wakeups).toBe(0);
    expect(b.words[DOORBELL_STRIDE]).toBe(DOORBELL_AWAKE);
  });

  it('a ring between preparePark and sleep is not lost: sleep returns true at once', () => {
    const b = bells(2);
    expect(b.preparePark(1)).toBe(true);
    expect(b.isParked(1)).toBe(true);
    expect(b.isParked(0)).toBe(false);
    b.ring(1);
    expect(b.wakeups).toBe(1);
    expect(b.words[DOORBELL_STRIDE]).toBe(DOORBELL_RUNG);
    expect(b.sleep(1, 10_000)).toBe(true); // would block 10 s if the ring were lost
    expect(b.words[DOORBELL_STRIDE]).toBe(DOORBELL_AWAKE);
  });

  it('preparePark after a ring consumes it and returns false', () => {
    const b = bells(1);
    b.words[0] = DOORBELL_RUNG;
    expect(b.preparePark(0)).toBe(false);
    expect(b.words[0]).toBe(DOORBELL_AWAKE);
  });

  it('sleep without a ring times out and returns false; cancelPark goes back to AWAKE', () => {
    const b = bells(1);
    expect(b.preparePark(0)).toBe(true);
    expect(b.sleep(0, 1)).toBe(false);
    expect(b.words[0]).toBe(DOORBELL_AWAKE);
    expect(b.preparePark(0)).toBe(true);
    expect(b.cancelPark(0)).toBe(false);
    expect(b.words[0]).toBe(DOORBELL_AWAKE);
    expect(b.isParked(0)).toBe(false);
  });

  it('with an awake count attached, a wake-up counts the sleeper awake at the ring; cancelPark says it was rung', () => {
    const b = bells(2);
    const awake = new Int32Array(new SharedArrayBuffer(64));
    b.attachAwakeCount(awake, 3);
    b.ring(1); // not parked: nothing to count
    expect(awake[3]).toBe(0);
    expect(b.preparePark(1)).toBe(true);
    b.ring(1);
    b.ring(1); // already rung: counted once
    expect(awake[3]).toBe(1);
    expect(b.cancelPark(1)).toBe(true); // the caller must not count itself again
    expect(b.preparePark(1)).toBe(true);
    b.wake(1);
    expect(awake[3]).toBe(2);
    expect(b.sleep(1, 10_000)).toBe(true);
  });
});

const workerUrl = compiledUrl(import.meta.url, '../workers/shm-doorbell.js');
let group: WorkerGroup | undefined;
afterEach(async () => {
  await group?.terminate();
  group = undefined;
});

describe('Doorbells across threads', { timeout: 30_000 }, () => {
  it('a ring wakes a core sleeping in another thread', async () => {
    const words = new Int32Array(new SharedArrayBuffer(4 * Doorbells.wordsFor(2)));
    const b = new Doorbells(words, 2);
    const ctl = newControl();
    group = new WorkerGroup();
    group.spawn(workerUrl, { role: 'sleeper', ctl, words, core: 1, numCores: 2, timeoutMs: 60_000 });
    const done = group.run(ctl);
    // Wait (asynchronously) until the worker has announced PARKED, then ring.
    while (Atomics.load(ctl, 2) === 0) await new Promise((r) => setTimeout(r, 1));
    b.ring(1);
    const [r] = (await done) as DoorbellWorkerResult[];
    expect(r!.prepared).toBe(true);
    expect(r!.woken).toBe(true);
    expect(r!.wakeWord).toBe(DOORBELL_AWAKE);
    expect(b.wakeups).toBe(1);
    expect(b.isParked(1)).toBe(false);
    expect(words[1 * DOORBELL_STRIDE]).not.toBe(DOORBELL_PARKED);
  });
});
