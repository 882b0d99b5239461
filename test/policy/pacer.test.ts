import { describe, expect, it } from 'vitest';
import { PACER_NAMES, PacerKind, createPacerPolicy, isPacerName, newPacerCheck, pacerKindOf } from '../../src/policy/pacer.js';
import type { PacerCheck } from '../../src/policy/types.js';

function check(over: Partial<PacerCheck>): PacerCheck {
  return { ...newPacerCheck(), maxBacklogNs: 5000, deferMinBytes: 1000, bytesLeft: 20000, messageBytes: 20000, ...over };
}

/** [description, check, nic-short, pacer-only, qdisc] */
const CASES: Array<[string, Partial<PacerCheck>, boolean, boolean, boolean]> = [
  ['idle link, nothing throttled', {}, true, true, true],
  ['backlog exactly at the limit', { nicBacklogNs: 5000 }, true, true, true],
  ['backlog 1 ns over the limit', { nicBacklogNs: 5001 }, false, false, false],
  ['idle link, 3 RPCs throttled', { throttledCount: 3 }, true, false, false],
  ['the pacer itself, 3 RPCs throttled', { throttledCount: 3, isPacer: true }, true, true, true],
  ['the pacer over the limit', { throttledCount: 3, isPacer: true, nicBacklogNs: 6000 }, false, false, false],
  ['1000 bytes left of a long message, over the limit, throttled', { bytesLeft: 1000, nicBacklogNs: 9000, throttledCount: 1 }, true, true, false],
  ['a 999-byte message, over the limit, throttled', { bytesLeft: 999, messageBytes: 999, nicBacklogNs: 9000, throttledCount: 1 }, true, true, true],
  ['a 1000-byte message, throttled', { bytesLeft: 1000, messageBytes: 1000, throttledCount: 1 }, true, true, false],
];

describe('built-in pacer policies', () => {
  for (const [what, over, nicShort, pacerOnly, qdisc] of CASES) {
    it(`${what}: nic-short ${nicShort}, pacer-only ${pacerOnly}, qdisc ${qdisc}`, () => {
      expect(createPacerPolicy('nic-short').mayTransmit(check(over))).toBe(nicShort);
      expect(createPacerPolicy('pacer-only').mayTransmit(check(over))).toBe(pacerOnly);
      expect(createPacerPolicy('qdisc').mayTransmit(check(over))).toBe(qdisc);
    });
  }

  it('names and kinds', () => {
    expect(PACER_NAMES.map((n) => createPacerPolicy(n).name)).toEqual(['pacer-only', 'nic-short', 'qdisc']);
    expect(PACER_NAMES.map(pacerKindOf)).toEqual([PacerKind.PACER_ONLY, PacerKind.NIC_SHORT, PacerKind.QDISC]);
    expect(pacerKindOf('/abs/my-pacer.mjs')).toBe(PacerKind.USER);
    expect(isPacerName('qdisc')).toBe(true);
    expect(isPacerName('heap')).toBe(false);
    expect(() => createPacerPolicy('fast' as 'qdisc')).toThrow(/no built-in policy 'fast'/);
  });
});
