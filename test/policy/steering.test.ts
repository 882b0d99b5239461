import { describe, expect, it } from 'vitest';
import { createOffloadState } from '../../src/policy/offload.js';
import { STEERING_NAMES, SteeringStats, createSteeringPolicy, rpsCore, steerBatch } from '../../src/policy/steering.js';
import type { SteeringPolicy } from '../../src/policy/types.js';

const BUSY_NS = 100_000; // busy_usecs = 100
const NOW = 10_000_000;

describe('gen2', () => {
  it('takes the first of this+1..this+4 with no backlog and no GRO within busy_usecs, and counts it in its backlog', () => {
    const st = createOffloadState(8);
    const p = createSteeringPolicy('gen2');
    st.addBacklog(3); // core 3 has a batch queued
    st.noteGroEnd(4, NOW - 50_000); // core 4 ran GRO 50 us ago
    expect(p.chooseSoftirqCore(2, 5, 0, NOW, st, BUSY_NS)).toBe(5);
    expect(st.backlog(5)).toBe(1);
    expect(st.backlog(3)).toBe(1);
    expect(p.stats.gen2Rotations).toBe(0);
  });

  it('accepts a core whose last GRO is exactly busy_usecs old (last_gro + busy <= now)', () => {
    const st = createOffloadState(8);
    const p = createSteeringPolicy('gen2');
    st.noteGroEnd(3, NOW - BUSY_NS);
    expect(p.chooseSoftirqCore(2, 5, 0, NOW, st, BUSY_NS)).toBe(3);
    st.noteGroEnd(3, NOW - BUSY_NS + 1);
    expect(p.chooseSoftirqCore(2, 5, 0, NOW, st, BUSY_NS)).toBe(4);
  });

  it('reads a negative backlog as not busy', () => {
    const st = createOffloadState(8);
    const p = createSteeringPolicy('gen2');
    st.noteSoftirqEnd(3);
    st.noteSoftirqEnd(3);
    expect(p.chooseSoftirqCore(2, 5, 0, NOW, st, BUSY_NS)).toBe(3);
    expect(st.backlog(3)).toBe(-1);
  });

  it('rotates through offsets 1..4 when every candidate is busy', () => {
    const st = createOffloadState(8);
    const p = createSteeringPolicy('gen2');
    for (const c of [3, 4, 5, 6]) st.addBacklog(c);
    const chosen: number[] = [];
    const offsets: number[] = [];
    for (let i = 0; i < 5; i++) {
      chosen.push(p.chooseSoftirqCore(2, 5, 0, NOW, st, BUSY_NS));
      offsets.push(st.softirqOffset[2]!);
    }
    expect(chosen).toEqual([3, 4, 5, 6, 3]);
    expect(offsets).toEqual([1, 2, 3, 4, 1]);
    expect([3, 4, 5, 6].map((c) => st.backlog(c))).toEqual([3, 2, 2, 2]);
    expect(p.stats.gen2Rotations).toBe(5);
    expect(st.softirqOffset[3]).toBe(0); // only the GRO core's own offset moves
  });

  it('wraps candidates past the last core', () => {
    const st = createOffloadState(8);
    const p = createSteeringPolicy('gen2');
    st.addBacklog(7);
    expect(p.chooseSoftirqCore(6, 5, 0, NOW, st, BUSY_NS)).toBe(0);
    for (const c of [0, 1, 2]) st.addBacklog(c);
    expect([1, 2, 3, 4].map(() => p.chooseSoftirqCore(6, 5, 0, NOW, st, BUSY_NS))).toEqual([7, 0, 1, 2]);
  });

  it('on a 2-core host checks 1,0,1,0 and never leaves the host', () => {
    const st = createOffloadState(2);
    const p = createSteeringPolicy('gen2');
    st.addBacklog(1);
    st.noteGroEnd(0, NOW - 1000);
    // all four candidates busy: offsets 1,2,3,4 -> cores 1,0,1,0
    expect([1, 2, 3, 4].map(() => p.chooseSoftirqCore(0, 5, 0, NOW, st, BUSY_NS))).toEqual([1, 0, 1, 0]);
    // the GRO core itself qualifies when it is idle (candidate this+2 on a 2-core host)
    const st2 = createOffloadState(2);
    st2.addBacklog(1);
    expect(p.chooseSoftirqCore(0, 5, 0, NOW, st2, BUSY_NS)).toBe(0);
  });

  it('on a 1-core host always picks core 0', () => {
    const st = createOffloadState(1);
    const p = createSteeringPolicy('gen2');
    expect(p.chooseSoftirqCore(0, 5, 0, NOW, st, BUSY_NS)).toBe(0);
    expect(p.chooseSoftirqCore(0, 5, 0, NOW, st, BUSY_NS)).toBe(0);
    expect(st.backlog(0)).toBe(2);
  });
});

