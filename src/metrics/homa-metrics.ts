/**
 * `--metrics DIR`: per emulated host a snapshot in the format of the kernel's
 * /proc/net/homa_metrics, so HomaModule's util/metrics.py reads an emulated run as it reads a
 * real host. The format is `time_cycles` and `cpu_khz` first (metrics.py files them under core
 * 0), then per core a `core N` line followed by one `name value doc` line per counter (name
 * left-aligned in 30 columns, value an unsigned integer right-aligned in 20). Counter names are
 * the kernel's; times are `*_cycles` at the stated `cpu_khz` (emulated ns converted in
 * src/metrics/emu-time.ts). Where homa-emu has a counter the kernel lacks, it follows the
 * kernel's under our own name; kernel counters metrics.py needs but homa-emu does not model are
 * written as 0 and their doc says so. Core role times map to the kernel's: NAPI -> napi_cycles,
 * SoftIRQ -> softirq_cycles, GRO bypass -> bypass_softirq_cycles, both SoftIRQ kinds ->
 * linux_softirq_cycles (metrics.py adds napi and linux_softirq for a core's total), pacer ->
 * pacer_cycles, timer -> timer_cycles; app time is not split into sendmsg/recvmsg (only the
 * polling inside recvmsg is: poll_cycles, counted in recv_cycles as the kernel does). Lock
 * classes give `<class>_lock_misses` and `<class>_lock_miss_cycles`; the grant lock also
 * `grant_locks` and `grant_lock_cycles` (hold time, estimated from sampled holds).
 *
 * metrics.py prints rates and the per-core table only from the difference of two snapshots, so
 * beside each host's end snapshot (`node<H>.homa_metrics`) a start snapshot of the measured
 * window (`node<H>.homa_metrics.prev`: every counter 0, the clock at the window's start) is
 * written; counters are reset when measuring starts. Pure functions; the CLI writes the files.
 */
import { NUM_ROLES, ROLE_NAMES } from '../cpu/context.js';
import { CoreStat, CORE_STAT_FIELDS } from '../cpu/control.js';
import { METRIC_NAMES, NUM_METRICS, type MetricName } from '../homa/metrics.js';
import { LockStat } from '../shm/lock.js';
import { nsToCycles, toEmulatedNs, type TimeBase } from './emu-time.js';

/** The cpu_khz of a CloudLab xl170 (Intel E5-2640v4 at 2.4 GHz), the default `--cpu-khz`. */
export const XL170_CPU_KHZ = 2_400_000;

/** One emulated core's inputs, times already in emulated ns. */
export interface CoreMetricsInput {
  /** Homa's counters by homa-emu's name (src/homa/metrics.ts); `*_ns` and throttled_integral in emulated ns. */
  counters: Record<MetricName, number>;
  /** Emulated ns charged to each role (keys: ROLE_NAMES). */
  roleNs: Record<string, number>;
  /** Per lock class: acquisitions, misses, ns waited on misses, ns held (estimated). */
  locks: Record<string, { acquisitions: number; misses: number; waitNs: number; holdNs: number }>;
}

/** One host's snapshot inputs. */
export interface HostMetricsInput {
  /** File stem: node0, node1, ... */
  node: string;
  cpuKhz: number;
  /** Emulated ns since the run's clock origin at the start and the end of the measured window. */
  startNs: number;
  endNs: number;
  cores: CoreMetricsInput[];
}

type Getter = (c: CoreMetricsInput, khz: number) => number;

const cnt = (name: MetricName): Getter => (c) => c.counters[name];
const role = (...roles: string[]): Getter => (c, khz) => nsToCycles(roles.reduce((a, r) => a + (c.roleNs[r] ?? 0), 0), khz);
const nsCounter = (name: MetricName): Getter => (c, khz) => nsToCycles(c.counters[name], khz);
const lockMisses = (cls: string): Getter => (c) => c.locks[cls]?.misses ?? 0;
const lockMissCycles = (cls: string): Getter => (c, khz) => nsToCycles(c.locks[cls]?.waitNs ?? 0, khz);
const zero: Getter = () => 0;
const NOT_MODELLED = ' (not modelled by homa-emu: always 0)';

const PKT_TYPES = ['DATA', 'GRANT', 'RESEND', 'RPC_UNKNOWN', 'BUSY', 'CUTOFFS', 'FREEZE', 'NEED_ACK', 'ACK'];

/**
 * The kernel's counters in the kernel's order (those metrics.py reads, and those homa-emu can
 * fill), each with how it is computed and a doc line in our words.
 */
