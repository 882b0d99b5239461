import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { STAGES, loadCostProfile, resolveCosts, xl170Profile, zeroCosts } from '../../src/config/cost-profile.js';
import { resolveConfig } from '../../src/config/config.js';

describe('cost profiles', () => {
  it('xl170 sets every stage, each with a source and a kind', () => {
    const p = xl170Profile();
    expect(Object.keys(p.stages).sort()).toEqual([...STAGES].sort());
    for (const [name, s] of Object.entries(p.stages)) {
      expect(typeof s.source, name).toBe('string');
      expect(['cpu', 'latency']).toContain(s.kind);
      expect((s.ns ?? 0) + (s.nsPerByte ?? 0), name).toBeGreaterThan(0);
    }
  });

  it('resolves a profile with a scale into flat ns figures', () => {
    const c = resolveCosts('xl170', 2);
    const s = xl170Profile().stages;
    expect(c.napiPkt).toBe(2 * s.napi_pkt.ns!);
    expect(c.copyOutPerByte).toBe(2 * s.copy_out.nsPerByte!);
    expect(c.measured).toBe(false);
  });

  it('measured keeps the latencies and zeroes the CPU stages (the host\'s time is charged instead)', () => {
    const c = resolveCosts('measured', 1);
    const s = xl170Profile().stages;
    expect(c.measured).toBe(true);
    expect(c.napiPkt).toBe(0);
    expect(c.copyInPerByte).toBe(0);
    expect(c.nicTx).toBe(s.nic_tx.ns);
    expect(c.appWakeupBlock).toBe(s.app_wakeup_block.ns);
  });

  it('a user file overrides the stages it names and keeps xl170 for the rest', () => {
    const dir = mkdtempSync(join(tmpdir(), 'homa-emu-prof-'));
    const f = join(dir, 'p.json');
    writeFileSync(f, JSON.stringify({ name: 'mine', cpuKhz: 3e6, stages: { napi_pkt: { ns: 850 } } }));
    const p = loadCostProfile(f);
    expect(p.name).toBe('mine');
    expect(p.cpuKhz).toBe(3e6);
    expect(p.stages.napi_pkt.ns).toBe(850);
    expect(p.stages.gro_pkt.ns).toBe(xl170Profile().stages.gro_pkt.ns);
    expect(resolveConfig({ costProfile: f }).costProfile).toBe(f);
  });

  it('bad profiles are refused before any worker starts, naming the option and the value', () => {
    const dir = mkdtempSync(join(tmpdir(), 'homa-emu-prof-'));
    const bad = (name: string, text: string): string => { const f = join(dir, name); writeFileSync(f, text); return f; };
    expect(() => resolveConfig({ costProfile: 'nope' })).toThrow(/^--cost-profile: expected xl170, measured or a JSON file that exists, got "nope"$/);
    expect(() => resolveConfig({ costProfile: bad('a.json', '{') })).toThrow(/--cost-profile: .* is not valid JSON/);
    expect(() => resolveConfig({ costProfile: bad('b.json', '{"stages":{"napi":{"ns":1}}}') })).toThrow(/stage names among .*, got "napi"/);
    expect(() => resolveConfig({ costProfile: bad('c.json', '{"stages":{"napi_pkt":{"ns":-1}}}') })).toThrow(/stage "napi_pkt".ns .* \[0, 1e9\], got -1/);
  });

  it('zero costs for wall mode', () => {
    const z = zeroCosts();
    for (const [k, v] of Object.entries(z)) if (typeof v === 'number' && k !== 'cpuKhz') expect(v, k).toBe(0);
  });

  it('--dilation is refused with the virtual clock (it stretches wall time)', () => {
    expect(() => resolveConfig({ dilation: 20 })).toThrow(/^--dilation: expected 1 with --clock virtual/);
    expect(resolveConfig({ clock: 'wall', dilation: 20 }).dilation).toBe(20);
  });
});
