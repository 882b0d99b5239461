import { describe, expect, it } from 'vitest';
import { parseStalls, StallSchedule } from '../../src/cpu/faults.js';

describe('parseStalls', () => {
  it('parses host.core, global index and all', () => {
    expect(parseStalls('core=1.0,ms=10,every=200', 2, 4)).toEqual([{ globalCore: 4, durationMs: 10, everyMs: 200, offsetMs: 200 }]);
    expect(parseStalls('core=3,ms=5,every=50,offset=0; core=all,ms=1,every=10', 2, 4)).toEqual([
      { globalCore: 3, durationMs: 5, everyMs: 50, offsetMs: 0 },
      { globalCore: -1, durationMs: 1, everyMs: 10, offsetMs: 10 },
    ]);
    expect(parseStalls('', 2, 4)).toEqual([]);
  });

  it.each(['core=9,ms=1,every=10', 'core=2.0,ms=1,every=10', 'core=1,ms=10,every=10', 'core=1,ms=1', 'cpu=1,ms=1,every=10', 'garbage'])(
    'rejects %s with a coded error naming --stall', (spec) => {
      expect(() => parseStalls(spec, 2, 4)).toThrow(/^--stall: expected /);
    });
});

describe('StallSchedule', () => {
  it('fires once per period on the cores it names, from the offset', () => {
    const stalls = parseStalls('core=1,ms=2,every=10,offset=5', 1, 2);
    const s1 = new StallSchedule(stalls, 1, 0, 1);
    const s0 = new StallSchedule(stalls, 0, 0, 1);
    expect(s0.active).toBe(false);
    expect(s1.due(4.9e6)).toBe(0);
    expect(s1.due(5e6)).toBe(2e6);
    expect(s1.due(6e6)).toBe(0);
    expect(s1.due(15e6)).toBe(2e6);
    // Missed periods are skipped, not replayed back to back.
    expect(s1.due(100e6)).toBe(2e6);
    expect(s1.due(101e6)).toBe(0);
  });

  it('stretches stalls by the dilation', () => {
    const s = new StallSchedule(parseStalls('core=all,ms=1,every=4,offset=0', 1, 1), 0, 0, 10);
    expect(s.due(0)).toBe(10e6);
    expect(s.due(39e6)).toBe(0);
    expect(s.due(40e6)).toBe(10e6);
  });
});
