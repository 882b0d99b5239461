import { describe, expect, it } from 'vitest';
import { defaultConfig, nonDefaults, parseCutoffs, resolveConfig } from '../../src/config/config.js';
import { ConfigError } from '../../src/config/errors.js';
import { OPTIONS } from '../../src/config/options.js';

function errorOf(partial: Record<string, unknown>): ConfigError {
  try {
    resolveConfig(partial);
  } catch (e) {
    return e as ConfigError;
  }
  throw new Error('expected resolveConfig to throw');
}

describe('resolveConfig', () => {
  it('fills the kernel defaults', () => {
    const c = resolveConfig();
    expect(c.unschedBytes).toBe(40000);
    expect(c.maxIncoming).toBe(400000);
    expect(c.maxOvercommit).toBe(8);
    expect(c.maxGroSkbs).toBe(20);
    expect(c.maxNicEstBacklogUsecs).toBe(5);
    expect(c.deferMinBytes).toBe(1000);
    expect(c.grantFifoFraction).toBe(50);
    expect(c.busyUsecs).toBe(100);
    expect(c.groBusyUsecs).toBe(5);
    expect(c.pollUsecs).toBe(50);
    expect(c.resendTicks).toBe(5);
    expect(c.timeoutTicks).toBe(100);
    expect(c.linkMbps).toBe(25000);
    expect(c.groPolicy).toBe('0x72');
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('accepts CLI strings and converts them', () => {
    const c = resolveConfig({ cores: '4', idleMode: 'park', oneWay: 'true', lossRate: '0.02' });
    expect(c.cores).toBe(4);
    expect(c.idleMode).toBe('park');
    expect(c.oneWay).toBe(true);
    expect(c.lossRate).toBe(0.02);
  });

  it.each([
    [{ cores: -1 }, /^--cores: expected a whole number in \[1, 64\], got -1$/],
    [{ durationMs: 0 }, /^--duration-ms: expected a number in \[0.001, 3600000\] ms, got 0$/],
    [{ idleMode: 'sleep' }, /^--idle-mode: expected one of poll, park, hybrid, got "sleep"$/],
    [{ ringSlots: 1000 }, /^--ring-slots: expected a whole number in \[16, 4194304\] that is a power of two, got 1000$/],
    [{ cores: '2.5' }, /^--cores: expected a whole number/],
    [{ unschedCutoffs: '1,2,3' }, /^--unsched-cutoffs: expected 8 comma-separated whole numbers/],
    [{ noSuchOption: 1 }, /^--noSuchOption: expected a known option/],
  ])('rejects %j naming the option, the accepted range and the value', (partial, re) => {
    const e = errorOf(partial);
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.code).toBe('EINVALIDOPT');
    expect(e.message).toMatch(re);
  });

  it('every option has a default inside its own range', () => {
    for (const o of OPTIONS) {
      expect(() => resolveConfig({ [o.key]: o.def })).not.toThrow();
    }
  });

  it('windows default to emulated milliseconds in virtual time and to wall seconds in wall time', () => {
    const v = defaultConfig();
    expect([v.clock, v.durationMs, v.warmupMs]).toEqual(['virtual', 10, 2]);
    const w = resolveConfig({ clock: 'wall' });
    expect([w.durationMs, w.warmupMs]).toEqual([3000, 500]);
    expect(resolveConfig({ durationMs: 5 }).warmupMs).toBe(2); // each option on its own
    expect(resolveConfig({ durationMs: 3000, warmupMs: 500 }).durationMs).toBe(3000);
    // Each is a default of its clock, so neither shows as a changed option.
    expect(nonDefaults(w)).toEqual([['clock', 'wall']]);
    expect(nonDefaults(resolveConfig({ durationMs: 3000 }))).toEqual([['duration-ms', 3000]]);
  });

  it('nonDefaults lists exactly the changed options', () => {
    expect(nonDefaults(defaultConfig())).toEqual([]);
    expect(nonDefaults(resolveConfig({ maxGroSkbs: 5, hosts: 3 }))).toEqual([['hosts', 3], ['max-gro-skbs', 5]]);
  });

  it('parses the default unscheduled cutoffs P0..P7', () => {
    expect(parseCutoffs(defaultConfig().unschedCutoffs)).toEqual([0, 0, 0, 0, 1000000, 15000, 2800, 200]);
  });
});