describe('gen3', () => {
  const lists = [[1, 8, 9], [0], [3, 10, 11]];

  it('takes the first candidate without app activity in busy_usecs and marks it active', () => {
    const st = createOffloadState(16, lists);
    const p = createSteeringPolicy('gen3');
    expect(p.chooseSoftirqCore(0, 5, 0, NOW, st, BUSY_NS)).toBe(1);
    expect(st.lastActiveNs[1]).toBe(NOW);
    expect(p.stats.gen3Handoffs).toBe(1);
    expect(p.stats.gen3AltHandoffs).toBe(0);
    st.noteAppActive(1, NOW - 10_000);
    expect(p.chooseSoftirqCore(0, 5, 0, NOW, st, BUSY_NS)).toBe(8);
    st.noteAppActive(8, NOW - 99_999);
    expect(p.chooseSoftirqCore(0, 5, 0, NOW, st, BUSY_NS)).toBe(9);
    expect(st.lastActiveNs[9]).toBe(NOW);
    expect(p.stats.gen3Handoffs).toBe(3);
    expect(p.stats.gen3AltHandoffs).toBe(2);
  });

  it('falls back to candidate 0 when every candidate is busy', () => {
    const st = createOffloadState(16, lists);
    const p = createSteeringPolicy('gen3');
    for (const c of [1, 8, 9]) st.noteAppActive(c, NOW - 1000);
    expect(p.chooseSoftirqCore(0, 5, 0, NOW, st, BUSY_NS)).toBe(1);
    expect(st.lastActiveNs[1]).toBe(NOW);
    expect(p.stats.gen3AltHandoffs).toBe(0);
  });

  it('treats app activity exactly busy_usecs ago as busy (last_app_active < now - busy)', () => {
    const st = createOffloadState(16, lists);
    const p = createSteeringPolicy('gen3');
    st.noteAppActive(3, NOW - BUSY_NS);
    expect(p.chooseSoftirqCore(2, 5, 0, NOW, st, BUSY_NS)).toBe(10);
    st.noteAppActive(3, NOW - BUSY_NS - 1);
    expect(p.chooseSoftirqCore(2, 5, 0, NOW, st, BUSY_NS)).toBe(3);
  });

  it('stops at the end of a short list and leaves the backlog alone', () => {
    const st = createOffloadState(16, lists);
    const p = createSteeringPolicy('gen3');
    st.noteAppActive(0, NOW);
    expect(p.chooseSoftirqCore(1, 5, 0, NOW, st, BUSY_NS)).toBe(0);
    expect(st.backlog(0)).toBe(0);
  });

  it('writes into a stats object the caller passes', () => {
    const stats = new SteeringStats();
    const p = createSteeringPolicy('gen3', stats);
    p.chooseSoftirqCore(0, 2, 0, NOW, createOffloadState(4), BUSY_NS);
    expect(stats.gen3Handoffs).toBe(1);
    stats.reset();
    expect(stats.gen3Handoffs).toBe(0);
  });
});

describe('idle', () => {
  it('takes the core with the oldest last_active among the next 4 (first on ties)', () => {
    const st = createOffloadState(8);
    const p = createSteeringPolicy('idle');
    [500, 200, 200, 900].forEach((t, i) => st.noteGroStart(3 + i, t));
    expect(p.chooseSoftirqCore(2, 5, 0, NOW, st, BUSY_NS)).toBe(4);
  });

  it('wraps past the last core and stays inside small hosts', () => {
    const st = createOffloadState(8);
    const p = createSteeringPolicy('idle');
    for (let c = 0; c < 8; c++) st.noteSoftirqStart(c, 1000 + c);
    st.noteSoftirqStart(2, 10);
    expect(p.chooseSoftirqCore(7, 5, 0, NOW, st, BUSY_NS)).toBe(2);
    const small = createOffloadState(3);
    small.noteGroStart(1, 50);
    small.noteGroStart(2, 60);
    small.noteGroStart(0, 70);
    expect(p.chooseSoftirqCore(0, 5, 0, NOW, small, BUSY_NS)).toBe(1);
  });
});

