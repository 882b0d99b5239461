/**
 * Per-core time traces in the manner of HomaModule's timetrace (`--tt DIR`): each core owns a
 * fixed ring of events, each a timestamp, a format id and four 32-bit arguments, recorded on
 * the hot path with plain stores into preallocated typed arrays (no allocation, no clock read:
 * the caller passes the `now` it already has; the position is published to shared memory only
 * when the writer stops, `publish`). The ring keeps the newest `capacity` events.
 * The arrays may be views of a SharedArrayBuffer (`timetraceLayout`), so the main thread reads
 * every core's ring after the run. At the end, `formatTimetrace` writes one file per host in
 * the text that HomaModule's util/ttprint.py prints and util/tthoma.py reads:
 * `%9.3f us (+%8.3f us) [Cnn] message`, times relative to the first event, the node name being
 * the file stem. Messages use the kernel's wording for the events tthoma.py's analyzers match
 * (GRO receive, GRO hand-off, SoftIRQ start and DATA/GRANT processing, RPC hand-off or queueing,
 * recvmsg start/return, sendmsg, DATA/GRANT/RESEND transmission, pacer transmit, lock waits),
 * plus homa-emu's own for timer and core idle/busy. Raw timestamps (runtime clock ns) become
 * emulated time in the writer, through the run's TimeBase.
 */
import { LayoutBuilder, type LayoutDesc } from '../shm/layout.js';
import { toEmulatedNs, type TimeBase } from './emu-time.js';
import { hostIp } from '../net/rss.js';

/** Int32 words per event: format id and four arguments. */
export const TT_WORDS = 5;

/**
 * One event format: a name (for callers) and a printf-like text (%d %u %x %08x %%; 32-bit args).
 * Internal events (units of work, counters) feed `--trace` and are left out of the `--tt` files.
 */
export interface TtFormat {
  readonly name: string;
  readonly fmt: string;
  readonly internal?: boolean;
}

/** Lock classes with wait events (src/homa/homa.ts LOCK_CLASSES). */
const TT_LOCK_CLASSES = ['client', 'server', 'socket', 'grant', 'throttle', 'peer_ack', 'pacer'] as const;

/**
 * Every format, indexed by id. Peers are IPv4 addresses printed in hex (10.0.0.(host+1)).
 * Where a run records them (each call site already has `now`; `tt` is the core's ring):
 * NapiContext.groReceive per packet -> gro_data / gro_grant (peer, id, offset, prio), and where
 * steering picks the SoftIRQ core -> gro_handoff (core); homaSoftirq entry -> softirq_start,
 * per DATA -> softirq_data (id, peer, offset, msg length), per GRANT -> softirq_grant; rpcHandoff
 * -> rpc_handoff (thread waiting) or rpc_queued (ready list) with (id, port); recvOrWait on
 * entry -> recvmsg_start (port, thread), when it gets its RPC -> wait_found_rpc_handoff/_queue
 * (id, thread, port, blocked), on return -> recvmsg_done (0, id); homaSendRequest / homaReply ->
 * sendmsg_request (peer, port, id, length) / sendmsg_response, then sendmsg_done; xmitData per
 * packet -> send_data (id, offset, len, 0), xmitPacket -> ip_xmit and nic_data; grant trySend ->
 * send_grant then nic_grant; timer -> timer_start, RESEND sent -> resend_tx, resend received ->
 * resend_rx, resendData -> retransmit; PacerContext per RPC it sends -> pacer_xmit;
 * homaRpcDone -> rpc_end; the core loop when it starts idling -> core_idle and when it finds
 * work -> core_busy (idle ns); LockTable's slow path only (after a failed CAS, and once the lock
 * is got) -> lock_wait_begin_<class> / lock_wait_end_<class>, so the uncontended path is untouched.
 */
