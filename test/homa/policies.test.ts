/**
 * Whole-cluster runs of every policy variant in the single-threaded harness: each built-in
 * steering policy, both thread-choice modes, LIFO and FIFO waiters, the three wait modes, the
 * three pacers, the three throttle-list structures and the user steering and pacer modules run
 * a W2-like echo workload (many short messages, a few long ones sent at the same time from two
 * threads of a host, so the pacer has work) to completion, byte-exact, with no leak and the
 * network balanced, and show evidence of the policy where it is cheap to see. Also: the socket
 * lock on request arrival (twice vs once) and --gro-policy masks and presets as the world reads
 * them.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LockStat, LOCK_STAT_FIELDS } from '../../src/shm/lock.js';
import { LOCK_CLASSES } from '../../src/homa/homa.js';
import { M } from '../../src/homa/metrics.js';
import type { BuiltinSteeringPolicy } from '../../src/policy/steering.js';
import { rpsCore } from '../../src/policy/steering.js';
import type { SteeringPolicy } from '../../src/policy/types.js';
import type { HomaAppsSpec } from '../../src/workload/echo.js';
import { Harness } from './harness.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../policy/fixtures/${name}`, import.meta.url));

/** W2-like: 24 short messages (100 B .. 2.9 KB) with a long one (40 KB .. 100 KB) every 8th. */
function w2Lengths(seed: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < 24; i++) {
    out.push(i % 8 === 3 ? 40_000 + 20_000 * ((i + seed) % 4) : 100 + ((i * 397 + seed * 131) % 2800));
  }
  return out;
}

/** Two clients per host (one per core), each to the other host; two server threads per host. */
function w2Apps(): HomaAppsSpec {
  const clients = [];
  for (let k = 0; k < 4; k++) {
    const host = k >> 1;
    clients.push({ host, core: k & 1, port: 40000 + k, dstHost: 1 - host, dstPort: 1000, lengths: w2Lengths(k) });
  }
  return { clients, servers: [{ host: 0, port: 1000, threads: 2 }, { host: 1, port: 1000, threads: 2 }] };
}

/** A steering call seen by the recording wrapper: GRO core, batch size, chosen core. */
interface SteerCall { host: number; gro: number; pkts: number; hash: number; chosen: number; lastActive: number[] }

/** Replaces every core's steering policy with a wrapper recording each choice. */
function recordSteering(h: Harness): SteerCall[] {
  const calls: SteerCall[] = [];
  for (let host = 0; host < h.cfg.hosts; host++) {
    for (let core = 0; core < h.cfg.cores; core++) {
      const hm = h.homa(host, core);
      const inner = hm.steering;
      const wrapper: SteeringPolicy = {
        name: inner.name,
        ...(inner.rpsHash !== undefined ? { rpsHash: inner.rpsHash } : {}),
        chooseSoftirqCore(gro, pkts, hash, now, st, busyNs) {
          const lastActive = Array.from(st.lastActiveNs);
          const chosen = inner.chooseSoftirqCore(gro, pkts, hash, now, st, busyNs);
          calls.push({ host, gro, pkts, hash, chosen, lastActive });
          return chosen;
        },
      };
      hm.steering = wrapper;
    }
  }
  return calls;
}

/** Batches pushed to SoftIRQ backlogs: [host, pushing core, target core]. */
function recordBacklogPushes(h: Harness): Array<[number, number, number]> {
  const pushes: Array<[number, number, number]> = [];
  for (let host = 0; host < h.cfg.hosts; host++) {
    for (let core = 0; core < h.cfg.cores; core++) {
      const hm = h.homa(host, core);
      hm.softirqRings.forEach((ring, target) => {
        const push = ring.push.bind(ring);
        ring.push = (v: number): boolean => { pushes.push([host, core, target]); return push(v); };
      });
    }
  }
  return pushes;
}

/** Sum of counter `m` over every core of every host. */
function total(h: Harness, m: number): number {
  let s = 0;
  for (let host = 0; host < h.cfg.hosts; host++) for (let core = 0; core < h.cfg.cores; core++) {
    const hm = h.homa(host, core);
    s += hm.metrics[hm.mrow + m]!;
  }
  return s;
}

