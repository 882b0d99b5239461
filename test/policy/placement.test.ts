import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/config.js';
import { NEVER_NS, createOffloadState } from '../../src/policy/offload.js';
import {
  PlacementMode, WAKEUP_PLACEMENT_FORMS, parseWakeupPlacement, placeWakeup, type PlacementRng,
} from '../../src/policy/placement.js';
import { ManualClock } from '../../src/shm/clock.js';
import { Rng } from '../../src/util/rng.js';

const BUSY_NS = 100_000; // busy_usecs = 100

/** A random stream that replays given values and counts what was drawn. */
class ScriptedRng implements PlacementRng {
  floats = 0;
  indices: number[] = [];
  constructor(private readonly f: number[], private readonly k: number[] = []) {}
  nextFloat(): number { this.floats++; return this.f.shift()!; }
  nextBelow(n: number): number { const k = this.k.shift()!; this.indices.push(n); return k; }
}

describe('parseWakeupPlacement', () => {
  it('accepts stay, move:P for P in [0, 1], least-busy and idle', () => {
    expect(parseWakeupPlacement('stay')).toEqual({ mode: PlacementMode.STAY, moveProb: 0 });
    expect(parseWakeupPlacement('move:0.25')).toEqual({ mode: PlacementMode.MOVE, moveProb: 0.25 });
    expect(parseWakeupPlacement('move:0')).toEqual({ mode: PlacementMode.MOVE, moveProb: 0 });
    expect(parseWakeupPlacement('move:1')).toEqual({ mode: PlacementMode.MOVE, moveProb: 1 });
    expect(parseWakeupPlacement('least-busy')).toEqual({ mode: PlacementMode.LEAST_BUSY, moveProb: 0 });
    expect(parseWakeupPlacement('idle')).toEqual({ mode: PlacementMode.IDLE, moveProb: 0 });
  });

  it('refuses anything else with EINVALIDOPT naming the option, the forms and the value', () => {
    for (const bad of ['move:1.5', 'move:-0.1', 'move:', 'move:x', 'moving', 'Stay', '']) {
      expect(() => parseWakeupPlacement(bad)).toThrow(expect.objectContaining({
        code: 'EINVALIDOPT', message: `--wakeup-placement: expected ${WAKEUP_PLACEMENT_FORMS}, got ${JSON.stringify(bad)}`,
      }));
    }
  });

  it('is checked by resolveConfig (default stay)', () => {
    expect(resolveConfig({}).wakeupPlacement).toBe('stay');
    expect(resolveConfig({ wakeupPlacement: 'move:0.5' }).wakeupPlacement).toBe('move:0.5');
    expect(() => resolveConfig({ wakeupPlacement: 'move:2' })).toThrow(expect.objectContaining({ code: 'EINVALIDOPT' }));
  });
});

