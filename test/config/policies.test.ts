/**
 * src/config/policies.ts: the policy choices resolved once by resolveConfig (cfg.policies). The
 * steering in force follows --gro-policy unless --steering is given and says which; module paths
 * become absolute; every bad policy value fails in resolveConfig with its option's EINVALIDOPT
 * message; a resolved config spread into a partial gets its choices recomputed (the derived key
 * is never an input); `optionValues` is the options alone and resolves back to the same config.
 */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfig, optionValues, resolveConfig } from '../../src/config/config.js';
import { resolvePolicies, steeringInForce } from '../../src/config/policies.js';
import { formatWakeupPlacement, parseWakeupPlacement, PlacementMode } from '../../src/config/wakeup-placement.js';

describe('cfg.policies', () => {
  it('the steering in force: the --gro-policy mask by default, --steering when given, with its source', () => {
    const d = defaultConfig().policies;
    expect([d.steering, d.steeringSource, d.gro.mask]).toEqual(['gen2', 'default of --gro-policy 0x72', 0x72]);
    expect(steeringInForce(d)).toBe('gen2 (default of --gro-policy 0x72)');
    const g3 = resolveConfig({ groPolicy: '0xE2' }).policies;
    expect(steeringInForce(g3)).toBe('gen3 (default of --gro-policy 0xE2)');
    expect(resolveConfig({ groPolicy: '0' }).policies.steering).toBe('rps-ip');
    const given = resolveConfig({ groPolicy: '0xE2', steering: 'rps-ports' }).policies;
    expect(steeringInForce(given)).toBe('rps-ports (--steering)');
    // The mask's GRO flags stay in force with an explicit steering.
    expect([given.gro.shortBypass, given.gro.fastGrants, given.gro.sameCoreForSingle]).toEqual([true, true, true]);
  });

  it('thread choice, pacer and wake-up placement are resolved and parsed', () => {
    const p = resolveConfig({ threadChoice: 'first', pacer: 'qdisc', wakeupPlacement: ' move:0.25 ' }).policies;
    expect([p.threadChoice, p.pacer]).toEqual(['first', 'qdisc']);
    expect(p.wakeupPlacement).toEqual({ mode: PlacementMode.MOVE, moveProb: 0.25 });
    expect(formatWakeupPlacement(p.wakeupPlacement)).toBe('move:0.25');
    for (const f of ['stay', 'least-busy', 'idle']) expect(formatWakeupPlacement(parseWakeupPlacement(f))).toBe(f);
  });

  it('module paths become absolute (against the working directory, or baseDir)', () => {
    const p = resolveConfig({ steering: './s.mjs', threadChoice: 'sub/t.js', pacer: '/abs/p.mjs' }).policies;
    expect([p.steering, p.threadChoice, p.pacer]).toEqual([resolve(process.cwd(), 's.mjs'), resolve(process.cwd(), 'sub/t.js'), '/abs/p.mjs']);
    expect(p.steeringSource).toBe('--steering');
    const b = resolvePolicies({ groPolicy: '0x72', steering: '', threadChoice: './t.js', pacer: 'nic-short', wakeupPlacement: 'stay' }, '/base');
    expect([b.steering, b.threadChoice]).toEqual(['gen2', '/base/t.js']);
  });

  it('a bad value of each policy option fails in resolveConfig, naming the option, what it accepts and the value', () => {
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ groPolicy: '0x01' }, /^--gro-policy: expected a mask 0\.\.0xff .*got "0x01"$/],
      [{ steering: 'gen4' }, /^--steering: expected one of same-core, next, idle, gen2, gen3, rps-ip, rps-ports, or a module path .*got "gen4"$/],
      [{ threadChoice: 'lifo' }, /^--thread-choice: expected one of first, idle-core, or a module path .*got "lifo"$/],
      [{ pacer: 'fast' }, /^--pacer: expected one of pacer-only, nic-short, qdisc, or a module path .*got "fast"$/],
      [{ wakeupPlacement: 'move:2' }, /^--wakeup-placement: expected stay, move:P with P in \[0, 1\].*got "move:2"$/],
    ];
    for (const [partial, message] of bad) {
      expect(() => resolveConfig(partial)).toThrow(expect.objectContaining({ code: 'EINVALIDOPT', message: expect.stringMatching(message) }));
    }
  });

  it('a resolved config spread into a partial gets its choices recomputed, never taken from the input', () => {
    const cfg = resolveConfig({ groPolicy: '0xE2' });
    const again = resolveConfig({ ...cfg, groPolicy: '0x72' });
    expect(again.policies.steering).toBe('gen2');
    expect(again.policies.gro.mask).toBe(0x72);
    const forged = resolveConfig({ policies: { steering: 'gen3' } } as Record<string, unknown>);
    expect(forged.policies.steering).toBe('gen2');
  });

  it('optionValues holds every option and no derived field, and resolves back to the same config', () => {
    const cfg = resolveConfig({ hosts: 3, steering: 'gen3', wakeupPlacement: 'idle' });
    const o = optionValues(cfg);
    expect(o).not.toHaveProperty('policies');
    expect(o.hosts).toBe(3);
    expect(resolveConfig(o as unknown as Record<string, unknown>)).toEqual(cfg);
  });
});
