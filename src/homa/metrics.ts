/**
 * Homa's per-core counters (homa_metrics.c), named as /proc/net/homa_metrics names them so a
 * report reads like util/metrics.py: packets_sent_<TYPE> / packets_rcvd_<TYPE>, grants,
 * needy_grants, fifo_grant_bytes, resent_packets, rpc_timeouts, throttle_list_adds/checks,
 * pacer packets vs others, GRO bypasses, hand-offs (and wake-up migrations of the threads they
 * woke, --wakeup-placement), wait_none/fast/block, and the emulator's
 * canaries (pool exhaustion, full tables, drops by reason). Each core writes only its own row
 * of the shared `metrics` column with plain stores; the main thread sums rows after the run.
 */
const TYPE_NAMES = ['DATA', 'GRANT', 'RESEND', 'RPC_UNKNOWN', 'BUSY', 'CUTOFFS', 'FREEZE', 'NEED_ACK', 'ACK'];

/** Every counter, in row order. packets_sent_<T> is at index PKTS_SENT + (type - 0x10). */
export const METRIC_NAMES: readonly string[] = [
  ...TYPE_NAMES.map((t) => `packets_sent_${t}`),
  ...TYPE_NAMES.map((t) => `packets_rcvd_${t}`),
  'grant_check_calls', 'grants', 'grant_bytes', 'needy_grants', 'fifo_grants', 'fifo_grant_bytes',
  'resent_packets', 'rpc_timeouts', 'throttle_list_adds', 'throttle_list_checks', 'pacer_packets', 'pacer_bytes',
  'pacer_help_packets', 'other_data_packets', 'nic_throttled', 'gro_data_bypasses', 'gro_grant_bypasses', 'gro_batches',
  'gro_batch_packets', 'softirq_calls', 'softirq_packets', 'handoffs_thread_waiting', 'handoffs_alt_thread', 'ready_list_adds',
  'wait_none', 'wait_fast', 'wait_block', 'poll_ns', 'blocked_ns',
  'client_requests_started', 'client_responses_done', 'server_requests_done', 'server_responses_started',
  'sent_msg_bytes', 'recv_msg_bytes', 'data_dropped_duplicate', 'data_dropped_no_bufs', 'data_dropped_gaps_full',
  'unknown_rpcs', 'server_cant_create_rpcs', 'rpcs_ended', 'aborts_enotconn', 'aborts_etimedout',
  'packet_alloc_failures', 'rpc_alloc_failures', 'page_alloc_failures', 'softirq_ring_full_drops', 'tx_ring_full',
  'ack_overflows', 'acks_piggybacked', 'acks_received', 'ignored_need_acks', 'cutoffs_sent', 'busy_sent',
  'waiters_full', 'bypass_ns',
  'throttled_sample_ns', 'throttled_integral', 'throttled_max', 'nic_backlog_ns',
  'gen2_rotations', 'gen3_handoffs', 'gen3_alt_handoffs',
  'wakeup_migrations',
];
export const NUM_METRICS = METRIC_NAMES.length;

function idx(name: string): number {
  const i = METRIC_NAMES.indexOf(name);
  if (i < 0) throw new Error(`metrics: no counter ${name}`);
  return i;
}

