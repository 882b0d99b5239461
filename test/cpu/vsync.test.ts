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

  it('a pusher never lowers a consumer below its shared clock: it starts nothing earlier', () => {
    const [a, b, c] = sync(3, 1000);
    a!.publish(50_000, () => undefined);
    a!.shareClock(50_000); // a ran a long unit: its clock is past everyone's
    b!.publish(1000, () => undefined);
    c!.publish(9000, () => undefined);
    b!.lower(0, 2000); // an item for a stamped 2000: a takes it at 50 000 at the earliest
    expect(a!.absorb()).toBe(50_000);
    expect(c!.othersMin()).toBe(1000);
    b!.publish(60_000, () => undefined);
    expect(c!.othersMin()).toBe(50_000); // not 2000: the item does not hold c back
    b!.lower(2, 3000); // c has shared no clock (0): lowered to the stamp
    expect(a!.othersMin()).toBe(3000);
  });

  it('a push wakes its consumer only when the consumer could run the item now', () => {
    const [a, b, c] = sync(3, 1000);
    a!.publish(100, () => undefined);
    b!.publish(Infinity, () => undefined);
    c!.publish(Infinity, () => undefined);
    b!.block(0);
    c!.block(0);
    // b waits (registered): an item at 5000 is beyond W of a's bound (100): no wake-up now.
    expect(a!.lowerDue(1, 5000)).toBe(false);
    expect(b!.wasLowered()).toBe(true); // but its bound carries it
    expect(a!.lowerDue(2, 1100)).toBe(true); // within W of the minimum: wake
    c!.unblock();
    expect(a!.lowerDue(2, 50_000)).toBe(true); // not registered as waiting: always woken
    // The rise that makes b the minimum rings it.
    c!.absorb();
    c!.publish(60_000, () => undefined);
    const rung: number[] = [];
    a!.publish(6000, (w) => rung.push(w));
    expect(rung).toEqual([1]);
    // A consumer whose clock is past the window is not woken for an item it could take only later.
    b!.absorb();
    b!.publish(8000, () => undefined);
    b!.shareClock(8000);
    expect(a!.lowerDue(1, 6100)).toBe(false);
    expect(sync(2, 1000, true)[0]!.lowerDue(1, 1e9)).toBe(true); // deterministic mode: always
  });
});

describe('VSync.othersMin (a scan that an item crosses)', () => {
  it('scans again when a lowering happened during the scan, so an item moving between workers is never missed', () => {
    const desc = vsyncLayout(3);
    const sab = allocate(desc);
    initVsync(sab, desc, 3);
    const fabric = new VSync(sab, desc, 3, 2, 1000, false);
    const core0 = new VSync(sab, desc, 3, 0, 1000, false);
    let scans = 0;
    /** Core 1 reads core 0, then (between the two reads) the fabric hands its item to core 0 and goes idle, then reads the fabric. */
    class Interleaved extends VSync {
      protected override scanOthers(): number {
        scans++;
        if (scans > 1) return super.scanOthers();
        const seen0 = core0.boundOf(0);
        fabric.lower(0, 5000); // the item reaches core 0, already read
        fabric.publish(Infinity, () => undefined); // and leaves the fabric, not yet read
        return Math.min(seen0, fabric.boundOf(2)); // what a one-pass scan would have found
      }
    }
    const core1 = new Interleaved(sab, desc, 3, 1, 1000, false);
    core0.publish(50_000, () => undefined);
    fabric.publish(4000, () => undefined); // holding the item (stamp 5000) as its next event
    expect(core1.othersMin()).toBe(5000); // not 50 000: the rescan finds the item at core 0
    expect(scans).toBe(2);
    expect(core1.mayRun(6000)).toBe(true);
    expect(core1.mayRun(6001)).toBe(false);
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
