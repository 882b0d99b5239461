import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resolvePolicies, type PolicyOptions } from '../../src/config/policies.js';
import { createOffloadState } from '../../src/policy/offload.js';
import {
  corePolicies, getSteeringPolicy, getThreadChoicePolicy, isPolicyModulePath, loadCorePolicies, loadSteeringModule,
  loadThreadChoiceModule, resolvePolicyName, getPacerPolicy, loadPacerModule, checkPolicyModules,
} from '../../src/policy/registry.js';
import { SteeringStats } from '../../src/policy/steering.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** The policy choices of the default options with `o` over them (module paths against `base`). */
const choices = (o: Partial<PolicyOptions>, base?: string) => resolvePolicies({
  groPolicy: '0x72', steering: '', threadChoice: 'idle-core', pacer: 'nic-short', wakeupPlacement: 'stay', ...o,
}, base);

describe('resolvePolicyName', () => {
  it('returns built-in names as they are', () => {
    expect(resolvePolicyName('steering', 'gen2')).toBe('gen2');
    expect(resolvePolicyName('thread-choice', 'idle-core')).toBe('idle-core');
    expect(resolvePolicyName('pacer', 'nic-short')).toBe('nic-short');
  });

  it('turns module paths into absolute paths', () => {
    expect(resolvePolicyName('steering', './p/x.mjs', '/base')).toBe('/base/p/x.mjs');
    expect(resolvePolicyName('steering', '../x', '/base/dir')).toBe('/base/x');
    expect(resolvePolicyName('pacer', '/abs/y.js', '/base')).toBe('/abs/y.js');
    expect(resolvePolicyName('thread-choice', 'mine.js', '/base')).toBe('/base/mine.js');
    expect(isPolicyModulePath('gen2')).toBe(false);
  });

  it('rejects an unknown name with EINVALIDOPT listing the valid names', () => {
    expect(() => resolvePolicyName('steering', 'gen4')).toThrow(expect.objectContaining({
      code: 'EINVALIDOPT',
      message: '--steering: expected one of same-core, next, idle, gen2, gen3, rps-ip, rps-ports, or a module path (./x.js, /abs/x.mjs), got "gen4"',
    }));
    expect(() => resolvePolicyName('pacer', 'fast')).toThrow(/--pacer: expected one of pacer-only, nic-short, qdisc, /);
    expect(() => resolvePolicyName('thread-choice', 'lifo')).toThrow(/--thread-choice: expected one of first, idle-core, /);
    expect(() => resolvePolicyName('steering', '')).toThrow(/--steering/);
  });
});

describe('corePolicies and loadCorePolicies', () => {
  it('build the built-ins cfg.policies names, the steering counting into the stats given', () => {
    const stats = new SteeringStats();
    const p = corePolicies(choices({ groPolicy: '0xE2', threadChoice: 'first', pacer: 'qdisc' }), stats);
    expect([p.steering.name, p.threadChoice.name, p.pacer.name]).toEqual(['gen3', 'first', 'qdisc']);
    expect((p.steering as { stats?: SteeringStats }).stats).toBe(stats);
    expect(corePolicies(choices({ steering: 'rps-ports' })).steering.name).toBe('rps-ports');
  });

  it('corePolicies refuses a module path (it cannot load synchronously); loadCorePolicies loads it', async () => {
    const p = choices({ pacer: './half-backlog-pacer.mjs' }, fixture('.'));
    expect(() => corePolicies(p)).toThrow(/--pacer names a module .*half-backlog-pacer\.mjs.*loadCorePolicies/);
    const loaded = await loadCorePolicies(p);
    expect([loaded.steering.name, loaded.threadChoice.name, loaded.pacer.name]).toEqual(['gen2', 'idle-core', 'half-backlog']);
  });
});