describe('placeWakeup', () => {
  it("'stay' wakes where the thread slept and draws nothing", () => {
    const st = createOffloadState(4);
    const rng = new ScriptedRng([]);
    for (let c = 0; c < 4; c++) expect(placeWakeup(parseWakeupPlacement('stay'), c, 1000, st, BUSY_NS, rng)).toBe(c);
    expect(rng.floats).toBe(0);
  });

  it("'move:P' moves when the draw is below P, to a uniformly drawn OTHER core", () => {
    const st = createOffloadState(4);
    const p = parseWakeupPlacement('move:0.5');
    // From core 1: index k of the 3 others (0, 2, 3).
    const rng = new ScriptedRng([0.49, 0.49, 0.49, 0.5, 0.99], [0, 1, 2]);
    expect([0, 1, 2, 3, 4].map(() => placeWakeup(p, 1, 1000, st, BUSY_NS, rng))).toEqual([0, 2, 3, 1, 1]);
    expect(rng.floats).toBe(5);
    expect(rng.indices).toEqual([3, 3, 3]);
    // move:0 never moves, move:1 always does; a 1-core host stays without drawing.
    expect(placeWakeup(parseWakeupPlacement('move:0'), 2, 0, st, BUSY_NS, new ScriptedRng([0]))).toBe(2);
    expect(placeWakeup(parseWakeupPlacement('move:1'), 3, 0, st, BUSY_NS, new ScriptedRng([0.999999], [2]))).toBe(2);
    const one = new ScriptedRng([]);
    expect(placeWakeup(parseWakeupPlacement('move:1'), 0, 0, createOffloadState(1), BUSY_NS, one)).toBe(0);
    expect(one.floats).toBe(0);
  });

  it("'move:0.5' with seed 7: an exact number of moves over 10,000 wake-ups, never to the core it slept on", () => {
    const st = createOffloadState(4);
    const p = parseWakeupPlacement('move:0.5');
    const rng = Rng.derive(7, 0, 1);
    const to = [0, 0, 0, 0];
    for (let i = 0; i < 10_000; i++) to[placeWakeup(p, 2, i, st, BUSY_NS, rng)]!++;
    // The same draws by hand: a float below 0.5 moves, then an index among the 3 other cores.
    const ref = Rng.derive(7, 0, 1);
    const expected = [0, 0, 0, 0];
    for (let i = 0; i < 10_000; i++) {
      if (ref.nextFloat() >= 0.5) { expected[2]!++; continue; }
      const k = ref.nextBelow(3);
      expected[k >= 2 ? k + 1 : k]!++;
    }
    expect(to).toEqual(expected);
    expect(to).toEqual([1663, 1736, 4929, 1672]);
    expect(10_000 - to[2]!).toBe(5071); // about half, spread evenly over the 3 other cores
  });

  it("'least-busy' takes the core whose latest NAPI/SoftIRQ or app activity is oldest, ties to the lowest index", () => {
    const st = createOffloadState(4);
    const p = parseWakeupPlacement('least-busy');
    const rng = new ScriptedRng([]);
    // Nothing happened anywhere yet: all tie at NEVER_NS.
    expect(placeWakeup(p, 3, 0, st, BUSY_NS, rng)).toBe(0);
    const clock = new ManualClock(1_000_000);
    st.noteSoftirqStart(0, clock.now()); // core 0: last_active 1,000,000
    clock.advance(10);
    st.noteAppActive(1, clock.now()); // core 1: app 1,000,010
    st.noteGroStart(2, 500_000); // core 2: NAPI 500,000, app 2,000,000 -> most recent 2,000,000
    st.noteAppActive(2, 2_000_000);
    st.noteGroStart(3, 999_999); // core 3: 999,999 -> the oldest
    expect(placeWakeup(p, 0, clock.now(), st, BUSY_NS, rng)).toBe(3);
    st.noteAppActive(3, 1_000_000); // core 3 ties core 0 at 1,000,000: the lower index wins
    expect(placeWakeup(p, 3, clock.now(), st, BUSY_NS, rng)).toBe(0);
    expect(rng.floats).toBe(0);
    expect(st.lastAppActiveNs[0]).toBe(NEVER_NS); // pure: nothing is stamped
  });

  it("'idle' takes the first core after the previous one (wrapping) with no activity within busy_usecs, else stays", () => {
    const st = createOffloadState(4);
    const p = parseWakeupPlacement('idle');
    const clock = new ManualClock(10_000_000);
    const now = clock.now();
    const rng = new ScriptedRng([]);
    // Every core idle: the one after the previous core.
    expect(placeWakeup(p, 1, now, st, BUSY_NS, rng)).toBe(2);
    expect(placeWakeup(p, 3, now, st, BUSY_NS, rng)).toBe(0); // wraps
    st.noteAppActive(2, now - 50_000); // core 2: app thread 50 us ago
    expect(placeWakeup(p, 1, now, st, BUSY_NS, rng)).toBe(3);
    st.noteSoftirqStart(3, now - BUSY_NS); // exactly busy_usecs ago still counts as busy
    expect(placeWakeup(p, 1, now, st, BUSY_NS, rng)).toBe(0);
    st.noteGroStart(0, now - 1);
    expect(placeWakeup(p, 1, now, st, BUSY_NS, rng)).toBe(1); // every other core busy: stay
    // Time passes: core 2's activity is now more than busy_usecs old.
    clock.advance(50_001);
    expect(placeWakeup(p, 1, clock.now(), st, BUSY_NS, rng)).toBe(2);
    expect(rng.floats).toBe(0);
  });
});