const KERNEL: ReadonlyArray<[string, Getter, string]> = [
  ['recv_msg_bytes', cnt('recv_msg_bytes'), 'homa-emu: bytes in all incoming messages (not split by length as msg_bytes_N are)'],
  ['large_msg_count', zero, `Incoming messages counted by length${NOT_MODELLED}`],
  ['large_msg_bytes', zero, `Bytes of incoming messages counted by length${NOT_MODELLED}`],
  ['client_requests_started', cnt('client_requests_started'), 'Client RPCs begun'],
  ['client_responses_done', cnt('client_responses_done'), 'Client RPCs whose response fully arrived'],
  ['server_requests_done', cnt('server_requests_done'), 'Server RPCs whose request fully arrived'],
  ['server_responses_started', cnt('server_responses_started'), 'Server RPCs that began a response'],
  ['sent_msg_bytes', cnt('sent_msg_bytes'), 'Bytes in all outgoing messages'],
  ...PKT_TYPES.map((t, i): [string, Getter, string] => [`packets_sent_${t}`, cnt(METRIC_NAMES[i]!), `${t} packets transmitted`]),
  ...PKT_TYPES.map((t, i): [string, Getter, string] => [`packets_rcvd_${t}`, cnt(METRIC_NAMES[PKT_TYPES.length + i]!), `${t} packets received`]),
  ['skb_allocs', zero, `Packet buffers allocated${NOT_MODELLED}`],
  ['skb_alloc_cycles', zero, `Time allocating packet buffers${NOT_MODELLED}`],
  ['skb_frees', zero, `Packet buffers freed${NOT_MODELLED}`],
  ['skb_free_cycles', zero, `Time freeing packet buffers${NOT_MODELLED}`],
  ['skb_page_allocs', zero, `Pages allocated for packet fragments${NOT_MODELLED}`],
  ['skb_page_alloc_cycles', zero, `Time allocating fragment pages${NOT_MODELLED}`],
  ['requests_received', cnt('server_requests_done'), 'Request messages received in full'],
  ['responses_received', cnt('client_responses_done'), 'Response messages received in full'],
  ['wait_none', cnt('wait_none'), 'Messages recvmsg found ready without waiting'],
  ['wait_fast', cnt('wait_fast'), 'Messages that arrived while recvmsg polled'],
  ['wait_block', cnt('wait_block'), 'Messages that arrived after recvmsg slept'],
  ['handoffs_thread_waiting', cnt('handoffs_thread_waiting'), 'Messages handed straight to a waiting thread'],
  ['handoffs_alt_thread', cnt('handoffs_alt_thread'), 'Hand-offs to a waiting thread other than the first'],
  ['poll_cycles', nsCounter('poll_ns'), 'Time recvmsg spent polling'],
  ['softirq_calls', cnt('softirq_calls'), 'Calls into Homa SoftIRQ processing'],
  ['softirq_cycles', role('softirq'), 'Time in Homa SoftIRQ processing on SoftIRQ cores'],
  ['bypass_softirq_cycles', role('bypass'), 'Time in Homa SoftIRQ processing run inline by GRO (bypass)'],
  ['linux_softirq_cycles', role('softirq', 'bypass'), 'Time in SoftIRQ (homa-emu: Homa SoftIRQ work, steered and bypass)'],
  ['napi_cycles', role('napi'), 'Time in NAPI/GRO packet handling'],
  ['send_cycles', zero, 'Time in sendmsg for requests (homa-emu: app time is not split by call; 0)'],
  ['send_calls', cnt('client_requests_started'), 'sendmsg calls for requests'],
  ['recv_cycles', nsCounter('poll_ns'), 'Time in recvmsg not blocked (homa-emu: its polling only)'],
  ['recv_calls', (c) => c.counters.wait_none + c.counters.wait_fast + c.counters.wait_block, 'recvmsg calls that returned a message'],
  ['blocked_cycles', nsCounter('blocked_ns'), 'Time recvmsg spent asleep'],
  ['reply_cycles', zero, 'Time in sendmsg for responses (homa-emu: app time is not split by call; 0)'],
  ['reply_calls', cnt('server_responses_started'), 'sendmsg calls for responses'],
  ['grant_lock_cycles', (c, khz) => nsToCycles(c.locks['grant']?.holdNs ?? 0, khz), 'Time the grant lock was held (estimated from sampled holds)'],
  ['timer_cycles', role('timer'), 'Time in the timer'],
  ['timer_reap_cycles', zero, `Time the timer spent reaping${NOT_MODELLED}`],
  ['data_pkt_reap_cycles', zero, `Time DATA handling spent reaping${NOT_MODELLED}`],
  ['nic_backlog_cycles', nsCounter('nic_backlog_ns'), 'Time the NIC queue was backlogged (throttled list not empty)'],
  ['pacer_cycles', role('pacer'), 'Time in the pacer thread'],
  ['pacer_xmit_cycles', zero, `Time the pacer spent transmitting${NOT_MODELLED}`],
  ['pacer_homa_packets', cnt('pacer_packets'), 'Homa packets the pacer transmitted'],
  ['pacer_homa_bytes', cnt('pacer_bytes'), 'Homa bytes the pacer transmitted, headers included'],
  ['pacer_tcp_packets', zero, 'TCP packets the pacer transmitted (no TCP in homa-emu)'],
  ['pacer_tcp_bytes', zero, 'TCP bytes the pacer transmitted (no TCP in homa-emu)'],
  ['pacer_help_bytes', zero, 'Bytes sent by pacer helpers (homa-emu counts packets: pacer_help_packets)'],
  ['qdisc_tcp_packets', zero, 'TCP packets through the qdisc (no TCP in homa-emu)'],
  ['homa_cycles', (c, khz) => nsToCycles((c.roleNs['softirq'] ?? 0) + (c.roleNs['bypass'] ?? 0) + (c.roleNs['napi'] ?? 0)
    + (c.roleNs['timer'] ?? 0) + c.counters.poll_ns + c.counters.nic_backlog_ns, khz),
  'Time in Homa functions (the kernel sum of the cycles above)'],
  ['resent_packets', cnt('resent_packets'), 'DATA packets retransmitted after a RESEND'],
  ['resent_packets_used', zero, `Retransmitted packets that were needed${NOT_MODELLED}`],
  ['peer_kmalloc_errors', zero, `Peer allocation failures${NOT_MODELLED}`],
  ['peer_route_errors', zero, `Peer route failures${NOT_MODELLED}`],
  ['control_xmit_errors', zero, `Control packets that failed to send${NOT_MODELLED}`],
  ['data_xmit_errors', zero, `DATA packets that failed to send${NOT_MODELLED}`],
  ['unknown_rpcs', cnt('unknown_rpcs'), 'Packets dropped: no such RPC'],
  ['server_cant_create_rpcs', cnt('server_cant_create_rpcs'), 'Packets dropped: the server could not create an RPC'],
  ['short_packets', zero, `Packets dropped as too short${NOT_MODELLED}`],
  ['packet_discards', cnt('data_dropped_duplicate'), 'DATA packets dropped: bytes already received'],
  ['resent_discards', zero, `Retransmitted packets dropped as duplicates${NOT_MODELLED}`],
  ['rpc_timeouts', cnt('rpc_timeouts'), 'RPCs aborted: the peer went silent'],
  ['server_rpc_discards', zero, `Server RPCs discarded after errors${NOT_MODELLED}`],
  ['server_rpcs_unknown', zero, `Server RPCs the client no longer knew${NOT_MODELLED}`],
  ['client_lock_misses', lockMisses('client'), 'Contended acquisitions of client RPC bucket locks'],
  ['client_lock_miss_cycles', lockMissCycles('client'), 'Time waiting for client RPC bucket locks'],
  ['server_lock_misses', lockMisses('server'), 'Contended acquisitions of server RPC bucket locks'],
  ['server_lock_miss_cycles', lockMissCycles('server'), 'Time waiting for server RPC bucket locks'],
  ['socket_lock_misses', lockMisses('socket'), 'Contended acquisitions of socket locks'],
  ['socket_lock_miss_cycles', lockMissCycles('socket'), 'Time waiting for socket locks'],
  ['throttle_lock_misses', lockMisses('throttle'), 'Contended acquisitions of the throttle lock'],
  ['throttle_lock_miss_cycles', lockMissCycles('throttle'), 'Time waiting for the throttle lock'],
  ['peer_ack_lock_misses', lockMisses('peer_ack'), 'Contended acquisitions of peer ack locks'],
  ['peer_ack_lock_miss_cycles', lockMissCycles('peer_ack'), 'Time waiting for peer ack locks'],
  ['grant_locks', (c) => c.locks['grant']?.acquisitions ?? 0, 'Acquisitions of the grant lock'],
  ['grant_lock_misses', lockMisses('grant'), 'Contended acquisitions of the grant lock'],
  ['grant_lock_miss_cycles', lockMissCycles('grant'), 'Time waiting for the grant lock'],
  ['grant_check_calls', cnt('grant_check_calls'), 'Grant checks of an incoming RPC'],
  ['needy_grants', cnt('needy_grants'), 'Grants issued to needy RPCs'],
  ['fifo_grant_bytes', cnt('fifo_grant_bytes'), 'Bytes granted by the FIFO mechanism'],
  ['throttle_list_adds', cnt('throttle_list_adds'), 'Insertions into the throttled list'],
  ['throttle_list_checks', cnt('throttle_list_checks'), 'List entries visited by those insertions'],
  ['ack_overflows', cnt('ack_overflows'), 'Explicit ACKs sent because a peer ack buffer was full'],
  ['ignored_need_acks', cnt('ignored_need_acks'), 'NEED_ACKs ignored: result not yet received'],
  ['buffer_alloc_failures', cnt('page_alloc_failures'), 'Messages that found no receive buffer space'],
  ['linux_pkt_alloc_bytes', zero, `Bytes the NIC driver allocated for packets${NOT_MODELLED}`],
  ['dropped_data_no_bufs', zero, 'DATA bytes dropped for lack of buffers (homa-emu counts packets: data_dropped_no_bufs)'],
  ['gen3_handoffs', cnt('gen3_handoffs'), 'GRO to SoftIRQ hand-offs by the Gen3 steering'],
  ['gen3_alt_handoffs', cnt('gen3_alt_handoffs'), 'Gen3 hand-offs to a second choice core'],
  ['gro_grant_bypasses', cnt('gro_grant_bypasses'), 'GRANT packets processed inline by GRO'],
  ['gro_data_bypasses', cnt('gro_data_bypasses'), 'DATA packets processed inline by GRO'],
];

