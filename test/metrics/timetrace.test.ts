import { describe, expect, it } from 'vitest';
import { allocate, column } from '../../src/shm/layout.js';
import { TT, TT_FORMATS, TimeTrace, formatEvent, formatTimetrace, hostAddr, timetraceLayout } from '../../src/metrics/timetrace.js';

/** tthoma.py's line reader: time, core, message. */
const TTHOMA_LINE = /^ *([-0-9.]+) us .* \[C([0-9]+)\] (.*)$/;

describe('TimeTrace ring', () => {
  it('keeps the newest capacity events, oldest first, with four 32-bit arguments', () => {
    const tt = new TimeTrace(4);
    for (let i = 0; i < 6; i++) tt.record(1000 + i, TT['gro_data']!, i, -1, 2 ** 32 - 1, 7);
    expect(tt.count).toBe(4);
    const seen: number[][] = [];
    tt.forEach((t, f, a0, a1, a2, a3) => seen.push([t, f, a0, a1, a2, a3]));
    expect(seen.map((e) => e[0])).toEqual([1002, 1003, 1004, 1005]);
    expect(seen[0]!.slice(1)).toEqual([TT['gro_data'], 2, -1, -1, 7]);
    tt.clear();
    expect(tt.count).toBe(0);
  });

  it('lives in shared columns: one ring per core, read from another view of the same memory', () => {
    const desc = timetraceLayout(3, 8);
    const sab = allocate(desc);
    const cols = (): [Float64Array, Int32Array, Int32Array] => [column(sab, desc, 'times', 'f64'), column(sab, desc, 'words', 'i32'), column(sab, desc, 'state', 'i32')];
    const writer = TimeTrace.inColumns(...cols(), 1, 8);
    writer.record(5, TT['softirq_start']!);
    const early = TimeTrace.inColumns(...cols(), 1, 8);
    expect(early.count).toBe(0); // not published yet: the writer keeps its position until it stops
    writer.publish();
    const reader = TimeTrace.inColumns(...cols(), 1, 8);
    expect(reader.count).toBe(1);
    expect(TimeTrace.inColumns(...cols(), 0, 8).count).toBe(0);
  });

  it('refuses a capacity that is not a power of two', () => {
    expect(() => new TimeTrace(6)).toThrow(/power of two/);
  });
});

