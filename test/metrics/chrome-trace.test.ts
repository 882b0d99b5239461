import { describe, expect, it } from 'vitest';
import { checkChromeTrace, chromeTrace, type TraceProcess } from '../../src/metrics/chrome-trace.js';

const procs: TraceProcess[] = [
  { pid: 0, name: 'node0', threads: [
    { tid: 0, name: 'h0.c0', slices: [
      { name: 'NAPI', cat: 'napi', startNs: 1000, durNs: 3000 },
      { name: 'GRO', cat: 'gro', startNs: 1500, durNs: 1000 },
      { name: 'app', cat: 'app', startNs: 6000, durNs: 2000 },
    ] },
    { tid: 1, name: 'h0.c1', slices: [{ name: 'SoftIRQ', cat: 'softirq', startNs: 3000, durNs: 2000 }, { name: 'wait socket lock', cat: 'lock', startNs: 3500, durNs: 500 }] },
  ] },
  { pid: 1, name: 'node1', threads: [{ tid: 0, name: 'h1.c0', slices: [{ name: 'pacer', cat: 'pacer', startNs: 0, durNs: 9000 }] }] },
];

describe('chromeTrace', () => {
  const t = chromeTrace(procs, [
    { name: 'GRO -> SoftIRQ', from: { pid: 0, tid: 0, tsNs: 2000 }, to: { pid: 0, tid: 1, tsNs: 3000 } },
    { name: 'SoftIRQ -> app', from: { pid: 0, tid: 1, tsNs: 4500 }, to: { pid: 0, tid: 0, tsNs: 6000 } },
  ], [{ pid: 1, name: 'throttled RPCs', points: [[0, 0], [4000, 3], [8000, 1]] }]);

  it('passes the format check: process and thread names, slices in µs, paired flows, counters', () => {
    expect(checkChromeTrace(t)).toEqual([]);
    expect(JSON.parse(JSON.stringify(t))).toEqual(t);
    const names = t.traceEvents.filter((e) => e.ph === 'M').map((e) => (e['args'] as { name: string }).name);
    expect(names).toEqual(['node0', 'h0.c0', 'h0.c1', 'node1', 'h1.c0']);
    const gro = t.traceEvents.find((e) => e.name === 'GRO')!;
    expect([gro['ts'], gro['dur'], gro['tid']]).toEqual([1.5, 1, 0]);
    const flows = t.traceEvents.filter((e) => e.ph === 's' || e.ph === 'f');
    expect(flows.map((e) => [e.ph, e['id']])).toEqual([['s', 1], ['f', 1], ['s', 2], ['f', 2]]);
    expect(t.traceEvents.filter((e) => e.ph === 'C').length).toBe(3);
  });

  it('keeps only the window before the end', () => {
    const w = chromeTrace(procs, [], [], { windowNs: 4500 });
    expect(w.traceEvents.filter((e) => e.ph === 'X').map((e) => e.name)).toEqual(['app', 'SoftIRQ', 'pacer']);
    expect(checkChromeTrace(w)).toEqual([]);
  });
});

describe('checkChromeTrace', () => {
  it('finds unpaired flows, negative durations, overlapping slices that do not nest, missing fields', () => {
    const bad = { traceEvents: [
      { ph: 'X', pid: 0, tid: 0, name: 'a', ts: 0, dur: 10 },
      { ph: 'X', pid: 0, tid: 0, name: 'b', ts: 5, dur: 10 },
      { ph: 'X', pid: 0, tid: 1, name: 'c', ts: 0, dur: -1 },
      { ph: 's', pid: 0, tid: 0, name: 'h', ts: 1, id: 9 },
      { ph: 'f', pid: 0, tid: 1, name: 'h2', ts: 2, id: 10 },
      { ph: 'X', pid: 0.5, tid: 0, name: 'd', ts: 30, dur: 1 },
    ] };
    const p = checkChromeTrace(bad);
    expect(p.some((x) => /b.* overlaps .*a.* without nesting/.test(x))).toBe(true);
    expect(p.some((x) => /dur must be >= 0/.test(x))).toBe(true);
    expect(p.some((x) => /flow 9: 1 starts and 0 ends/.test(x))).toBe(true);
    expect(p.some((x) => /flow end without bp/.test(x))).toBe(true);
    expect(p.some((x) => /pid must be an integer/.test(x))).toBe(true);
    expect(checkChromeTrace({})).toEqual(['traceEvents: expected an array']);
  });
});