/** homa-emu counters that map to a kernel counter above (not repeated under their own name). */
const MAPPED = new Set([
  ...METRIC_NAMES.slice(0, 2 * PKT_TYPES.length), 'recv_msg_bytes', 'client_requests_started', 'client_responses_done',
  'server_requests_done', 'server_responses_started', 'sent_msg_bytes', 'wait_none', 'wait_fast', 'wait_block',
  'handoffs_thread_waiting', 'handoffs_alt_thread', 'poll_ns', 'blocked_ns', 'softirq_calls', 'bypass_ns', 'nic_backlog_ns',
  'pacer_packets', 'pacer_bytes', 'resent_packets', 'unknown_rpcs', 'server_cant_create_rpcs', 'data_dropped_duplicate',
  'rpc_timeouts', 'grant_check_calls', 'needy_grants', 'fifo_grant_bytes', 'throttle_list_adds', 'throttle_list_checks',
  'ack_overflows', 'ignored_need_acks', 'page_alloc_failures', 'gen3_handoffs', 'gen3_alt_handoffs', 'gro_grant_bypasses',
  'gro_data_bypasses',
]);

/** Kernel lock classes (above); other homa-emu lock classes follow under the same naming. */
const KERNEL_LOCKS = new Set(['client', 'server', 'socket', 'throttle', 'peer_ack', 'grant']);

