/**
 * src/metrics/trace-files.ts on hand-made rings: a message that arrives on core 2 (GRO), is
 * processed by SoftIRQ on core 1 and picked up by a thread on core 0 gives one arrow per hand-off
 * whatever the order in which the cores' rings are read; lock waits become slices nested in
 * their unit; the window trigger ends the files at the slowest short RPC's return.
 */
import { describe, expect, it } from 'vitest';
import { Role } from '../../src/cpu/context.js';
import { checkChromeTrace } from '../../src/metrics/chrome-trace.js';
import {
  TT, TT_GRO_DATA, TT_RECVMSG_DONE, TT_RPC_HANDOFF, TT_SENDMSG_REQUEST, TT_SOFTIRQ_DATA, TT_WAIT_FOUND_HANDOFF, TimeTrace,
  hostAddr, timetraceLayout,
} from '../../src/metrics/timetrace.js';
import { chromeTraceOf, countEvents, slowestShortRpc, timetraceFiles, type TimetraceData } from '../../src/metrics/trace-files.js';
import { allocate, column } from '../../src/shm/layout.js';

const TB = { rawNsPerEmulatedNs: 1 };
const CAP = 64;

function rings(hosts: number, cores: number): { d: TimetraceData; ring: (h: number, c: number) => TimeTrace; publish: () => void } {
  const desc = timetraceLayout(hosts * cores, CAP);
  const sab = allocate(desc);
  const times = column(sab, desc, 'times', 'f64');
  const words = column(sab, desc, 'words', 'i32');
  const state = column(sab, desc, 'state', 'i32');
  // One writer per core (a writer keeps its position to itself until it publishes it).
  const writers = new Map<number, TimeTrace>();
  const ring = (h: number, c: number): TimeTrace => {
    const g = h * cores + c;
    let w = writers.get(g);
    if (w === undefined) { w = TimeTrace.inColumns(times, words, state, g, CAP); writers.set(g, w); }
    return w;
  };
  const d: TimetraceData = { hosts, coresPerHost: cores, capacity: CAP, times, words, state };
  return { d, ring, publish: () => { for (const w of writers.values()) w.publish(); } };
}

describe('chromeTraceOf', () => {
  it('draws GRO -> SoftIRQ -> app arrows across cores, and lock waits nested in their unit', () => {
    const { d, ring, publish } = rings(1, 3);
    const id = 7;
    ring(0, 2).record(1000, TT_GRO_DATA, hostAddr(1), id, 0, 6);
    ring(0, 2).unit(1000, 1400, Role.NAPI);
    ring(0, 1).record(2000, TT_SOFTIRQ_DATA, id, hostAddr(1), 0, 100);
    ring(0, 1).record(2500, TT_RPC_HANDOFF, id, 4000, 0, 0);
    ring(0, 1).unit(2000, 2600, Role.SOFTIRQ);
    ring(0, 0).record(3100, TT['lock_wait_begin_socket']!, 0, 0, 0, 0);
    ring(0, 0).record(3300, TT['lock_wait_end_socket']!, 0, 0, 0, 0);
    ring(0, 0).record(3500, TT_WAIT_FOUND_HANDOFF, id, 1, 4000, 0);
    ring(0, 0).unit(3000, 3600.5, Role.APP);
    publish();
    const t = chromeTraceOf(d, { timeBase: TB, windowUs: 0, trigger: 'end' });
    expect(checkChromeTrace(t)).toEqual([]);
    const starts = t.traceEvents.filter((e) => e.ph === 's');
    const ends = t.traceEvents.filter((e) => e.ph === 'f');
    expect(starts.map((e) => [e.name, e['tid'], e['ts']])).toEqual([['SoftIRQ -> app', 2, 1.5], ['GRO -> SoftIRQ', 3, 0]]);
    expect(ends.map((e) => [e.name, e['tid'], e['ts']])).toEqual([['SoftIRQ -> app', 1, 2.5], ['GRO -> SoftIRQ', 2, 1]]);
    const slices = t.traceEvents.filter((e) => e.ph === 'X').map((e) => [e.name, e['tid'], e['ts'], e['dur']]);
    // Times from the run's first event (1000 ns).
    expect(slices).toContainEqual(['wait socket lock', 1, 2.1, 0.2]);
    expect(slices).toContainEqual(['app', 1, 2, 0.6005]);
    expect(slices).toContainEqual(['napi', 3, 0, 0.4]);
  });
});

describe('the window', () => {
  it('ends at the slowest short RPC with --tt-trigger slowest-short, and keeps --tt-window-us before it', () => {
    const { d, ring, publish } = rings(2, 1);
    // Host 0: RPC 2 (100 B) takes 10 us, RPC 4 (100 B) 30 us, RPC 6 (100000 B) 90 us: 4 is the slowest short one.
    const r = ring(0, 0);
    r.record(0, TT_SENDMSG_REQUEST, hostAddr(1), 4000, 2, 100);
    r.record(5000, TT_SENDMSG_REQUEST, hostAddr(1), 4000, 4, 100);
    r.record(6000, TT_SENDMSG_REQUEST, hostAddr(1), 4000, 6, 100000);
    r.record(10000, TT_RECVMSG_DONE, 100, 2, 0, 0);
    r.record(35000, TT_RECVMSG_DONE, 100, 4, 0, 0);
    r.record(96000, TT_RECVMSG_DONE, 100, 6, 0, 0);
    ring(1, 0).record(50000, TT['softirq_start']!, 0, 0, 0, 0);
    publish();
    expect(slowestShortRpc(d, TB)).toEqual({ host: 0, id: 4, rttNs: 30000, endNs: 35000 });
    // 26 us before 35 us: from 9 us on (the sends at 0, 5 and 6 us fall out, as does RPC 6's return at 96 us).
    const files = timetraceFiles(d, { timeBase: TB, windowUs: 26, trigger: 'slowest-short', cpuKhz: 2_000_000 });
    const lines = files[0]!.text.trimEnd().split('\n').slice(1);
    expect(lines.map((l) => l.replace(/^.*\] /, ''))).toEqual([
      'homa_recvmsg returning status 100, id 2',
      'homa_recvmsg returning status 100, id 4',
    ]);
    expect(lines.map((l) => l.slice(0, 9).trim())).toEqual(['0.000', '25.000']);
    // Host 1's only event lies after the trigger: its file is empty.
    expect(files[1]!.text).toBe('');
    expect(countEvents(d, 'recvmsg_done')).toBe(3);
  });
});