describe('loadSteeringModule', () => {
  it('loads the least-backlog example, which chooses and counts', async () => {
    const p = await loadSteeringModule(fixture('least-backlog.mjs'));
    expect(p.name).toBe('least-backlog');
    const st = createOffloadState(4);
    st.addBacklog(1);
    st.addBacklog(1);
    st.addBacklog(2);
    // after core 0: core 1 has 2, core 2 has 1, core 3 has 0
    expect(p.chooseSoftirqCore(0, 3, 0, 1000, st, 100_000)).toBe(3);
    expect(st.backlog(3)).toBe(1);
    expect(p.chooseSoftirqCore(0, 3, 0, 1000, st, 100_000)).toBe(2);
  });

  it('loads through getSteeringPolicy and instantiates an exported class', async () => {
    const p = await getSteeringPolicy(fixture('class-policy.mjs'));
    expect(p.name).toBe('always-zero');
    expect(p.chooseSoftirqCore(3, 2, 0, 0, createOffloadState(4), 0)).toBe(0);
    expect((await getSteeringPolicy('gen2')).name).toBe('gen2');
  });

  it('reports a missing file with EPOLICY', async () => {
    const path = resolve(fixture('.'), 'does-not-exist.mjs');
    await expect(loadSteeringModule(path)).rejects.toMatchObject({ code: 'EPOLICY', message: expect.stringContaining(`--steering ${path}: file not found (expected a built-in name: `) });
  });

  it('reports a wrong-shaped module with EPOLICY saying what is missing', async () => {
    await expect(loadSteeringModule(fixture('bad-shape.mjs'))).rejects.toMatchObject({
      code: 'EPOLICY', message: expect.stringContaining("lacks 'chooseSoftirqCore' (a function)"),
    });
    await expect(loadSteeringModule(fixture('no-export.mjs'))).rejects.toMatchObject({
      code: 'EPOLICY', message: expect.stringContaining("no default export and no export named 'policy'"),
    });
    await expect(loadSteeringModule(fixture('broken.mjs'))).rejects.toMatchObject({
      code: 'EPOLICY', message: expect.stringContaining('failed to load: broken on purpose'),
    });
  });

  it('checks thread-choice modules for chooseInterest', async () => {
    await expect(loadThreadChoiceModule(fixture('least-backlog.mjs'))).rejects.toMatchObject({
      code: 'EPOLICY', message: expect.stringContaining("lacks 'chooseInterest' (a function)"),
    });
    expect((await getThreadChoicePolicy('first')).name).toBe('first');
  });
});

describe('loadPacerModule', () => {
  it('loads the half-backlog example through getPacerPolicy; built-in names give the built-ins', async () => {
    const p = await getPacerPolicy(fixture('half-backlog-pacer.mjs'));
    expect(p.name).toBe('half-backlog');
    const check = { nicBacklogNs: 2500, maxBacklogNs: 5000, throttledCount: 0, isPacer: false, bytesLeft: 5000, messageBytes: 5000, deferMinBytes: 1000 };
    expect(p.mayTransmit(check)).toBe(true);
    expect(p.mayTransmit({ ...check, nicBacklogNs: 2501 })).toBe(false);
    expect(p.mayTransmit({ ...check, nicBacklogNs: 9999, bytesLeft: 1000 })).toBe(true);
    for (const name of ['nic-short', 'pacer-only', 'qdisc']) expect((await getPacerPolicy(name)).name).toBe(name);
  });

  it('reports a missing file or a module without mayTransmit with EPOLICY', async () => {
    const path = resolve(fixture('.'), 'no-pacer.mjs');
    await expect(loadPacerModule(path)).rejects.toMatchObject({ code: 'EPOLICY', message: expect.stringContaining(`--pacer ${path}: file not found (expected a built-in name: `) });
    await expect(loadPacerModule(fixture('bad-shape.mjs'))).rejects.toMatchObject({
      code: 'EPOLICY', message: `--pacer ${fixture('bad-shape.mjs')}: the exported policy lacks 'mayTransmit' (a function)`,
    });
  });
});

describe('checkPolicyModules', () => {
  it('loads every module a config names and returns their absolute paths', async () => {
    const base = fixture('.');
    expect(await checkPolicyModules(choices({ steering: './least-backlog.mjs', threadChoice: 'idle-core', pacer: './half-backlog-pacer.mjs' }, base)))
      .toEqual([fixture('least-backlog.mjs'), fixture('half-backlog-pacer.mjs')]);
    expect(await checkPolicyModules(choices({ threadChoice: 'first', pacer: 'nic-short' }))).toEqual([]);
  });

  it('refuses a missing module or a wrong shape with EPOLICY naming the option', async () => {
    const base = fixture('.');
    await expect(checkPolicyModules(choices({ threadChoice: 'first', pacer: './gone.mjs' }, base)))
      .rejects.toMatchObject({ code: 'EPOLICY', message: expect.stringContaining(`--pacer ${resolve(base, 'gone.mjs')}: file not found (expected a built-in name: `) });
    await expect(checkPolicyModules(choices({ threadChoice: './least-backlog.mjs', pacer: 'qdisc' }, base)))
      .rejects.toMatchObject({ code: 'EPOLICY', message: expect.stringMatching(/^--thread-choice .*lacks 'chooseInterest'/) });
  });
});