/** Doc lines of homa-emu's own counters. */
const OWN_DOCS: Record<string, string> = {
  throttled_sample_ns: 'homa-emu: time the pacer core sampled the throttled list',
  throttled_integral: 'homa-emu: integral of the throttled list length over time',
};

/** One `name value doc` line as the kernel prints it. */
export function metricLine(name: string, value: number, doc: string): string {
  const v = Number.isFinite(value) ? Math.max(0, Math.round(value)) : 0;
  return `${name.padEnd(30)} ${String(v).padStart(20)} ${doc}`;
}

/**
 * Every (name, value, doc) of one core, kernel counters first, then homa-emu's own; `lockClasses`
 * (default: the core's) names the lock classes to list, so every core of a host lists the same.
 */
export function coreMetricLines(c: CoreMetricsInput, cpuKhz: number, lockClasses: readonly string[] = Object.keys(c.locks)): Array<[string, number, string]> {
  const out: Array<[string, number, string]> = KERNEL.map(([name, get, doc]) => [name, get(c, cpuKhz), doc]);
  for (const cls of lockClasses) {
    if (KERNEL_LOCKS.has(cls)) continue;
    out.push([`${cls}_lock_misses`, c.locks[cls]?.misses ?? 0, `homa-emu: contended acquisitions of ${cls} locks`]);
    out.push([`${cls}_lock_miss_cycles`, nsToCycles(c.locks[cls]?.waitNs ?? 0, cpuKhz), `homa-emu: time waiting for ${cls} locks`]);
  }
  for (const name of METRIC_NAMES) {
    if (MAPPED.has(name)) continue;
    const v = c.counters[name];
    if (name.endsWith('_ns')) out.push([`${name.slice(0, -3)}_cycles`, nsToCycles(v, cpuKhz), OWN_DOCS[name] ?? `homa-emu: ${name.slice(0, -3).replace(/_/g, ' ')} time`]);
    else if (name === 'throttled_integral') out.push([name, nsToCycles(v, cpuKhz), OWN_DOCS[name]!]);
    else out.push([name, v, OWN_DOCS[name] ?? `homa-emu: ${name.replace(/_/g, ' ')}`]);
  }
  return out;
}