/** Socket-lock acquisitions of every core (the lock table's stats, read through core 0's handle). */
function socketLockAcquisitions(h: Harness): number {
  const hm = h.homa(0, 0);
  const stats = hm.locks['stats'];
  const cls = LOCK_CLASSES.indexOf('socket');
  const cores = h.cfg.hosts * h.cfg.cores + 1;
  let s = 0;
  for (let k = 0; k < cores; k++) s += stats[(cls * cores + k) * LOCK_STAT_FIELDS + LockStat.ACQUISITIONS]!;
  return s;
}

/** Runs the W2-like workload to completion and checks that nothing was lost; `before` runs after setup. */
async function runW2(cfg: Record<string, unknown>, before?: (h: Harness) => void): Promise<Harness> {
  const h = await Harness.create({ apps: w2Apps(), cfg: { tickUsecs: 100, ...cfg } });
  before?.(h);
  expect(h.runUntil(() => h.appsDone(), 1_000_000)).toBe(true);
  const results = h.clientResults();
  expect(results.length).toBe(96);
  expect(results.filter((r) => !r.ok)).toEqual([]);
  expect(h.runUntil(() => h.rpcsInUse() === 0, 200_000)).toBe(true);
  const r = h.stop();
  expect(r.leaks).toEqual({ packetSlots: 0, packetDuplicates: 0, rpcSlots: 0, pages: 0 });
  expect(r.packets.inUse).toBe(0);
  expect(r.net.totals.balanced).toBe(true);
  expect(r.hosts.map((x) => x.app['mismatches'])).toEqual([0, 0]);
  expect(r.hosts.reduce((s, x) => s + x.app['completed']!, 0)).toBe(96);
  return h;
}

