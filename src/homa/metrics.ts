/**
 * Homa's per-core counters (homa_metrics.c), named as /proc/net/homa_metrics names them so a
 * report reads like util/metrics.py: packets_sent_<TYPE> / packets_rcvd_<TYPE>, grants,
 * needy_grants, fifo_grant_bytes, resent_packets, rpc_timeouts, throttle_list_adds/checks,
 * pacer packets vs others, GRO bypasses, hand-offs (and wake-up migrations of the threads they
 * woke, --wakeup-placement), wait_none/fast/block, and the emulator's
 * canaries (pool exhaustion, full tables, drops by reason). Each core writes only its own row
 * of the shared `metrics` column with plain stores; the main thread sums rows after the run.
 */
const TYPE_NAMES = ['DATA', 'GRANT', 'RESEND', 'RPC_UNKNOWN', 'BUSY', 'CUTOFFS', 'FREEZE', 'NEED_ACK', 'ACK'] as const;

/**
 * The counters after the per-type packet counts, in row order: the one list every name comes
 * from (`MetricName`), so a renamed counter is a compile error wherever it is read. Notes:
 * throttled_sample_ns / throttled_integral / throttled_max / nic_backlog_ns are the pacer core's
 * sampling of the throttled list (span, integral of length dt, max, time non-empty);
 * gen2_rotations / gen3_handoffs / gen3_alt_handoffs are the steering policy's own counters,
 * copied in at stop; wakeup_migrations counts hand-offs that woke a sleeping thread on another
 * core (--wakeup-placement), on the SoftIRQ core.
 */
const COUNTERS = [
  'grant_check_calls', 'grants', 'grant_bytes', 'needy_grants', 'fifo_grants', 'fifo_grant_bytes',
  'resent_packets', 'rpc_timeouts', 'throttle_list_adds', 'throttle_list_checks', 'pacer_packets',
  'pacer_bytes', 'pacer_help_packets', 'other_data_packets', 'nic_throttled', 'gro_data_bypasses',
  'gro_grant_bypasses', 'gro_batches', 'gro_batch_packets', 'softirq_calls', 'softirq_packets',
  'handoffs_thread_waiting', 'handoffs_alt_thread', 'ready_list_adds', 'wait_none', 'wait_fast', 'wait_block',
  'poll_ns', 'blocked_ns', 'client_requests_started', 'client_responses_done', 'server_requests_done',
  'server_responses_started', 'sent_msg_bytes', 'recv_msg_bytes', 'data_dropped_duplicate',
  'data_dropped_no_bufs', 'data_dropped_gaps_full', 'unknown_rpcs', 'server_cant_create_rpcs', 'rpcs_ended',
  'aborts_enotconn', 'aborts_etimedout', 'packet_alloc_failures', 'rpc_alloc_failures', 'page_alloc_failures',
  'softirq_ring_full_drops', 'tx_ring_full', 'ack_overflows', 'acks_piggybacked', 'acks_received',
  'ignored_need_acks', 'cutoffs_sent', 'busy_sent', 'waiters_full', 'bypass_ns', 'throttled_sample_ns',
  'throttled_integral', 'throttled_max', 'nic_backlog_ns', 'gen2_rotations', 'gen3_handoffs',
  'gen3_alt_handoffs', 'wakeup_migrations',
] as const;

export type PacketTypeName = (typeof TYPE_NAMES)[number];
/** The name of a counter, as /proc/net/homa_metrics (or homa-emu, for its own) names it. */
export type MetricName = `packets_sent_${PacketTypeName}` | `packets_rcvd_${PacketTypeName}` | (typeof COUNTERS)[number];

/** Every counter, in row order. packets_sent_<T> is at index PKTS_SENT + (type - 0x10). */
export const METRIC_NAMES: readonly MetricName[] = [
  ...TYPE_NAMES.map((t): MetricName => `packets_sent_${t}`),
  ...TYPE_NAMES.map((t): MetricName => `packets_rcvd_${t}`),
  ...COUNTERS,
];
export const NUM_METRICS = METRIC_NAMES.length;

/** Index of each counter (the row is `metrics[globalCore * NUM_METRICS + M.x]`). */
export const M = {
  PKTS_SENT: 0,
  PKTS_RCVD: TYPE_NAMES.length,
  ...(Object.fromEntries(COUNTERS.map((n, i) => [n, 2 * TYPE_NAMES.length + i])) as { readonly [K in (typeof COUNTERS)[number]]: number }),
} as const;

/** Sums rows [from, to) of a metrics column into a name -> value object (main thread). */
export function sumMetrics(metrics: Float64Array, fromCore: number, toCore: number): Record<MetricName, number> {
  const out = {} as Record<MetricName, number>;
  for (let i = 0; i < NUM_METRICS; i++) {
    let s = 0;
    for (let c = fromCore; c < toCore; c++) s += metrics[c * NUM_METRICS + i]!;
    out[METRIC_NAMES[i]!] = s;
  }
  return out;
}