/**
 * The snapshot text of one host: at the end of the measured window (`at: 'end'`) or its start
 * (`'start'`: the same lines, every counter 0, the clock at the window's start).
 */
export function formatHomaMetrics(h: HostMetricsInput, at: 'start' | 'end' = 'end'): string {
  const lines: string[] = [
    metricLine('time_cycles', nsToCycles(at === 'end' ? h.endNs : h.startNs, h.cpuKhz), 'Emulated clock (cycles since the run began) when this snapshot was taken'),
    metricLine('cpu_khz', h.cpuKhz, 'Clock rate of the emulated cores in kHz'),
  ];
  const classes = [...new Set(h.cores.flatMap((c) => Object.keys(c.locks)))];
  h.cores.forEach((c, i) => {
    lines.push(metricLine('core', i, 'Core whose counters follow'));
    for (const [name, value, doc] of coreMetricLines(c, h.cpuKhz, classes)) lines.push(metricLine(name, at === 'end' ? value : 0, doc));
  });
  return lines.join('\n') + '\n';
}

/** What a run leaves for the snapshots (raw runtime columns; times in raw ns). */
export interface RawMetricsSource {
  hosts: number;
  coresPerHost: number;
  /** Homa's metrics column: row per emulated core, NUM_METRICS fields. */
  metrics: Float64Array;
  /** The runtime's per-worker stat rows (CORE_STAT_FIELDS each). */
  coreStats: Float64Array;
  /** Lock stats per class: per worker rows (LOCK_STAT_FIELDS). */
  lockStats: ReadonlyArray<{ cls: string; perCore: Float64Array[] }>;
}

/** Counters homa-emu keeps in raw ns (converted to emulated ns). */
const RAW_TIME_COUNTERS = new Set(METRIC_NAMES.filter((n) => n.endsWith('_ns') || n === 'throttled_integral'));

/** Builds every host's snapshot inputs from a run's raw columns. */
export function hostMetricsInputs(src: RawMetricsSource, tb: TimeBase, cpuKhz: number): HostMetricsInput[] {
  const hosts: HostMetricsInput[] = [];
  for (let h = 0; h < src.hosts; h++) {
    const cores: CoreMetricsInput[] = [];
    let startNs = Infinity;
    let endNs = 0;
    for (let c = 0; c < src.coresPerHost; c++) {
      const g = h * src.coresPerHost + c;
      const counters = {} as Record<MetricName, number>;
      for (let i = 0; i < NUM_METRICS; i++) {
        const name = METRIC_NAMES[i]!;
        const v = src.metrics[g * NUM_METRICS + i]!;
        counters[name] = RAW_TIME_COUNTERS.has(name) ? toEmulatedNs(v, tb) : v;
      }
      const b = g * CORE_STAT_FIELDS;
      const roleNs: Record<string, number> = {};
      for (let r = 0; r < NUM_ROLES; r++) roleNs[ROLE_NAMES[r]!] = toEmulatedNs(src.coreStats[b + CoreStat.ROLE_NS + r]!, tb);
      startNs = Math.min(startNs, toEmulatedNs(src.coreStats[b + CoreStat.MEASURE_START_NS]!, tb));
      endNs = Math.max(endNs, toEmulatedNs(src.coreStats[b + CoreStat.MEASURE_END_NS]!, tb));
      const locks: CoreMetricsInput['locks'] = {};
      for (const { cls, perCore } of src.lockStats) {
        const row = perCore[g];
        if (row === undefined) continue;
        const acq = row[LockStat.ACQUISITIONS]!;
        const samples = row[LockStat.HOLD_SAMPLES]!;
        locks[cls] = {
          acquisitions: acq,
          misses: row[LockStat.MISSES]!,
          waitNs: toEmulatedNs(row[LockStat.WAIT_NS]!, tb),
          holdNs: samples > 0 ? toEmulatedNs((row[LockStat.HOLD_NS_SAMPLED]! / samples) * acq, tb) : 0,
        };
      }
      cores.push({ counters, roleNs, locks });
    }
    hosts.push({ node: `node${h}`, cpuKhz, startNs: Number.isFinite(startNs) ? startNs : 0, endNs, cores });
  }
  return hosts;
}
