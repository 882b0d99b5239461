import { describe, expect, it } from 'vitest';
import { ASSERT, AssertionFailed, assert, assertEnabled } from '../../src/util/assert.js';

describe('assert', () => {
  it('is on in tests, with HOMA_EMU_ASSERT=1, and off otherwise or with HOMA_EMU_ASSERT=0', () => {
    expect(ASSERT).toBe(process.env['HOMA_EMU_ASSERT'] !== '0');
    expect(assertEnabled({})).toBe(false);
    expect(assertEnabled({ HOMA_EMU_ASSERT: '1' })).toBe(true);
    expect(assertEnabled({ HOMA_EMU_ASSERT: '' })).toBe(false);
    expect(assertEnabled({ VITEST: 'true' })).toBe(true);
    expect(assertEnabled({ VITEST: 'true', HOMA_EMU_ASSERT: '0' })).toBe(false);
  });

  it('throws an AssertionFailed (EASSERT) naming the invariant, and nothing when it holds', () => {
    expect(() => assert(true, 'never shown')).not.toThrow();
    let err: unknown;
    try { assert(1 > 2, 'one is more than two'); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(AssertionFailed);
    expect((err as AssertionFailed).code).toBe('EASSERT');
    expect((err as Error).message).toBe('assertion failed: one is more than two');
  });
});
