/**
 * Policy variants on real worker threads (2 hosts x 2 cores + the fabric): a few runs that
 * together cover a user steering module and a user pacer module given as paths relative to the
 * working directory (resolved to absolute paths in the config every worker receives), the
 * qdisc and pacer-only pacers, the heap and back throttle inserts, Gen3 from the 0xE2 mask,
 * both thread-choice modes, FIFO waiters, blocking waits and the one-lock request arrival. Each
 * run carries a W2-like echo workload (test/policy/fixtures/w2-world.mjs) to completion with
 * nothing lost. Only invariants are checked, never timing, so a loaded 2-core host is fine.
 */
import { isAbsolute, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/config.js';
import { runWorld } from '../../src/cluster/worlds.js';
import type { collectHoma } from '../../src/cluster/homa-world.js';

const worldFile = fileURLToPath(new URL('../policy/fixtures/w2-world.mjs', import.meta.url));
/** A fixture as a path relative to the working directory, as a user would type it. */
const rel = (name: string): string => './' + relative(process.cwd(), fileURLToPath(new URL(`../policy/fixtures/${name}`, import.meta.url)));

const BASE = { hosts: 2, cores: 2, durationMs: 120_000, warmupMs: 0.05, maxRpcsPerHost: 256, bpagesPerHost: 128,
  ringSlots: 1024, tickUsecs: 200, watchdogMs: 20_000, idleMode: 'park' };

async function run(opts: Record<string, unknown>): Promise<ReturnType<typeof collectHoma>> {
  const cfg = resolveConfig({ ...BASE, ...opts });
  const r = (await runWorld(worldFile, cfg, { stopWhenAppsDone: true })).worldResult as ReturnType<typeof collectHoma>;
  expect(r.hosts.map((h) => h.app['mismatches'])).toEqual([0, 0]);
  expect(r.hosts.map((h) => h.app['errors'])).toEqual([0, 0]);
  expect(r.hosts.reduce((s, h) => s + h.app['completed']!, 0)).toBe(64);
  expect(r.leaks).toEqual({ packetSlots: 0, packetDuplicates: 0, rpcSlots: 0, pages: 0 });
  expect(r.net.totals.balanced).toBe(true);
  return r;
}

const sum = (r: ReturnType<typeof collectHoma>, m: string): number => r.hosts.reduce((s, h) => s + h.metrics[m]!, 0);

describe('policies on real worker threads', () => {
  it('user steering module + qdisc pacer + heap + blocking FIFO waiters + one socket lock on arrival', async () => {
    const steering = rel('least-backlog.mjs');
    expect(isAbsolute(resolveConfig({ steering }).policies.steering)).toBe(true);
    const r = await run({ steering, pacer: 'qdisc', throttleInsert: 'heap', waitMode: 'block', waiterQueue: 'fifo',
      sockLockOnArrival: 'once' });
    // (Homa's counters cover the measured window only; app results cover the whole run.)
    expect(sum(r, 'wait_fast')).toBe(0);
  }, 60_000);

  it('user pacer module + Gen3 (0xE2) + back insert + first waiter', async () => {
    const r = await run({ pacer: rel('half-backlog-pacer.mjs'), groPolicy: '0xE2', throttleInsert: 'back', threadChoice: 'first' });
    expect(sum(r, 'handoffs_alt_thread')).toBe(0);
  }, 60_000);

  it('pacer-only + rps-ports + idle-core thread choice', async () => {
    const r = await run({ pacer: 'pacer-only', steering: 'rps-ports', rss: 'ip-ports', threadChoice: 'idle-core' });
    expect(sum(r, 'packets_sent_DATA')).toBeGreaterThan(0);
  }, 60_000);

  it('a pacer module without mayTransmit stops the run with an EPOLICY error naming it', async () => {
    const cfg = resolveConfig({ ...BASE, pacer: rel('bad-shape.mjs') });
    await expect(runWorld(worldFile, cfg, { stopWhenAppsDone: true })).rejects.toThrow(/lacks 'mayTransmit'/);
  }, 60_000);
});