describe('formatEvent', () => {
  it('prints with the shapes tthoma.py matches', () => {
    expect(formatEvent(TT['gro_data']!, hostAddr(2), 1234, 8400, 6)).toBe('homa_gro_receive got packet from 0x0a000003 id 1234, offset 8400, priority 6');
    expect(formatEvent(TT['rpc_handoff']!, 99, 4000, 0, 0)).toBe('homa_rpc_handoff handing off id 99 for port 4000');
    expect(formatEvent(TT['recvmsg_done']!, 0, 99, 0, 0)).toBe('homa_recvmsg returning status 0, id 99');
    expect(formatEvent(TT['lock_wait_begin_grant']!, 0, 0, 0, 0)).toBe('beginning wait for grant lock');
    expect(formatEvent(TT['softirq_grant']!, 5, 10000, 7, -1400)).toBe('processing grant for id 5, offset 10000, priority 7, increment -1400');
    expect(formatEvent(TT['nic_data']!, hostAddr(0), 5, 0, 0x1f)).toBe('sent homa data packet via mlx to 0x0a000001, id 5, offset 0, queue 0x1f');
  });

  it('every format matches one of the analyzers\' patterns or is homa-emu\'s own', () => {
    const patterns = [
      /^homa_gro_receive got packet from ([^ ]+) id ([0-9]+), offset ([0-9.]+), priority ([0-9.]+)$/,
      /^homa_gro_receive got grant from ([^ ]+) id ([0-9]+), offset ([0-9]+), priority ([0-9]+)$/,
      /^homa_gro_receive got packet from (0x[0-9a-f]+) id ([0-9]+), type (0x[0-9a-f]+)$/,
      /^homa_gro_.* chose core ([0-9]+)$/, /^homa_softirq starting$/,
      /^incoming data packet, id ([0-9]+), .*, offset ([0-9.]+)\/([0-9.]+)$/,
      /^processing grant for id ([0-9]+), offset ([0-9]+), priority ([0-9]+), increment ([-0-9]+)$/,
      /^homa_rpc_handoff handing off id ([0-9]+) for port ([0-9]+)$/, /^homa_rpc_handoff queued id ([0-9]+) for port ([0-9]+)$/,
      /^homa_recvmsg starting, port ([0-9]+), pid ([0-9]+)$/,
      /^homa_wait_[^ ]+ found rpc id ([0-9]+), pid ([0-9]+), port ([0-9]+) via ([a-z_]+), blocked ([0-9]+)$/,
      /^homa_recvmsg returning status ([0-9]+), id ([0-9]+)$/,
      /^homa_sendmsg request, target ([^: ]+):.* id ([0-9]+), length ([0-9]+)$/, /^homa_sendmsg response, id ([0-9]+), port ([0-9]+), .*length ([0-9]+)$/,
      /^homa_sendmsg finished, id ([0-9]+)$/, /^Finished queueing packet: rpc id ([0-9]+), offset ([0-9]+), len ([0-9]+), qid ([0-9]+)$/,
      /^calling ip.*_xmit: wire_bytes ([0-9]+), peer ([^,]+), id ([0-9]+), offset ([0-9]+)$/,
      /^sent homa data packet via (mlx|ice) to ([^,]+), id ([0-9]+), offset ([0-9]+), queue (0x[0-9a-f]+)$/,
      /^sending grant for id ([0-9]+), offset ([0-9]+), priority ([0-9]+), increment ([0-9]+)$/,
      /^sent homa grant via (mlx|ice) to ([^,]+), id ([0-9]+), offset ([0-9]+), queue (0x[0-9a-f]+)$/,
      /^Sending RESEND for id ([0-9]+), peer ([^,]+), offset ([0-9]+), length ([-0-9]+)$/,
      /^resend request for id ([0-9]+), offset ([0-9]+), length ([-0-9]+)/, /^retransmitting offset ([0-9]+), length ([0-9]+), id ([0-9]+)$/,
      /^pacer calling homa_xmit_data for rpc id ([0-9]+), port ([0-9]+), offset ([0-9]+), bytes_left ([0-9]+)$/,
      /^homa_rpc_end invoked for id ([0-9]+), port ([0-9]+)$/, /^(beginning|ending) wait for (.*) lock$/,
    ];
    for (let id = 0; id < TT_FORMATS.length; id++) {
      const msg = formatEvent(id, 1, 2, 3, 4);
      const own = /^homa-emu |^homa_timer /.test(msg);
      expect(own || patterns.some((p) => p.test(msg)), `${TT_FORMATS[id]!.name}: ${msg}`).toBe(true);
    }
  });
});

describe('formatTimetrace', () => {
  const tb = { rawNsPerEmulatedNs: 10 };
  const c0 = new TimeTrace(16);
  const c1 = new TimeTrace(16);
  c0.record(20_000, TT['gro_data']!, hostAddr(1), 7, 0, 6);
  c0.record(25_000, TT['gro_handoff']!, 1);
  c1.record(40_000, TT['softirq_start']!);
  c1.record(52_340, TT['rpc_handoff']!, 7, 4000);
  c0.record(90_000, TT['core_idle']!);

  it("prints ttprint.py's lines, cores merged in time order, times emulated and relative to the first event", () => {
    const lines = formatTimetrace([c0, c1], { timeBase: tb, cpuKhz: 2_000_000 }).trimEnd().split('\n');
    expect(lines).toEqual([
      '    0.000 us (+   0.000 us) [C00] First event has timestamp 4000 (cpu_ghz 2.000000000000000)',
      '    0.000 us (+   0.000 us) [C00] homa_gro_receive got packet from 0x0a000002 id 7, offset 0, priority 6',
      '    0.500 us (+   0.500 us) [C00] homa_gro_complete chose core 1',
      '    2.000 us (+   1.500 us) [C01] homa_softirq starting',
      '    3.234 us (+   1.234 us) [C01] homa_rpc_handoff handing off id 7 for port 4000',
      '    7.000 us (+   3.766 us) [C00] homa-emu core idle',
    ]);
    for (const l of lines) expect(l).toMatch(TTHOMA_LINE);
  });

  it('keeps only the last --tt-window-us before the last event', () => {
    const lines = formatTimetrace([c0, c1], { timeBase: tb, cpuKhz: 2_000_000, windowUs: 5 }).trimEnd().split('\n');
    expect(lines.slice(1).map((l) => TTHOMA_LINE.exec(l)![3])).toEqual(['homa_softirq starting', 'homa_rpc_handoff handing off id 7 for port 4000', 'homa-emu core idle']);
    expect(formatTimetrace([new TimeTrace(2)], { timeBase: tb, cpuKhz: 1 })).toBe('');
  });
});
