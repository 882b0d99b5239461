import { describe, expect, it } from 'vitest';
import { allocate } from '../../src/shm/layout.js';
import { VClock, VSync, initVsync, vsyncLayout } from '../../src/cpu/vsync.js';
import { zeroCosts } from '../../src/config/cost-profile.js';

function sync(workers: number, windowNs = 1000, det = false): VSync[] {
  const desc = vsyncLayout(workers);
  const sab = allocate(desc);
  initVsync(sab, desc, workers);
  return Array.from({ length: workers }, (_, w) => new VSync(sab, desc, workers, w, windowNs, det));
}

describe('VSync (conservative bounds, single-threaded)', () => {
  it('a worker may run up to W past the smallest other bound, never further', () => {
    const [a, b, c] = sync(3, 1000);
    a!.publish(5000, () => undefined);
    b!.publish(2000, () => undefined);
    c!.publish(Infinity, () => undefined); // idle: out of the minimum
    expect(a!.othersMin()).toBe(2000);
    expect(a!.argmin).toBe(1);
    expect(a!.mayRun(3000)).toBe(true);
    expect(a!.mayRun(3001)).toBe(false);
    expect(b!.mayRun(2000)).toBe(true);
  });

  it('a pusher lowers the consumer: the minimum cannot pass an item in flight until it is absorbed', () => {
    const [a, b] = sync(2, 0);
    a!.publish(Infinity, () => undefined);
    b!.publish(10_000, () => undefined);
    expect(b!.mayRun(10_000)).toBe(true);
    b!.lower(0, 4000); // worker 1 pushed an item for worker 0 at t = 4000
    expect(a!.wasLowered()).toBe(true);
    expect(b!.othersMin()).toBe(4000);
    expect(b!.mayRun(10_000)).toBe(false);
    expect(a!.absorb()).toBe(4000);
    expect(a!.wasLowered()).toBe(false);
    // The owner's own bound now carries the item until it publishes a new one.
    expect(b!.othersMin()).toBe(4000);
    a!.publish(4500, () => undefined);
    expect(b!.othersMin()).toBe(4500);
  });

  it('deterministic mode: only the holder of the minimum runs, ties to the lower id', () => {
    const [a, b] = sync(2, 1000, true);
    a!.publish(100, () => undefined);
    b!.publish(100, () => undefined);
    expect(a!.mayRun(100)).toBe(true);
    expect(b!.mayRun(100)).toBe(false);
    expect(b!.mayRun(99)).toBe(true);
    expect(a!.acquireTurn(() => false)).toBe(true);
    expect(b!.acquireTurn(() => true)).toBe(false); // held: gives up once stopped
    a!.releaseTurn();
    expect(b!.acquireTurn(() => false)).toBe(true);
  });

  it('a worker kept from the turn for long sleeps on the token and takes it once it is released', () => {
    const [a, b] = sync(2, 0, true);
    expect(a!.acquireTurn(() => false)).toBe(true);
    let checks = 0;
    // Past the spin budget b sleeps on the token (1 ms at a time); the holder lets go after 300 checks.
    const got = b!.acquireTurn(() => {
      if (++checks === 300) a!.releaseTurn();
      return false;
    });
    expect(got).toBe(true);
    expect(checks).toBe(300);
    expect(a!.acquireTurn(() => true)).toBe(false); // b holds it now
    b!.releaseTurn();
    expect(a!.acquireTurn(() => false)).toBe(true);
  });

  it('raising a bound rings only the waiters that hold the new minimum', () => {
    const [a, b, c, d] = sync(4, 1000);
    a!.publish(0, () => undefined);
    b!.publish(500, () => undefined);
    c!.publish(700, () => undefined);
    d!.publish(9000, () => undefined);
    b!.block(0);
    c!.block(0);
    d!.block(0);
    const rung: number[] = [];
    a!.publish(400, (w) => rung.push(w)); // a still holds the minimum: c (700) may run within W, but nobody is rung
    expect(rung).toEqual([]);
    a!.publish(600, (w) => rung.push(w)); // b (500) holds the minimum now; c (700) is within W of it, d is not
    expect(rung).toEqual([1]);
    b!.unblock();
    b!.publish(9000, () => undefined);
    c!.unblock();
    c!.publish(9000, () => undefined);
    a!.publish(9500, (w) => rung.push(w)); // b, c and d tie at the minimum: only the waiter d is rung
    expect(rung).toEqual([1, 3]);
    d!.unblock();
    a!.publish(20_000, (w) => rung.push(w)); // nobody waits
    expect(rung).toEqual([1, 3]);
  });

  it('mayRun keeps a floor of the others\' minimum, lowered by its own pushes, so a batch of events needs one scan', () => {
    const [a, b, c] = sync(3, 1000);
    a!.publish(0, () => undefined);
    b!.publish(5000, () => undefined);
    c!.publish(8000, () => undefined);
    expect(a!.mayRun(6000)).toBe(true); // scanned: the others' minimum is 5000
    b!.publish(7000, () => undefined);
    expect(a!.mayRun(6000)).toBe(true); // under the floor (5000 + W): no scan needed, still true
    expect(a!.mayRun(7500)).toBe(true); // above it: a new scan finds 7000
    a!.lower(2, 1500); // a pushes an item stamped 1500 to c: c's bound, and the floor, drop to it
    expect(a!.mayRun(2500)).toBe(true);
    expect(a!.mayRun(2501)).toBe(false);
    c!.absorb();
    c!.publish(9000, () => undefined);
    expect(a!.mayRun(7500)).toBe(true);
  });
});

describe('VClock.take (the fidelity monitor)', () => {
  it('starts an item at max(clock, stamp) and counts one stamped before a jump already made', () => {
    const vc = new VClock(true, zeroCosts());
    vc.t = 1000;
    expect(vc.take(1500)).toBe(1500);
    expect(vc.take(1200)).toBe(1500); // queued behind: normal, not late
    expect(vc.lateItems).toBe(0);
    vc.idleEnd = 5000; // the core jumped over [1500, 5000) believing it had nothing
    vc.t = 5000;
    expect(vc.take(4200)).toBe(5000);
    expect(vc.lateItems).toBe(1);
    expect(vc.lateMaxNs).toBe(800);
  });
});