export const TT_FORMATS: readonly TtFormat[] = [
  { name: 'gro_data', fmt: 'homa_gro_receive got packet from 0x%08x id %u, offset %u, priority %u' },
  { name: 'gro_grant', fmt: 'homa_gro_receive got grant from 0x%08x id %u, offset %u, priority %u' },
  { name: 'gro_ctl', fmt: 'homa_gro_receive got packet from 0x%08x id %u, type 0x%x' },
  { name: 'gro_handoff', fmt: 'homa_gro_complete chose core %d' },
  { name: 'softirq_start', fmt: 'homa_softirq starting' },
  { name: 'softirq_data', fmt: 'incoming data packet, id %u, peer 0x%08x, offset %u/%u' },
  { name: 'softirq_grant', fmt: 'processing grant for id %u, offset %u, priority %u, increment %d' },
  { name: 'rpc_handoff', fmt: 'homa_rpc_handoff handing off id %u for port %u' },
  { name: 'rpc_queued', fmt: 'homa_rpc_handoff queued id %u for port %u' },
  { name: 'recvmsg_start', fmt: 'homa_recvmsg starting, port %u, pid %d' },
  { name: 'wait_found_rpc_handoff', fmt: 'homa_wait_shared found rpc id %u, pid %d, port %u via handoff, blocked %d' },
  { name: 'wait_found_rpc_queue', fmt: 'homa_wait_shared found rpc id %u, pid %d, port %u via queue, blocked %d' },
  { name: 'recvmsg_done', fmt: 'homa_recvmsg returning status %d, id %u' },
  { name: 'sendmsg_request', fmt: 'homa_sendmsg request, target 0x%08x:%u, id %u, length %u' },
  { name: 'sendmsg_response', fmt: 'homa_sendmsg response, id %u, port %u, pid %d, length %u' },
  { name: 'sendmsg_done', fmt: 'homa_sendmsg finished, id %u' },
  { name: 'send_data', fmt: 'Finished queueing packet: rpc id %u, offset %u, len %u, qid %u' },
  { name: 'ip_xmit', fmt: 'calling ip_queue_xmit: wire_bytes %u, peer 0x%08x, id %u, offset %u' },
  { name: 'nic_data', fmt: 'sent homa data packet via mlx to 0x%08x, id %u, offset %u, queue 0x%x' },
  { name: 'send_grant', fmt: 'sending grant for id %u, offset %u, priority %u, increment %d' },
  { name: 'nic_grant', fmt: 'sent homa grant via mlx to 0x%08x, id %u, offset %u, queue 0x%x' },
  { name: 'resend_tx', fmt: 'Sending RESEND for id %u, peer 0x%08x, offset %u, length %d' },
  { name: 'resend_rx', fmt: 'resend request for id %u, offset %u, length %d, prio %u' },
  { name: 'retransmit', fmt: 'retransmitting offset %u, length %u, id %u' },
  { name: 'pacer_xmit', fmt: 'pacer calling homa_xmit_data for rpc id %u, port %u, offset %u, bytes_left %u' },
  { name: 'rpc_end', fmt: 'homa_rpc_end invoked for id %u, port %u' },
  { name: 'timer_start', fmt: 'homa_timer starting, ticks %u' },
  { name: 'core_idle', fmt: 'homa-emu core idle' },
  { name: 'core_busy', fmt: 'homa-emu core busy after %u ns idle' },
  ...TT_LOCK_CLASSES.flatMap((c): TtFormat[] => [
    { name: `lock_wait_begin_${c}`, fmt: `beginning wait for ${c} lock` },
    { name: `lock_wait_end_${c}`, fmt: `ending wait for ${c} lock` },
  ]),
  // Internal: a unit of work the core loop ran (role, emulated ns), and counter samples.
  { name: 'unit', fmt: 'homa-emu unit role %d for %u + %u/65536 ns', internal: true },
  { name: 'ctr_throttled', fmt: 'homa-emu throttled RPCs %d', internal: true },
  { name: 'ctr_nic_backlog', fmt: 'homa-emu NIC backlog %d ns', internal: true },
  { name: 'ctr_softirq_backlog', fmt: 'homa-emu SoftIRQ backlog %d batches', internal: true },
];

