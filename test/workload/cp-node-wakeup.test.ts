import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/config.js';
import { AppState } from '../../src/cpu/context.js';
import { collectCpNodeOf, collectHoma, type HomaResult } from '../../src/cluster/homa-world.js';
import { runWorld } from '../../src/cluster/worlds.js';
import { CP_CLIENT_FIRST_PORT, cpNodeSpec, type CpNodeAppsSpec, type CpNodeSpec } from '../../src/workload/cp-node.js';
import { LINE } from '../../src/homa/layout.js';
import { WaitPhase } from '../../src/policy/wait.js';
import { DOORBELL_RUNG, DOORBELL_STRIDE } from '../../src/shm/doorbell.js';
import { Harness } from '../homa/harness.js';

/**
 * cp_node with wake-up migration (--wakeup-placement): host 0 is the client (1 port, 2
 * receivers), host 1 the server (1 port, 2 threads); threads block at once (waitMode block), so
 * every hand-off to a waiting thread finds it asleep.
 */
async function wakeHarness(cfgOver: Record<string, unknown>) {
  const cfgIn = { hosts: 2, cores: 2, seed: 5, gbps: 0, clientMax: 4, ports: 1, portReceivers: 2, serverPorts: 1, portThreads: 2,
    waitMode: 'block', ...cfgOver };
  const cfg = resolveConfig(cfgIn);
  const spec: CpNodeSpec = { ...cpNodeSpec(cfg), clientHosts: [0], serverHosts: [1] };
  const apps: CpNodeAppsSpec = { clients: [], servers: [], cpNode: spec };
  const h = await Harness.create({ cfg: cfgIn, apps });
  const now = h.clock.now();
  for (const c of h.cores) c.onMeasureStart?.(now);
  return { h, apps };
}

/** Sends `n` requests, then lets every response come back; returns the merged results. */
function runRpcs(h: Harness, apps: CpNodeAppsSpec, n: number) {
  const sender = h.cores.flatMap((c) => c.cpNode.senders)[0]!;
  const step = sender.step.bind(sender);
  sender.step = (now: number, slice: number): number => (sender.sent >= n ? 0 : step(now, slice));
  const done = (): number => h.cores.flatMap((c) => c.cpNode.receivers).reduce((a, r) => a + r.recorder.completed, 0);
  expect(h.runUntil(() => sender.sent >= n && done() >= n, 2_000_000)).toBe(true);
  const now = h.clock.now();
  const perCore = h.cores.map((c) => c.onStop?.(now));
  const homa = collectHoma(h.cfg, h.sab, h.desc, now);
  const cp = collectCpNodeOf(h.cfg, h.sab, h.desc, apps, perCore);
  const sum = (name: string): number => homa.hosts.reduce((a, x) => a + x.metrics[name]!, 0);
  return { homa, cp, sum };
}

