import { describe, expect, it } from 'vitest';
import { CACHE_LINE_BYTES, allocate } from '../../src/shm/layout.js';
import {
  BACKLOG_STRIDE, NEVER_NS, OffloadState, createOffloadState, defaultGen3Candidate, initOffload, offloadLayout,
} from '../../src/policy/offload.js';

describe('offloadLayout', () => {
  it('has one f64 time stamp per core and one backlog counter per cache line', () => {
    const desc = offloadLayout(6);
    expect(desc.columns['lastActiveNs']).toMatchObject({ type: 'f64', length: 6 });
    expect(desc.columns['lastGroNs']).toMatchObject({ type: 'f64', length: 6 });
    expect(desc.columns['lastAppActiveNs']).toMatchObject({ type: 'f64', length: 6 });
    expect(desc.columns['softirqBacklog']).toMatchObject({ type: 'i32', length: 6 * 16 });
    expect(desc.columns['softirqOffset']).toMatchObject({ type: 'i32', length: 6 });
    expect(desc.columns['gen3SoftirqCores']).toMatchObject({ type: 'i32', length: 18 });
    expect(BACKLOG_STRIDE * 4).toBe(CACHE_LINE_BYTES);
  });

  it('rejects a core count that is not a whole number >= 1', () => {
    expect(() => offloadLayout(0)).toThrow(expect.objectContaining({ code: 'EINVALIDOPT', message: '--cores: expected an integer >= 1, got 0' }));
  });
});

describe('initOffload', () => {
  it('defaults each core to the Gen3 candidate list {i^1, -1, -1}', () => {
    const st = createOffloadState(4);
    expect(Array.from(st.gen3SoftirqCores)).toEqual([1, -1, -1, 0, -1, -1, 3, -1, -1, 2, -1, -1]);
    expect(Array.from(st.softirqOffset)).toEqual([0, 0, 0, 0]);
    expect(Array.from(st.lastActiveNs)).toEqual([NEVER_NS, NEVER_NS, NEVER_NS, NEVER_NS]);
    expect(Array.from(st.lastGroNs)).toEqual([NEVER_NS, NEVER_NS, NEVER_NS, NEVER_NS]);
    expect(Array.from(st.lastAppActiveNs)).toEqual([NEVER_NS, NEVER_NS, NEVER_NS, NEVER_NS]);
    expect([0, 1, 2, 3].map((c) => st.backlog(c))).toEqual([0, 0, 0, 0]);
  });

  it('keeps default candidates inside the host when the twin does not exist', () => {
    expect(defaultGen3Candidate(2, 3)).toBe(0);
    expect(defaultGen3Candidate(0, 1)).toBe(0);
    const st = createOffloadState(3);
    expect([0, 1, 2].map((c) => st.gen3Candidate(c, 0))).toEqual([1, 0, 0]);
  });

  it('installs given candidate lists and defaults the others', () => {
    const st = createOffloadState(16, [[1, 8, 9], undefined, [3, 10]]);
    expect([0, 1, 2].map((i) => st.gen3Candidate(0, i))).toEqual([1, 8, 9]);
    expect([0, 1, 2].map((i) => st.gen3Candidate(1, i))).toEqual([0, -1, -1]);
    expect([0, 1, 2].map((i) => st.gen3Candidate(2, i))).toEqual([3, 10, -1]);
  });

  it('resets state left by a previous run', () => {
    const st = createOffloadState(2);
    st.addBacklog(1);
    st.noteGroStart(0, 500);
    st.softirqOffset[0] = 3;
    initOffload(st);
    expect(st.backlog(1)).toBe(0);
    expect(st.lastActiveNs[0]).toBe(NEVER_NS);
    expect(st.softirqOffset[0]).toBe(0);
  });

  it('rejects candidates outside the host, repeated, or too many, naming the option', () => {
    const bad = (lists: number[][]) => () => createOffloadState(4, lists);
    expect(bad([[4]])).toThrow(expect.objectContaining({ code: 'EINVALIDOPT', message: '--gen3-softirq-cores: expected distinct cores 0..3 for GRO core 0, got [4]' }));
    expect(bad([[1, 1]])).toThrow(expect.objectContaining({ code: 'EINVALIDOPT' }));
    expect(bad([[1, 2, 3, 0]])).toThrow(/1\.\.3 SoftIRQ cores for GRO core 0/);
    expect(bad([[]])).toThrow(/1\.\.3 SoftIRQ cores/);
    expect(bad([[1], [0], [3], [2], [1]])).toThrow(/lists for GRO cores 0\.\.3/);
  });
});

describe('OffloadState update points', () => {
  it('noteGroStart sets last_active, noteGroEnd sets last_gro, nothing else', () => {
    const st = createOffloadState(2);
    st.noteGroStart(1, 1000);
    expect(st.lastActiveNs[1]).toBe(1000);
    expect(st.lastGroNs[1]).toBe(NEVER_NS);
    st.noteGroEnd(1, 1500);
    expect(st.lastGroNs[1]).toBe(1500);
    expect(st.lastActiveNs[1]).toBe(1000);
    expect(st.lastAppActiveNs[1]).toBe(NEVER_NS);
  });

  it('noteSoftirqStart sets last_active; noteAppActive sets last_app_active', () => {
    const st = createOffloadState(2);
    st.noteSoftirqStart(0, 700);
    st.noteAppActive(1, 900);
    expect(Array.from(st.lastActiveNs)).toEqual([700, NEVER_NS]);
    expect(Array.from(st.lastAppActiveNs)).toEqual([NEVER_NS, 900]);
  });

  it('noteSoftirqEnd decrements the backlog and may take it below zero (kernel quirk)', () => {
    const st = createOffloadState(2);
    st.addBacklog(1);
    st.noteSoftirqEnd(1);
    expect(st.backlog(1)).toBe(0);
    st.noteSoftirqEnd(1);
    st.noteSoftirqEnd(1);
    expect(st.backlog(1)).toBe(-2);
    expect(st.backlog(0)).toBe(0);
  });

  it('two mappings of the same buffer see each other\'s writes', () => {
    const desc = offloadLayout(3);
    const sab = allocate(desc);
    const a = new OffloadState(sab, desc);
    const b = new OffloadState(sab, desc);
    initOffload(a);
    a.addBacklog(2);
    a.noteAppActive(1, 42);
    expect(b.backlog(2)).toBe(1);
    expect(b.lastAppActiveNs[1]).toBe(42);
    expect(b.numCores).toBe(3);
  });
});