/** Format ids by name: `TT.gro_data`, `TT['lock_wait_begin_socket']`, ... */
export const TT: Readonly<Record<string, number>> = Object.freeze(Object.fromEntries(TT_FORMATS.map((f, i) => [f.name, i])));

function ttId(name: string): number {
  const id = TT[name];
  if (id === undefined) throw new Error(`timetrace: no format ${name}`);
  return id;
}

/** Ids of the hot-path events, as constants (a property lookup per event is avoided). */
export const TT_GRO_DATA = ttId('gro_data');
export const TT_GRO_GRANT = ttId('gro_grant');
export const TT_GRO_CTL = ttId('gro_ctl');
export const TT_GRO_HANDOFF = ttId('gro_handoff');
export const TT_SOFTIRQ_START = ttId('softirq_start');
export const TT_SOFTIRQ_DATA = ttId('softirq_data');
export const TT_SOFTIRQ_GRANT = ttId('softirq_grant');
export const TT_RPC_HANDOFF = ttId('rpc_handoff');
export const TT_RPC_QUEUED = ttId('rpc_queued');
export const TT_RECVMSG_START = ttId('recvmsg_start');
export const TT_WAIT_FOUND_HANDOFF = ttId('wait_found_rpc_handoff');
export const TT_WAIT_FOUND_QUEUE = ttId('wait_found_rpc_queue');
export const TT_RECVMSG_DONE = ttId('recvmsg_done');
export const TT_SENDMSG_REQUEST = ttId('sendmsg_request');
export const TT_SENDMSG_RESPONSE = ttId('sendmsg_response');
export const TT_SENDMSG_DONE = ttId('sendmsg_done');
export const TT_SEND_DATA = ttId('send_data');
export const TT_IP_XMIT = ttId('ip_xmit');
export const TT_NIC_DATA = ttId('nic_data');
export const TT_SEND_GRANT = ttId('send_grant');
export const TT_NIC_GRANT = ttId('nic_grant');
export const TT_RESEND_TX = ttId('resend_tx');
export const TT_RESEND_RX = ttId('resend_rx');
export const TT_RETRANSMIT = ttId('retransmit');
export const TT_PACER_XMIT = ttId('pacer_xmit');
export const TT_RPC_END = ttId('rpc_end');
export const TT_TIMER_START = ttId('timer_start');
export const TT_CORE_IDLE = ttId('core_idle');
export const TT_CORE_BUSY = ttId('core_busy');
export const TT_UNIT = ttId('unit');
export const TT_CTR_THROTTLED = ttId('ctr_throttled');
export const TT_CTR_NIC_BACKLOG = ttId('ctr_nic_backlog');
export const TT_CTR_SOFTIRQ_BACKLOG = ttId('ctr_softirq_backlog');

/** Begin-wait format id per lock class, in `TT_LOCK_CLASSES` order (the end-wait id is one more). */
export function lockWaitIds(classes: readonly string[]): Int32Array {
  return Int32Array.from(classes, (c) => TT[`lock_wait_begin_${c}`] ?? -1);
}

/** The IPv4 address homa-emu prints for a host (10.0.0.(host+1)): the address the NIC's RSS hashes. */
export const hostAddr: (host: number) => number = hostIp;

/** printf of one format with four 32-bit arguments (%d signed, %u unsigned, %x / %0Nx hex, %%). */
export function formatEvent(fmtId: number, a0: number, a1: number, a2: number, a3: number): string {
  const f = TT_FORMATS[fmtId];
  if (f === undefined) return `homa-emu unknown event format ${fmtId}`;
  const args = [a0, a1, a2, a3];
  let k = 0;
  return f.fmt.replace(/%(0(\d+))?([dux%])/g, (_m, _p, width: string | undefined, conv: string) => {
    if (conv === '%') return '%';
    const v = args[k++] ?? 0;
    if (conv === 'd') return String(v | 0);
    if (conv === 'u') return String(v >>> 0);
    const hex = (v >>> 0).toString(16);
    return width !== undefined ? hex.padStart(Number(width), '0') : hex;
  });
}

