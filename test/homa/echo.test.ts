import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/config.js';
import { defaultAppsSpec, planApps } from '../../src/workload/echo.js';
import { patternByte } from '../../src/workload/app-shared.js';
import { Harness } from './harness.js';

describe('planApps / defaultAppsSpec', () => {
  it("places servers first, then clients, spreading threads over the host's cores", () => {
    const cfg = resolveConfig({ hosts: 2, cores: 2, ports: 2, portThreads: 2 });
    const plan = planApps(cfg, defaultAppsSpec(cfg));
    expect(plan.filter((a) => a.host === 0).map((a) => [a.kind, a.t, a.core, a.port])).toEqual([
      ['server', 0, 0, 1000], ['server', 1, 1, 1000], ['client', 2, 0, 40000], ['client', 3, 1, 40001],
    ]);
    expect(plan.find((a) => a.kind === 'client' && a.host === 1)!.client!.dstHost).toBe(0);
  });

  it("roles 'split': the first half of the hosts are clients of the second half", () => {
    const cfg = resolveConfig({ hosts: 4, roles: 'split', ports: 2 });
    const spec = defaultAppsSpec(cfg);
    expect(spec.servers.map((s) => s.host)).toEqual([2, 3]);
    expect(spec.clients.map((c) => [c.host, c.dstHost])).toEqual([[0, 2], [0, 3], [1, 2], [1, 3]]);
  });

  it('refuses a host outside the cluster with a coded error', () => {
    const cfg = resolveConfig({});
    expect(() => planApps(cfg, { servers: [{ host: 5, port: 1 }], clients: [] })).toThrow(expect.objectContaining({ code: 'EINVALIDOPT' }));
  });
});

describe('EchoServer', () => {
  it('one-way servers reply with min(request, 100) bytes, and clients verify that', async () => {
    const h = await Harness.create({
      apps: {
        servers: [{ host: 1, port: 1000, oneWay: true }],
        clients: [{ host: 0, port: 40000, dstHost: 1, dstPort: 1000, lengths: [50, 5000, 300000] }],
      },
    });
    expect(h.runUntil(() => h.appsDone(), 100_000)).toBe(true);
    expect(h.clientResults().map((r) => [r.length, r.ok])).toEqual([[50, true], [5000, true], [300000, true]]);
    expect(patternByte(0, 2, 0)).not.toBe(patternByte(0, 4, 0));
  });
});