describe('next and same-core', () => {
  it('next takes core + 1, wrapping', () => {
    const p = createSteeringPolicy('next');
    expect(p.chooseSoftirqCore(2, 5, 0, NOW, createOffloadState(8), BUSY_NS)).toBe(3);
    expect(p.chooseSoftirqCore(7, 5, 0, NOW, createOffloadState(8), BUSY_NS)).toBe(0);
    expect(p.chooseSoftirqCore(0, 5, 0, NOW, createOffloadState(1), BUSY_NS)).toBe(0);
  });

  it('same-core keeps the GRO core', () => {
    const p = createSteeringPolicy('same-core');
    expect(p.chooseSoftirqCore(5, 5, 0xdeadbeef, NOW, createOffloadState(8), BUSY_NS)).toBe(5);
  });
});

describe('rps-ip / rps-ports', () => {
  it('maps the unsigned hash onto the cores like reciprocal_scale', () => {
    expect(rpsCore(0x80000000, 8, 3)).toBe(4);
    expect(rpsCore(0xffffffff, 8, 3)).toBe(7);
    expect(rpsCore(-1, 8, 3)).toBe(7);
    expect(rpsCore(1, 8, 3)).toBe(0);
    expect(rpsCore(0x40000000, 6, 0)).toBe(1);
    expect(rpsCore(0, 8, 3)).toBe(3); // no hash: Linux leaves the packet where it is
  });

  it('share the mechanism under two names that say which hash they want', () => {
    const ip = createSteeringPolicy('rps-ip');
    const ports = createSteeringPolicy('rps-ports');
    const st = createOffloadState(4);
    expect(ip.chooseSoftirqCore(0, 5, 0xc0000000, NOW, st, BUSY_NS)).toBe(3);
    expect(ports.chooseSoftirqCore(0, 5, 0xc0000000, NOW, st, BUSY_NS)).toBe(3);
    expect([ip.name, ip.rpsHash, ports.name, ports.rpsHash]).toEqual(['rps-ip', 'ip', 'rps-ports', 'ip-ports']);
  });
});

describe('createSteeringPolicy', () => {
  it('builds every built-in under its name', () => {
    expect(STEERING_NAMES.map((n) => createSteeringPolicy(n).name)).toEqual([...STEERING_NAMES]);
  });
});

describe('steerBatch', () => {
  it('keeps single-packet batches on the GRO core under SAME_CORE without asking the policy', () => {
    const st = createOffloadState(8);
    const p = createSteeringPolicy('gen2');
    expect(steerBatch(p, true, 2, 1, 0x80000000, NOW, st, BUSY_NS)).toBe(2);
    expect(st.backlog(3)).toBe(0);
  });

  it('sends single-packet batches through RPS without SAME_CORE', () => {
    const st = createOffloadState(8);
    expect(steerBatch(createSteeringPolicy('gen2'), false, 2, 1, 0x80000000, NOW, st, BUSY_NS)).toBe(4);
  });

  it('asks the policy for multi-packet batches', () => {
    const st = createOffloadState(8);
    expect(steerBatch(createSteeringPolicy('gen2'), true, 2, 2, 0, NOW, st, BUSY_NS)).toBe(3);
    expect(st.backlog(3)).toBe(1);
  });

  it('rejects a policy answer outside the host with EPOLICY', () => {
    const rogue: SteeringPolicy = { name: 'rogue', chooseSoftirqCore: () => 8 };
    expect(() => steerBatch(rogue, true, 2, 3, 0, NOW, createOffloadState(8), BUSY_NS))
      .toThrow(expect.objectContaining({ code: 'EPOLICY', message: expect.stringContaining("'rogue': chose core 8") }));
  });
});