/** Shared-memory columns of one ring per core: times, words, and [head, wrapped] per core. */
export function timetraceLayout(cores: number, capacity: number): LayoutDesc {
  checkCapacity(capacity);
  return new LayoutBuilder()
    .add('times', 'f64', cores * capacity)
    .add('words', 'i32', cores * capacity * TT_WORDS)
    .add('state', 'i32', cores * 16)
    .build();
}

function checkCapacity(capacity: number): void {
  if (!Number.isInteger(capacity) || capacity < 1 || (capacity & (capacity - 1)) !== 0 || capacity > 1 << 24) {
    throw new RangeError(`timetrace: capacity must be a power of two in [1, 2^24], got ${capacity}`);
  }
}

/** One core's ring. Written only by its core (plain stores), read by the main thread after stop. */
export class TimeTrace {
  readonly capacity: number;
  private readonly mask: number;
  readonly times: Float64Array;
  readonly words: Int32Array;
  /** [0]: next slot; [1]: 1 once the ring has wrapped. */
  readonly state: Int32Array;
  /** The next slot and whether the ring wrapped, kept by the (only) writer in plain fields; `publish` stores them in `state`. */
  private head: number;
  private wrapped: boolean;

  constructor(capacity: number, views?: { times: Float64Array; words: Int32Array; state: Int32Array }) {
    checkCapacity(capacity);
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.times = views?.times ?? new Float64Array(capacity);
    this.words = views?.words ?? new Int32Array(capacity * TT_WORDS);
    this.state = views?.state ?? new Int32Array(2);
    this.head = this.state[0]!;
    this.wrapped = this.state[1] === 1;
  }

  /** The ring of core `core` in the columns of `timetraceLayout` (same capacity). */
  static inColumns(times: Float64Array, words: Int32Array, state: Int32Array, core: number, capacity: number): TimeTrace {
    return new TimeTrace(capacity, {
      times: times.subarray(core * capacity, (core + 1) * capacity),
      words: words.subarray(core * capacity * TT_WORDS, (core + 1) * capacity * TT_WORDS),
      state: state.subarray(core * 16, core * 16 + 2),
    });
  }

  /** Records one event (hot path: no allocation, plain stores). Arguments are stored as 32-bit. */
  record(nowNs: number, fmtId: number, a0 = 0, a1 = 0, a2 = 0, a3 = 0): void {
    const i = this.head;
    this.times[i] = nowNs;
    const w = i * TT_WORDS;
    const words = this.words;
    words[w] = fmtId;
    words[w + 1] = a0;
    words[w + 2] = a1;
    words[w + 3] = a2;
    words[w + 4] = a3;
    const next = (i + 1) & this.mask;
    this.head = next;
    if (next === 0) this.wrapped = true;
  }

  /**
   * Stores the writer's position in the shared state words, for readers of the shared columns
   * (the main thread after the run): the writer calls it when it stops (and tests after writing).
   */
  publish(): void {
    this.state[0] = this.head;
    this.state[1] = this.wrapped ? 1 : 0;
  }

  /** A unit of work the core loop ran: [startNs, endNs] in role `role` (for --trace slices). */
  unit(startNs: number, endNs: number, role: number): void {
    // The duration as whole ns and 1/65536ths (times are doubles: a slice must end where it ended).
    const d = Math.min(endNs - startNs, 0x7fffffff);
    const whole = Math.floor(d);
    this.record(startNs, TT_UNIT, role, whole, Math.floor((d - whole) * 65536), 0);
  }

  /** The core had nothing to do from `startNs` to `endNs` (core idle, then core busy). */
  idle(startNs: number, endNs: number): void {
    this.record(startNs, TT_CORE_IDLE);
    this.record(endNs, TT_CORE_BUSY, Math.min(endNs - startNs, 0x7fffffff));
  }