describe('wake-up migration of cp_node threads (harness, manual clock)', () => {
  it("'move:1': every hand-off to a sleeping thread moves it; every RPC completes byte-exact; nothing leaks", async () => {
    const { h, apps } = await wakeHarness({ wakeupPlacement: 'move:1', workload: 'w2' });
    // Every core of a host holds a replica of each receiver and server; one replica per thread runs it.
    expect(h.cores.map((c) => [c.cpNode.senders.length, c.cpNode.receivers.length, c.cpNode.servers.length]))
      .toEqual([[1, 2, 0], [0, 2, 0], [0, 0, 2], [0, 0, 2]]);
    const { homa, cp, sum } = runRpcs(h, apps, 300);
    const migrations = sum('wakeup_migrations');
    expect(migrations).toBeGreaterThan(0);
    expect(migrations).toBe(sum('handoffs_thread_waiting'));
    expect(cp.clients).toHaveLength(1);
    expect(cp.clients[0]).toMatchObject({ host: 0, port: CP_CLIENT_FIRST_PORT, sent: 300, completed: 300, mismatches: 0, errors: {}, outstanding: 0 });
    expect(cp.rtts.lengths).toHaveLength(300);
    expect(cp.servers.reduce((a, s) => a + s.requests, 0)).toBe(300);
    expect(homa.leaks).toEqual({ packetSlots: 0, packetDuplicates: 0, rpcSlots: 0, pages: 0 });
    // The threads ran on both cores of their host: each replica recorded what it completed there.
    for (const kind of ['receivers', 'servers'] as const) {
      const byThread = new Map<number, number[]>();
      for (let g = 0; g < h.cores.length; g++) {
        for (const x of h.cores[g]!.cpNode[kind]) {
          const work = kind === 'servers' ? (x as { requests: number }).requests : (x as { recorder: { completed: number } }).recorder.completed;
          if (work > 0) byThread.set(x.plan.t, [...(byThread.get(x.plan.t) ?? []), g]);
        }
      }
      expect([...byThread.values()].some((cores) => cores.length > 1)).toBe(true);
    }
    // Exactly one replica of each thread is not ELSEWHERE, and it is on the core thr.owner names.
    for (const c of h.cores) {
      for (const x of [...c.cpNode.receivers, ...c.cpNode.servers]) {
        const owner = c.homa.tOwner[c.homa.threadIndex(x.plan.t)]!;
        expect(x.state === AppState.ELSEWHERE).toBe(owner !== c.homa.core);
      }
    }
  }, 60_000);

  it("'move:1' with one-packet messages: one migration per wait that slept (wait_block), none lost", async () => {
    const { h, apps } = await wakeHarness({ wakeupPlacement: 'move:1', workload: '100' });
    const { cp, sum } = runRpcs(h, apps, 200);
    expect(cp.clients[0]).toMatchObject({ completed: 200, mismatches: 0, errors: {} });
    // 200 responses and 200 requests, each handed once to a sleeping thread (which moves) or
    // queued on the ready list when no thread waited (taken later without sleeping).
    const handoffs = sum('handoffs_thread_waiting');
    expect(handoffs + sum('ready_list_adds')).toBe(400);
    expect(handoffs).toBeGreaterThan(0);
    expect(sum('wakeup_migrations')).toBe(handoffs);
    expect(sum('wait_block')).toBe(handoffs);
  }, 60_000);

  it('a replica that took a wake addressed to the thread\'s new owner hands it on and stays asleep', async () => {
    const { h } = await wakeHarness({ wakeupPlacement: 'move:1', workload: '100' });
    const hm = h.homa(1, 0);
    const tg = hm.threadIndex(0); // host 1's first server thread (a server-only host), planned on core 0
    const onCore = (core: number) => h.cores[2 + core]!.cpNode.servers.find((x) => x.plan.t === 0)!;
    const [a, b] = [onCore(0), onCore(1)];
    expect([a.plan.core, a.state, b.state]).toEqual([0, AppState.RUNNABLE, AppState.ELSEWHERE]);
    h.round(); // the server registers and sleeps (waitMode block)
    expect([a.state, Atomics.load(hm.tParked, tg)]).toEqual([AppState.BLOCKED, 1]);
    // Core 0's loop has seen the replica BLOCKED; now a hand-off claims the thread and moves it to core 1 ...
    expect(Atomics.compareExchange(hm.tParked, tg, 1, 0)).toBe(1);
    Atomics.store(hm.tOwner, tg, 1);
    Atomics.store(hm.tWake, tg * LINE, 1);
    expect(hm.doorbells!.preparePark(3)).toBe(true); // core 1 of host 1 is parked
    // ... and core 0's loop takes the wake word and wakes its replica.
    Atomics.store(hm.tWake, tg * LINE, 0);
    a.state = AppState.RUNNABLE;
    expect(a.state).toBe(AppState.ELSEWHERE);
    expect(Atomics.load(hm.tWake, tg * LINE)).toBe(1); // handed on to the owner
    expect(Atomics.load(hm.doorbells!.words, 3 * DOORBELL_STRIDE)).toBe(DOORBELL_RUNG);
    // The owner's replica wakes with it and continues the wait that began when the thread slept on core 0.
    expect(b.state).toBe(AppState.BLOCKED);
    b.state = AppState.RUNNABLE;
    expect([b.state, Atomics.load(hm.tParked, tg)]).toEqual([AppState.RUNNABLE, 0]);
    expect(b.seat!.resumed).toBe(true);
    b.seat!.resume(b.wait);
    expect([b.wait.phase, b.wait.blockStartNs]).toEqual([WaitPhase.BLOCKED, a.wait.blockStartNs]);
  }, 60_000);

  it("'stay' (default): no replicas, no migrations, the same results", async () => {
    const { h, apps } = await wakeHarness({ workload: 'w2' });
    expect(h.cores.map((c) => [c.cpNode.senders.length, c.cpNode.receivers.length, c.cpNode.servers.length]))
      .toEqual([[1, 1, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1]]);
    const { homa, cp, sum } = runRpcs(h, apps, 300);
    expect(sum('wakeup_migrations')).toBe(0);
    expect(sum('handoffs_thread_waiting')).toBeGreaterThan(0);
    expect(cp.clients[0]).toMatchObject({ sent: 300, completed: 300, mismatches: 0, errors: {}, outstanding: 0 });
    expect(homa.leaks).toEqual({ packetSlots: 0, packetDuplicates: 0, rpcSlots: 0, pages: 0 });
  }, 60_000);
});


describe("wake-up migration on real worker threads", () => {
  it("W2, 2 hosts x 2 cores, 'move:0.5', threads that block: verified RPCs, migrations, no leaks", async () => {
    const cfg = resolveConfig({ hosts: 2, cores: 2, workload: 'w2', gbps: 0.2, clientMax: 20, warmupMs: 0.5, durationMs: 3,
      maxRpcsPerHost: 512, bpagesPerHost: 256, ringSlots: 1024, watchdogMs: 20_000, timeoutTicks: 2000,
      wakeupPlacement: 'move:0.5', waitMode: 'block' });
    const run = await runWorld('homa', cfg);
    const r = run.worldResult as HomaResult;
    const cp = r.cpNode;
    expect(cp.clients.reduce((a, c) => a + c.completed, 0)).toBeGreaterThan(0);
    expect(cp.clients.map((c) => [c.host, c.port, c.mismatches, c.errors])).toEqual([
      [0, CP_CLIENT_FIRST_PORT, 0, {}], [0, CP_CLIENT_FIRST_PORT + 1, 0, {}],
      [1, CP_CLIENT_FIRST_PORT, 0, {}], [1, CP_CLIENT_FIRST_PORT + 1, 0, {}],
    ]);
    expect(r.hosts.reduce((a, x) => a + x.metrics.wakeup_migrations!, 0)).toBeGreaterThan(0);
    expect(r.leaks).toEqual({ packetSlots: 0, packetDuplicates: 0, rpcSlots: 0, pages: 0 });
    expect(r.net.totals.balanced).toBe(true);
  }, 120_000);
});