/** Index of each counter (the row is `metrics[globalCore * NUM_METRICS + M.x]`). */
export const M = {
  PKTS_SENT: 0,
  PKTS_RCVD: TYPE_NAMES.length,
  grant_check_calls: idx('grant_check_calls'),
  grants: idx('grants'),
  grant_bytes: idx('grant_bytes'),
  needy_grants: idx('needy_grants'),
  fifo_grants: idx('fifo_grants'),
  fifo_grant_bytes: idx('fifo_grant_bytes'),
  resent_packets: idx('resent_packets'),
  rpc_timeouts: idx('rpc_timeouts'),
  throttle_list_adds: idx('throttle_list_adds'),
  throttle_list_checks: idx('throttle_list_checks'),
  pacer_packets: idx('pacer_packets'),
  pacer_bytes: idx('pacer_bytes'),
  pacer_help_packets: idx('pacer_help_packets'),
  other_data_packets: idx('other_data_packets'),
  nic_throttled: idx('nic_throttled'),
  gro_data_bypasses: idx('gro_data_bypasses'),
  gro_grant_bypasses: idx('gro_grant_bypasses'),
  gro_batches: idx('gro_batches'),
  gro_batch_packets: idx('gro_batch_packets'),
  softirq_calls: idx('softirq_calls'),
  softirq_packets: idx('softirq_packets'),
  handoffs_thread_waiting: idx('handoffs_thread_waiting'),
  handoffs_alt_thread: idx('handoffs_alt_thread'),
  ready_list_adds: idx('ready_list_adds'),
  wait_none: idx('wait_none'),
  wait_fast: idx('wait_fast'),
  wait_block: idx('wait_block'),
  poll_ns: idx('poll_ns'),
  blocked_ns: idx('blocked_ns'),
  client_requests_started: idx('client_requests_started'),
  client_responses_done: idx('client_responses_done'),
  server_requests_done: idx('server_requests_done'),
  server_responses_started: idx('server_responses_started'),
  sent_msg_bytes: idx('sent_msg_bytes'),
  recv_msg_bytes: idx('recv_msg_bytes'),
  data_dropped_duplicate: idx('data_dropped_duplicate'),
  data_dropped_no_bufs: idx('data_dropped_no_bufs'),
  data_dropped_gaps_full: idx('data_dropped_gaps_full'),
  unknown_rpcs: idx('unknown_rpcs'),
  server_cant_create_rpcs: idx('server_cant_create_rpcs'),
  rpcs_ended: idx('rpcs_ended'),
  aborts_enotconn: idx('aborts_enotconn'),
  aborts_etimedout: idx('aborts_etimedout'),
  packet_alloc_failures: idx('packet_alloc_failures'),
  rpc_alloc_failures: idx('rpc_alloc_failures'),
  page_alloc_failures: idx('page_alloc_failures'),
  softirq_ring_full_drops: idx('softirq_ring_full_drops'),
  tx_ring_full: idx('tx_ring_full'),
  ack_overflows: idx('ack_overflows'),
  acks_piggybacked: idx('acks_piggybacked'),
  acks_received: idx('acks_received'),
  ignored_need_acks: idx('ignored_need_acks'),
  cutoffs_sent: idx('cutoffs_sent'),
  busy_sent: idx('busy_sent'),
  waiters_full: idx('waiters_full'),
  bypass_ns: idx('bypass_ns'),
  /** Pacer-core sampling of the throttled list, every pass: span sampled, ∫ length dt, max, time non-empty. */
  throttled_sample_ns: idx('throttled_sample_ns'),
  throttled_integral: idx('throttled_integral'),
  throttled_max: idx('throttled_max'),
  nic_backlog_ns: idx('nic_backlog_ns'),
  /** Steering decisions (the policy's own counters, copied in at stop): Gen2 rotations, Gen3 hand-offs. */
  gen2_rotations: idx('gen2_rotations'),
  gen3_handoffs: idx('gen3_handoffs'),
  gen3_alt_handoffs: idx('gen3_alt_handoffs'),
  /** Hand-offs that woke a sleeping thread on another core than the one it slept on (--wakeup-placement), counted by the SoftIRQ core. */
  wakeup_migrations: idx('wakeup_migrations'),
} as const;

/** Sums rows [from, to) of a metrics column into a name -> value object (main thread). */
export function sumMetrics(metrics: Float64Array, fromCore: number, toCore: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < NUM_METRICS; i++) {
    let s = 0;
    for (let c = fromCore; c < toCore; c++) s += metrics[c * NUM_METRICS + i]!;
    out[METRIC_NAMES[i]!] = s;
  }
  return out;
}
