import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/shm/clock.js';
import { WaitState } from '../../src/policy/wait.js';

describe('WaitState', () => {
  it('counts a message ready before the first poll as wait_none', () => {
    const clock = new ManualClock(1000);
    const w = new WaitState();
    w.start(clock.now());
    expect(w.ready(clock.advance(300))).toBe('none');
    expect(w.toMetrics()).toEqual({ wait_none: 1, wait_fast: 0, wait_block: 0, poll_ns: 0, blocked_ns: 0 });
  });

  it('counts a message arriving while polling as wait_fast with its polling time', () => {
    const clock = new ManualClock(1000);
    const w = new WaitState('poll-then-block', 50_000);
    w.start(clock.now());
    expect(w.poll(clock.advance(10_000))).toBe('keep-polling');
    expect(w.poll(clock.advance(39_999))).toBe('keep-polling'); // 49.999 us since start
    expect(w.ready(clock.advance(1))).toBe('fast');
    expect([w.waitFast, w.pollNs, w.blockedNs]).toEqual([1, 50_000, 0]);
  });

  it('blocks once poll_usecs have passed and counts the blocked time', () => {
    const clock = new ManualClock(0);
    const w = new WaitState('poll-then-block', 50_000);
    w.start(clock.now());
    expect(w.poll(clock.advance(20_000))).toBe('keep-polling');
    expect(w.poll(clock.advance(30_000))).toBe('block'); // exactly 50 us
    expect(w.poll(clock.advance(5_000))).toBe('block');
    expect(w.ready(clock.advance(25_000))).toBe('block');
    expect(w.toMetrics()).toEqual({ wait_none: 0, wait_fast: 0, wait_block: 1, poll_ns: 50_000, blocked_ns: 30_000 });
  });

  it('keeps polling past the deadline while reaping does work', () => {
    const w = new WaitState('poll-then-block', 50_000);
    w.start(0);
    expect(w.poll(60_000, true)).toBe('keep-polling');
    expect(w.poll(61_000)).toBe('block');
  });

  it("'poll' never blocks; 'block' sleeps at the first empty poll", () => {
    const p = new WaitState('poll');
    p.start(0);
    expect(p.poll(1e9)).toBe('keep-polling');
    expect(p.ready(1e9 + 5)).toBe('fast');
    const b = new WaitState('block', 50_000);
    b.start(0);
    expect(b.poll(0)).toBe('block');
    expect(b.ready(7_000)).toBe('block');
    expect([b.blockedNs, b.pollNs]).toEqual([7_000, 0]);
    b.start(10_000);
    expect(b.ready(10_000)).toBe('none');
  });

  it('adds up counters over several waits', () => {
    const w = new WaitState();
    w.start(0);
    w.poll(1_000);
    w.ready(2_000); // fast, 2 us polling
    w.start(10_000);
    w.poll(60_000); // block after 50 us
    w.ready(70_000);
    w.start(100_000);
    w.ready(100_000); // none
    expect(w.toMetrics()).toEqual({ wait_none: 1, wait_fast: 1, wait_block: 1, poll_ns: 52_000, blocked_ns: 10_000 });
  });

  it('abandon ends a wait, counting its time but no outcome', () => {
    const w = new WaitState();
    w.start(0);
    w.poll(50_000);
    w.abandon(80_000);
    expect([w.waitBlock, w.blockedNs, w.pollNs]).toEqual([0, 30_000, 50_000]);
    w.start(100_000);
    expect(w.ready(100_000)).toBe('none');
  });

  it('rejects misuse and bad options', () => {
    const w = new WaitState();
    expect(() => w.ready(0)).toThrow(/without start/);
    expect(() => w.poll(0)).toThrow(/without start/);
    w.start(0);
    expect(() => w.start(1)).toThrow(/already waiting/);
    expect(() => new WaitState('spin' as 'poll')).toThrow(expect.objectContaining({ code: 'EINVALIDOPT', message: '--wait-mode: expected one of poll-then-block, poll, block, got "spin"' }));
    expect(() => new WaitState('poll-then-block', -1000)).toThrow(expect.objectContaining({ code: 'EINVALIDOPT', message: '--poll-usecs: expected a time >= 0, got -1' }));
  });
});
