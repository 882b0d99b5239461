import { describe, expect, it } from 'vitest';
import { NUM_ROLES, Role } from '../../src/cpu/context.js';
import { CoreStat, CORE_STAT_FIELDS } from '../../src/cpu/control.js';
import { M, NUM_METRICS } from '../../src/homa/metrics.js';
import { LockStat, LOCK_STAT_FIELDS } from '../../src/shm/lock.js';
import {
  XL170_CPU_KHZ, formatHomaMetrics, hostMetricsInputs, metricLine, type CoreMetricsInput, type HostMetricsInput,
} from '../../src/metrics/homa-metrics.js';
import { nsToCycles, timeBaseOf } from '../../src/metrics/emu-time.js';

/** What util/metrics.py's reader accepts per line: name, spaces, an unsigned integer, the rest. */
const METRICS_PY_LINE = /^([^ ]*) *([0-9]+) *(.*)/;

/** Every counter name util/metrics.py looks up by name (on a core or in its deltas). */
const NAMES_METRICS_PY_READS = [
  'napi_cycles', 'linux_softirq_cycles', 'send_cycles', 'recv_cycles', 'reply_cycles', 'timer_cycles', 'send_calls', 'poll_cycles',
  'recv_calls', 'reply_calls', 'bypass_softirq_cycles', 'softirq_cycles', 'pacer_cycles', 'skb_allocs', 'skb_alloc_cycles',
  'skb_frees', 'skb_free_cycles', 'requests_received', 'responses_received', 'wait_none', 'wait_fast', 'wait_block',
  'gen3_alt_handoffs', 'gen3_handoffs', 'handoffs_alt_thread', 'handoffs_thread_waiting', 'packets_rcvd_DATA', 'gro_data_bypasses',
  'packets_rcvd_GRANT', 'gro_grant_bypasses', 'pacer_homa_bytes', 'pacer_tcp_bytes', 'pacer_homa_packets', 'qdisc_tcp_packets',
  'pacer_tcp_packets', 'pacer_help_bytes', 'nic_backlog_cycles', 'pacer_xmit_cycles', 'packets_sent_GRANT', 'needy_grants',
  'grant_check_calls', 'grant_locks', 'grant_lock_misses', 'grant_lock_cycles', 'sent_msg_bytes', 'skb_page_allocs',
  'skb_page_alloc_cycles', 'resent_packets', 'resent_packets_used', 'packet_discards', 'resent_discards', 'unknown_rpcs',
  'peer_kmalloc_errors', 'peer_route_errors', 'control_xmit_errors', 'data_xmit_errors', 'server_cant_create_rpcs', 'short_packets',
  'rpc_timeouts', 'server_rpc_discards', 'server_rpcs_unknown', 'buffer_alloc_failures', 'dropped_data_no_bufs',
  'linux_pkt_alloc_bytes', 'timer_reap_cycles', 'data_pkt_reap_cycles', 'throttle_list_adds', 'throttle_list_checks',
  'packets_sent_ACK',
  ...['client', 'server', 'socket', 'grant', 'throttle', 'peer_ack'].flatMap((l) => [`${l}_lock_misses`, `${l}_lock_miss_cycles`]),
];

function parse(text: string): Array<Record<string, number>> {
  const cores: Array<Record<string, number>> = [{}];
  let core = 0;
  for (const line of text.trimEnd().split('\n')) {
    const m = METRICS_PY_LINE.exec(line);
    expect(m, line).not.toBeNull();
    if (m![1] === 'core') { core = Number(m![2]); cores[core] ??= {}; continue; }
    cores[core]![m![1]!] = Number(m![2]);
  }
  return cores;
}

function core(over: Partial<CoreMetricsInput> = {}): CoreMetricsInput {
  return { counters: {}, roleNs: {}, locks: {}, ...over };
}

describe('metricLine', () => {
  it("prints the kernel's '%-30s %20llu ' then the doc", () => {
    expect(metricLine('napi_cycles', 1234, 'Time in NAPI')).toBe(`napi_cycles${' '.repeat(19)} ${' '.repeat(16)}1234 Time in NAPI`);
    expect(metricLine('x', 12.6, 'd').split(' ').filter((w) => w !== '')).toEqual(['x', '13', 'd']);
    expect(metricLine('x', -5, 'd')).toMatch(/ 0 d$/); // unsigned in the kernel
  });
});