describe('steering policies on a whole cluster', () => {
  it('same-core never puts a batch on another core\'s backlog', async () => {
    let pushes: Array<[number, number, number]> = [];
    await runW2({ steering: 'same-core' }, (h) => { pushes = recordBacklogPushes(h); });
    expect(pushes.length).toBeGreaterThan(0);
    expect(pushes.filter(([, from, to]) => from !== to)).toEqual([]);
  });

  it('next sends every multi-packet batch to the next core', async () => {
    let calls: SteerCall[] = [];
    await runW2({ steering: 'next', cores: 3 }, (h) => { calls = recordSteering(h); });
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.filter((c) => c.pkts < 2 || c.chosen !== (c.gro + 1) % 3)).toEqual([]);
  });

  it('idle picks, of the 4 cores after the GRO core, the one least recently active', async () => {
    let calls: SteerCall[] = [];
    await runW2({ steering: 'idle', cores: 3 }, (h) => { calls = recordSteering(h); });
    expect(calls.length).toBeGreaterThan(0);
    const oldest = (c: SteerCall): number => {
      let best = -1;
      for (let i = 1; i <= 4; i++) {
        const k = (c.gro + i) % 3;
        if (best < 0 || c.lastActive[k]! < c.lastActive[best]!) best = k;
      }
      return best;
    };
    expect(calls.filter((c) => c.chosen !== oldest(c))).toEqual([]);
  });

  it('gen2 (the default 0x72) counts every steered batch in the chosen core\'s backlog', async () => {
    let calls: SteerCall[] = [];
    const h = await runW2({ cores: 3 }, (x) => { calls = recordSteering(x); });
    expect(calls.length).toBeGreaterThan(0);
    expect(h.homa(0).steering.name).toBe('gen2');
    // Each steered batch was counted (+1) on its core and the core took it off (-1) when it ran;
    // batches the policy did not steer also decrement (the kernel's quirk): no counter is above 0.
    for (let host = 0; host < 2; host++) for (let c = 0; c < 3; c++) expect(h.homa(host).off.backlog(c)).toBeLessThanOrEqual(0);
  });

  it('gen3 (0xE2) steers through the Gen3 candidates and counts gen3_handoffs', async () => {
    let calls: SteerCall[] = [];
    const h = await runW2({ groPolicy: '0xE2' }, (x) => { calls = recordSteering(x); });
    for (let host = 0; host < 2; host++) for (let c = 0; c < 2; c++) expect(h.homa(host, c).steering.name).toBe('gen3');
    expect(calls.length).toBeGreaterThan(0);
    // The default Gen3 candidates of core i are {i ^ 1}: every batch went to the other core.
    expect(calls.filter((c) => c.chosen !== (c.gro ^ 1))).toEqual([]);
  });

  it('gen3 counts its hand-offs in the policy\'s stats', async () => {
    const h = await runW2({ steering: 'gen3' });
    let handoffs = 0;
    let batches = 0;
    for (let host = 0; host < 2; host++) for (let c = 0; c < 2; c++) {
      handoffs += (h.homa(host, c).steering as BuiltinSteeringPolicy).stats.gen3Handoffs;
      batches += h.homa(host, c).metrics[h.homa(host, c).mrow + M.gro_batches]!;
    }
    expect(handoffs).toBeGreaterThan(0);
    expect(handoffs).toBeLessThanOrEqual(batches);
  });

  for (const name of ['rps-ip', 'rps-ports'] as const) {
    it(`${name} sends each multi-packet batch where the flow hash says`, async () => {
      let calls: SteerCall[] = [];
      const h = await runW2({ steering: name, cores: 3, rss: name === 'rps-ip' ? 'ip' : 'ip-ports' }, (x) => { calls = recordSteering(x); });
      expect(h.homa(0).steering.rpsHash).toBe(name === 'rps-ip' ? 'ip' : 'ip-ports');
      expect(calls.length).toBeGreaterThan(0);
      expect(calls.filter((c) => c.chosen !== rpsCore(c.hash, 3, c.gro))).toEqual([]);
    });
  }

  it('a user steering module (least-backlog.mjs) is called and its choices are used', async () => {
    let calls: SteerCall[] = [];
    let pushes: Array<[number, number, number]> = [];
    const h = await runW2({ steering: fixture('least-backlog.mjs'), cores: 3 }, (x) => {
      calls = recordSteering(x);
      pushes = recordBacklogPushes(x);
    });
    expect(h.homa(0).steering.name).toBe('least-backlog');
    expect(calls.length).toBeGreaterThan(0);
    // It never keeps a multi-packet batch on the GRO core.
    expect(calls.filter((c) => c.chosen === c.gro)).toEqual([]);
    expect(pushes.filter(([, from, to]) => from !== to).length).toBeGreaterThanOrEqual(calls.length);
  });
});

describe('thread choice, waiter queues and wait modes on a whole cluster', () => {
  it("thread choice 'first' always takes the front waiter", async () => {
    const h = await runW2({ threadChoice: 'first' });
    expect(total(h, M.handoffs_thread_waiting)).toBeGreaterThan(0);
    expect(total(h, M.handoffs_alt_thread)).toBe(0);
  });

  it("thread choice 'idle-core' hands off to waiting threads", async () => {
    const h = await runW2({ threadChoice: 'idle-core' });
    expect(h.homa(0).threadChoice.name).toBe('idle-core');
    expect(total(h, M.handoffs_thread_waiting)).toBeGreaterThan(0);
  });

  for (const waiterQueue of ['lifo', 'fifo']) {
    it(`${waiterQueue} waiters`, async () => {
      const h = await runW2({ waiterQueue });
      expect(h.homa(0).waiterFifo).toBe(waiterQueue === 'fifo');
      expect(total(h, M.handoffs_thread_waiting)).toBeGreaterThan(0);
    });
  }

  it("wait mode 'poll' never blocks", async () => {
    const h = await runW2({ waitMode: 'poll' });
    expect(total(h, M.wait_block)).toBe(0);
    expect(total(h, M.blocked_ns)).toBe(0);
    expect(total(h, M.wait_fast)).toBeGreaterThan(0);
  });

  it("wait mode 'block' never polls", async () => {
    const h = await runW2({ waitMode: 'block' });
    expect(total(h, M.wait_fast)).toBe(0);
    expect(total(h, M.wait_block)).toBeGreaterThan(0);
  });

  it("wait mode 'poll-then-block' (the kernel) does both", async () => {
    const h = await runW2({ waitMode: 'poll-then-block', pollUsecs: 5 });
    expect(total(h, M.wait_fast)).toBeGreaterThan(0);
    expect(total(h, M.wait_block)).toBeGreaterThan(0);
  });
});

