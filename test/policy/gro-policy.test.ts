import { describe, expect, it } from 'vitest';
import {
  HOMA_GRO_GEN3_PRESET, HOMA_GRO_NORMAL, groBusy, parseGroPolicy, shouldBypassData, shouldBypassGrant,
} from '../../src/policy/gro-policy.js';

describe('parseGroPolicy', () => {
  const gen2 = { mask: 0x72, steering: 'gen2', shortBypass: true, fastGrants: true, sameCoreForSingle: true };
  const gen3 = { mask: 0xe2, steering: 'gen3', shortBypass: true, fastGrants: true, sameCoreForSingle: true };

  it('reads the kernel default 0x72 as hex text, decimal text, a number and presets', () => {
    expect(HOMA_GRO_NORMAL).toBe(0x72);
    expect(parseGroPolicy('0x72')).toEqual(gen2);
    expect(parseGroPolicy('114')).toEqual(gen2);
    expect(parseGroPolicy(114)).toEqual(gen2);
    expect(parseGroPolicy('normal')).toEqual(gen2);
    expect(parseGroPolicy(' 0X72 ')).toEqual(gen2);
  });

  it('reads the CloudLab Gen3 setting 0xE2 / 226 / gen3', () => {
    expect(HOMA_GRO_GEN3_PRESET).toBe(0xe2);
    expect(parseGroPolicy('0xE2')).toEqual(gen3);
    expect(parseGroPolicy(226)).toEqual(gen3);
    expect(parseGroPolicy('226')).toEqual(gen3);
    expect(parseGroPolicy('GEN3')).toEqual(gen3);
  });

  it('picks steering by precedence GEN3 > GEN2 > IDLE > NEXT, then SAME_CORE, then RPS', () => {
    expect(parseGroPolicy(0x90).steering).toBe('gen3');
    expect(parseGroPolicy(0x1c).steering).toBe('gen2');
    expect(parseGroPolicy(0x0c).steering).toBe('idle');
    expect(parseGroPolicy(0x08).steering).toBe('next');
    expect(parseGroPolicy(0x02).steering).toBe('same-core');
    expect(parseGroPolicy(0)).toEqual({ mask: 0, steering: 'rps-ip', shortBypass: false, fastGrants: false, sameCoreForSingle: false });
  });

  it('reads each flag from its own bit', () => {
    expect(parseGroPolicy(0x52)).toMatchObject({ shortBypass: true, fastGrants: false, sameCoreForSingle: true });
    expect(parseGroPolicy(0x30)).toMatchObject({ shortBypass: false, fastGrants: true, sameCoreForSingle: false });
  });

  it('rejects garbage, out-of-range values and unknown bits with EINVALIDOPT naming the option and value', () => {
    for (const bad of ['fast', '0x', '', '0x1ff', '256', '7e', 0x01, 0x73, -1, 1.5, 300]) {
      expect(() => parseGroPolicy(bad)).toThrow(expect.objectContaining({ code: 'EINVALIDOPT' }));
    }
    expect(() => parseGroPolicy('fast')).toThrow(/^--gro-policy: expected a mask 0\.\.0xff .* or a preset \(normal, gen2, gen3\), got "fast"$/);
  });
});

describe('groBusy', () => {
  it('is busy while the last GRO returned less than gro_busy_usecs ago', () => {
    expect(groBusy(10_000, 6_000, 5_000)).toBe(true);
    expect(groBusy(10_000, 5_000, 5_000)).toBe(false);
    expect(groBusy(10_000, 10_000, 0)).toBe(false); // gro_busy_usecs = 0: never busy
  });
});

describe('shouldBypassData', () => {
  const normal = parseGroPolicy('normal');
  it('bypasses a whole one-packet message only when SHORT_BYPASS is set and GRO is not busy', () => {
    expect(shouldBypassData(normal, false, 1000, 1000)).toBe(true);
    expect(shouldBypassData(normal, true, 1000, 1000)).toBe(false);
    expect(shouldBypassData(normal, false, 1000, 2000)).toBe(false);
    expect(shouldBypassData(parseGroPolicy(0x32), false, 1000, 1000)).toBe(false);
  });
});

describe('shouldBypassGrant', () => {
  it('bypasses grants only when FAST_GRANTS is set and GRO is not busy', () => {
    expect(shouldBypassGrant(parseGroPolicy(0x72), false)).toBe(true);
    expect(shouldBypassGrant(parseGroPolicy(0x72), true)).toBe(false);
    expect(shouldBypassGrant(parseGroPolicy(0x52), false)).toBe(false);
  });
});