describe('formatHomaMetrics', () => {
  const khz = 2_000_000; // 2 cycles per ns
  const host: HostMetricsInput = {
    node: 'node0', cpuKhz: khz, startNs: 1_000, endNs: 501_000,
    cores: [
      core({
        counters: { packets_rcvd_DATA: 7, softirq_calls: 3, poll_ns: 50, wait_none: 1, wait_fast: 2, wait_block: 4, pacer_packets: 5, gen2_rotations: 9 },
        roleNs: { napi: 100, softirq: 200, bypass: 30, pacer: 40, timer: 5, app: 999 },
        locks: { grant: { acquisitions: 10, misses: 2, waitNs: 60, holdNs: 80 }, pacer: { acquisitions: 4, misses: 1, waitNs: 7, holdNs: 0 } },
      }),
      core({ roleNs: { napi: 1 }, locks: { client: { acquisitions: 3, misses: 3, waitNs: 1000, holdNs: 0 } } }),
    ],
  };
  const text = formatHomaMetrics(host, 'end');
  const lines = text.trimEnd().split('\n');
  const cores = parse(text);

  it('opens with time_cycles and cpu_khz, then one block per core, every line as metrics.py reads it', () => {
    expect(lines[0]).toMatch(/^time_cycles +1002000 /);
    expect(lines[1]).toMatch(/^cpu_khz +2000000 /);
    expect(lines[2]).toMatch(/^core +0 /);
    expect(lines.filter((l) => l.startsWith('core ')).length).toBe(2);
    expect(cores.length).toBe(2);
    // Both cores list the same counters in the same order (metrics.py takes the names from core 0).
    const names = (i: number): string[] => {
      const from = lines.findIndex((l) => l.startsWith(`core `) && METRICS_PY_LINE.exec(l)![2] === String(i));
      const to = lines.findIndex((l, k) => k > from && l.startsWith('core '));
      return lines.slice(from + 1, to < 0 ? undefined : to).map((l) => l.split(' ')[0]!);
    };
    expect(names(1)).toEqual(names(0));
    for (const l of lines) expect(l.slice(30, 31), l).toBe(' ');
  });

  it('has every counter metrics.py looks up', () => {
    for (const n of NAMES_METRICS_PY_READS) expect(cores[0]![n], n).toBeTypeOf('number');
    expect(cores[0]!['time_cycles']).toBeGreaterThan(0);
  });

  it('converts role times to cycles at cpu_khz and maps them to the kernel counters', () => {
    const c = cores[0]!;
    expect(c['napi_cycles']).toBe(200);
    expect(c['softirq_cycles']).toBe(400);
    expect(c['bypass_softirq_cycles']).toBe(60);
    expect(c['linux_softirq_cycles']).toBe(460);
    expect(c['pacer_cycles']).toBe(80);
    expect(c['timer_cycles']).toBe(10);
    expect(c['poll_cycles']).toBe(100);
    expect(c['recv_calls']).toBe(7);
    expect(c['packets_rcvd_DATA']).toBe(7);
    expect(c['pacer_homa_packets']).toBe(5);
    expect(cores[1]!['napi_cycles']).toBe(2);
  });

  it('gives lock misses and miss cycles per class, the grant lock its acquisitions and hold time, other classes under their own names', () => {
    expect(cores[0]!['grant_lock_misses']).toBe(2);
    expect(cores[0]!['grant_lock_miss_cycles']).toBe(120);
    expect(cores[0]!['grant_locks']).toBe(10);
    expect(cores[0]!['grant_lock_cycles']).toBe(160);
    expect(cores[0]!['pacer_lock_misses']).toBe(1);
    expect(cores[1]!['client_lock_misses']).toBe(3);
    expect(cores[1]!['client_lock_miss_cycles']).toBe(2000);
    expect(cores[1]!['grant_lock_misses']).toBe(0);
    expect(cores[0]!['gen2_rotations']).toBe(9);
  });

  it('start snapshot: the same lines with every counter 0 and the clock at the window start', () => {
    const start = formatHomaMetrics(host, 'start');
    const s = parse(start);
    expect(start.split('\n').map((l) => l.split(' ')[0])).toEqual(text.split('\n').map((l) => l.split(' ')[0]));
    expect(s[0]!['time_cycles']).toBe(2000);
    expect(s[0]!['cpu_khz']).toBe(khz);
    for (const [i, c] of s.entries()) {
      for (const [k, v] of Object.entries(c)) if (k !== 'time_cycles' && k !== 'cpu_khz') expect(v, `core ${i} ${k}`).toBe(0);
    }
  });
});

describe('hostMetricsInputs', () => {
  it('splits per-core columns by host, converts raw ns to emulated ns with the dilation', () => {
    const hosts = 2, coresPerHost = 2, workers = hosts * coresPerHost + 1;
    const metrics = new Float64Array(hosts * coresPerHost * NUM_METRICS);
    const coreStats = new Float64Array(workers * CORE_STAT_FIELDS);
    const g = 3; // h1.c1
    metrics[g * NUM_METRICS + M.softirq_calls] = 11;
    metrics[g * NUM_METRICS + M.poll_ns] = 4000;
    coreStats[g * CORE_STAT_FIELDS + CoreStat.ROLE_NS + Role.NAPI] = 2e6;
    coreStats[g * CORE_STAT_FIELDS + CoreStat.MEASURE_START_NS] = 1e6;
    coreStats[g * CORE_STAT_FIELDS + CoreStat.MEASURE_END_NS] = 3e6;
    const row = (): Float64Array => new Float64Array(LOCK_STAT_FIELDS);
    const perCore = Array.from({ length: workers }, row);
    perCore[g]![LockStat.ACQUISITIONS] = 8;
    perCore[g]![LockStat.MISSES] = 2;
    perCore[g]![LockStat.WAIT_NS] = 400;
    perCore[g]![LockStat.HOLD_NS_SAMPLED] = 100;
    perCore[g]![LockStat.HOLD_SAMPLES] = 2;
    const out = hostMetricsInputs({ hosts, coresPerHost, metrics, coreStats, lockStats: [{ cls: 'socket', perCore }] }, timeBaseOf({ clock: 'wall', dilation: 20 }), XL170_CPU_KHZ);
    expect(out.map((h) => h.node)).toEqual(['node0', 'node1']);
    const c = out[1]!.cores[1]!;
    expect(c.counters['softirq_calls']).toBe(11);
    expect(c.counters['poll_ns']).toBe(200);
    expect(c.roleNs['napi']).toBe(1e5);
    expect(Object.keys(c.roleNs).length).toBe(NUM_ROLES);
    expect(c.locks['socket']).toEqual({ acquisitions: 8, misses: 2, waitNs: 20, holdNs: 20 });
    expect(out[1]!.endNs).toBe(3e6 / 20);
    const parsed = parse(formatHomaMetrics(out[1]!));
    expect(parsed[1]!['napi_cycles']).toBe(nsToCycles(1e5, XL170_CPU_KHZ));
    expect(parsed[1]!['napi_cycles']).toBe(240_000);
    expect(parsed[0]!['cpu_khz']).toBe(2_400_000);
  });
});