describe('pacers and throttle lists on a whole cluster', () => {
  for (const pacer of ['nic-short', 'pacer-only', 'qdisc']) {
    for (const throttleInsert of ['front', 'back', 'heap']) {
      it(`--pacer ${pacer} --throttle-insert ${throttleInsert}`, async () => {
        const h = await runW2({ pacer, throttleInsert });
        expect(h.homa(0).pacer.name).toBe(pacer);
        // Two threads of a host send long messages at once: the NIC estimate fills up.
        expect(total(h, M.throttle_list_adds)).toBeGreaterThan(0);
        expect(total(h, M.pacer_packets) + total(h, M.pacer_help_packets)).toBeGreaterThan(0);
        for (let host = 0; host < 2; host++) expect(h.homa(host).pThrHead[host]).toBe(-1);
      });
    }
  }

  it('a user pacer module is loaded by every core and decides', async () => {
    const path = fixture('half-backlog-pacer.mjs');
    const mod = (await import(path)) as { stats: { calls: number; refusals: number } };
    const calls = mod.stats.calls;
    const h = await runW2({ pacer: path });
    for (let host = 0; host < 2; host++) for (let c = 0; c < 2; c++) expect(h.homa(host, c).pacer.name).toBe('half-backlog');
    expect(mod.stats.calls).toBeGreaterThan(calls);
    expect(total(h, M.throttle_list_adds)).toBeGreaterThan(0);
  });
});

describe('socket lock on request arrival', () => {
  it("'once' takes the socket lock exactly once less per request than 'twice'", async () => {
    const acq: Record<string, number> = {};
    const served: Record<string, number> = {};
    for (const mode of ['twice', 'once']) {
      const h = await runW2({ sockLockOnArrival: mode });
      acq[mode] = socketLockAcquisitions(h);
      served[mode] = total(h, M.server_requests_done);
    }
    expect(served['twice']).toBe(96);
    expect(served['once']).toBe(96);
    expect(acq['twice']! - acq['once']!).toBe(96);
  });
});

describe('--gro-policy and --steering as the world reads them', () => {
  it('0xE2 gives gen3 with both bypasses; 114 gives gen2; an explicit --steering wins over the mask', async () => {
    const apps = w2Apps();
    const cases: Array<[Record<string, unknown>, string, boolean, boolean]> = [
      [{ groPolicy: '0xE2' }, 'gen3', true, true],
      [{ groPolicy: '226' }, 'gen3', true, true],
      [{ groPolicy: '114' }, 'gen2', true, true],
      [{ groPolicy: 'gen3' }, 'gen3', true, true],
      [{ groPolicy: '0x12' }, 'gen2', false, false],
      [{ groPolicy: '0xE2', steering: 'same-core' }, 'same-core', true, true],
      [{ groPolicy: '0x02', steering: 'gen3' }, 'gen3', false, false],
    ];
    for (const [cfg, steering, shortBypass, fastGrants] of cases) {
      const h = await Harness.create({ apps, cfg });
      for (let host = 0; host < 2; host++) for (let c = 0; c < 2; c++) {
        const hm = h.homa(host, c);
        expect([hm.steering.name, hm.gro.shortBypass, hm.gro.fastGrants]).toEqual([steering, shortBypass, fastGrants]);
      }
    }
  });

  it('a bad mask is refused naming --gro-policy', async () => {
    await expect(Harness.create({ apps: w2Apps(), cfg: { groPolicy: '0x101' } })).rejects.toThrow(/--gro-policy/);
  });
});
