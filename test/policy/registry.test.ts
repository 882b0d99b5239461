import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseGroPolicy } from '../../src/policy/gro-policy.js';
import { createOffloadState } from '../../src/policy/offload.js';
import {
  effectiveSteering, getSteeringPolicy, getThreadChoicePolicy, isPolicyModulePath, loadSteeringModule,
  loadThreadChoiceModule, resolvePolicyName, validatePacerName, getPacerPolicy, loadPacerModule,
  withAbsolutePolicyPaths, checkPolicyModules,
} from '../../src/policy/registry.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

describe('resolvePolicyName', () => {
  it('returns built-in names as they are', () => {
    expect(resolvePolicyName('steering', 'gen2')).toBe('gen2');
    expect(resolvePolicyName('thread-choice', 'idle-core')).toBe('idle-core');
    expect(resolvePolicyName('pacer', 'nic-short')).toBe('nic-short');
    expect(validatePacerName('qdisc')).toBe('qdisc');
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
    expect(() => validatePacerName('fast')).toThrow(/--pacer: expected one of pacer-only, nic-short, qdisc, /);
    expect(() => resolvePolicyName('thread-choice', 'lifo')).toThrow(/--thread-choice: expected one of first, idle-core, /);
    expect(() => resolvePolicyName('steering', '')).toThrow(/--steering/);
  });
});

describe('effectiveSteering', () => {
  it('follows --gro-policy unless --steering is given', () => {
    expect(effectiveSteering('', parseGroPolicy('0xE2'))).toBe('gen3');
    expect(effectiveSteering('', parseGroPolicy(0))).toBe('rps-ip');
    expect(effectiveSteering('rps-ports', parseGroPolicy('0x72'))).toBe('rps-ports');
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

describe('withAbsolutePolicyPaths', () => {
  it('resolves module paths against the working directory (or baseDir) and leaves built-in names alone', () => {
    const rel = './' + relative(process.cwd(), fixture('least-backlog.mjs'));
    const cfg = { steering: rel, threadChoice: 'first', pacer: 'x/p.mjs', hosts: 2 };
    expect(withAbsolutePolicyPaths(cfg)).toEqual({
      steering: fixture('least-backlog.mjs'), threadChoice: 'first', pacer: resolve(process.cwd(), 'x/p.mjs'), hosts: 2,
    });
    expect(withAbsolutePolicyPaths({ steering: '', threadChoice: './t.js', pacer: 'qdisc' }, '/base'))
      .toEqual({ steering: '', threadChoice: '/base/t.js', pacer: 'qdisc' });
    expect(() => withAbsolutePolicyPaths({ steering: 'gen4', threadChoice: 'first', pacer: 'qdisc' })).toThrow(/--steering/);
  });
});

describe('checkPolicyModules', () => {
  it('loads every module a config names and returns their absolute paths', async () => {
    const base = fixture('.');
    expect(await checkPolicyModules({ steering: './least-backlog.mjs', threadChoice: 'idle-core', pacer: './half-backlog-pacer.mjs' }, base))
      .toEqual([fixture('least-backlog.mjs'), fixture('half-backlog-pacer.mjs')]);
    expect(await checkPolicyModules({ steering: '', threadChoice: 'first', pacer: 'nic-short' })).toEqual([]);
  });

  it('refuses a missing module or a wrong shape with EPOLICY naming the option', async () => {
    const base = fixture('.');
    await expect(checkPolicyModules({ steering: '', threadChoice: 'first', pacer: './gone.mjs' }, base))
      .rejects.toMatchObject({ code: 'EPOLICY', message: expect.stringContaining(`--pacer ${resolve(base, 'gone.mjs')}: file not found (expected a built-in name: `) });
    await expect(checkPolicyModules({ steering: '', threadChoice: './least-backlog.mjs', pacer: 'qdisc' }, base))
      .rejects.toMatchObject({ code: 'EPOLICY', message: expect.stringMatching(/^--thread-choice .*lacks 'chooseInterest'/) });
  });
});