  /** Events held (at most capacity). */
  get count(): number {
    return this.wrapped ? this.capacity : this.head;
  }

  /** Calls `fn` for every event held, oldest first. */
  forEach(fn: (timeNs: number, fmtId: number, a0: number, a1: number, a2: number, a3: number) => void): void {
    const n = this.count;
    const start = this.wrapped ? this.head : 0;
    for (let k = 0; k < n; k++) {
      const i = (start + k) & this.mask;
      const w = i * TT_WORDS;
      fn(this.times[i]!, this.words[w]!, this.words[w + 1]!, this.words[w + 2]!, this.words[w + 3]!, this.words[w + 4]!);
    }
  }

  /** Forgets every event (e.g. when measuring starts). */
  clear(): void {
    this.head = 0;
    this.wrapped = false;
    this.publish();
  }
}

/** A ring that records nothing, for cores when --tt is off (callers may also test a flag). */
export const NO_TIMETRACE = { record(_nowNs: number, _fmtId: number, _a0?: number, _a1?: number, _a2?: number, _a3?: number): void { /* off */ } };

export interface TimetraceFileOptions {
  /** Run time base: raw ns -> emulated ns. */
  timeBase: TimeBase;
  /** Clock rate for the first line's timestamp (cycles), as ttprint.py prints it. */
  cpuKhz: number;
  /** Keep only the last `windowUs` emulated µs before the window's end (0 or absent: all). */
  windowUs?: number;
  /** End of the window, emulated ns (absent: the host's last event). Events after it are left out. */
  windowEndNs?: number;
}

/**
 * One host's time trace file: the events of every core (index = core number within the host)
 * merged in time order, in ttprint.py's printed form.
 */
export function formatTimetrace(cores: readonly TimeTrace[], o: TimetraceFileOptions): string {
  const ev: Array<{ t: number; core: number; seq: number; fmt: number; a: [number, number, number, number] }> = [];
  cores.forEach((tt, core) => {
    let seq = 0;
    tt.forEach((t, fmt, a0, a1, a2, a3) => {
      if (TT_FORMATS[fmt]?.internal === true) return;
      const te = toEmulatedNs(t, o.timeBase);
      if (o.windowEndNs !== undefined && te > o.windowEndNs) return;
      ev.push({ t: te, core, seq: seq++, fmt, a: [a0, a1, a2, a3] });
    });
  });
  ev.sort((x, y) => x.t - y.t || x.core - y.core || x.seq - y.seq);
  let from = 0;
  if (o.windowUs !== undefined && o.windowUs > 0 && ev.length > 0) {
    const cut = (o.windowEndNs ?? ev[ev.length - 1]!.t) - o.windowUs * 1000;
    while (from < ev.length && ev[from]!.t < cut) from++;
  }
  const lines: string[] = [];
  if (from < ev.length) {
    const first = ev[from]!.t;
    const cycles = Math.floor((first * o.cpuKhz) / 1e6);
    lines.push(`${fmtUs(0)} us (+${fmtUs(0, 8)} us) [C00] First event has timestamp ${cycles} (cpu_ghz ${(o.cpuKhz * 1e-6).toFixed(15)})`);
    let prev = first;
    for (let i = from; i < ev.length; i++) {
      const e = ev[i]!;
      lines.push(`${fmtUs((e.t - first) / 1000)} us (+${fmtUs((e.t - prev) / 1000, 8)} us) [C${String(e.core).padStart(2, '0')}] ${formatEvent(e.fmt, ...e.a)}`);
      prev = e.t;
    }
  }
  return lines.length > 0 ? lines.join('\n') + '\n' : '';
}

/** printf("%9.3f") / ("%8.3f"). */
function fmtUs(us: number, width = 9): string {
  return us.toFixed(3).padStart(width);
}
