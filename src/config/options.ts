/**
 * Every knob of homa-emu, in one table: the name used in the config object (camelCase), the
 * CLI flag (the kernel's sysctl name in kebab case where one exists, so a Homa user recognises
 * every knob), the default (the kernel's default where there is one), the accepted range or
 * names, and one line of help. Validation, the CLI, `--config FILE` and the report header are
 * all generated from this table, so a knob cannot exist in one place and not another.
 */

import { STEERING_NAMES, THREAD_CHOICE_NAMES, WAIT_MODES } from './policy-names.js';

export type OptionKind = 'int' | 'number' | 'enum' | 'string' | 'bool';

export interface OptionSpec {
  /** Key in `EmuConfig` (camelCase). */
  readonly key: string;
  /** CLI flag without dashes (kebab case; the sysctl name for kernel knobs). */
  readonly flag: string;
  readonly group: 'cluster' | 'homa' | 'net' | 'cpu' | 'run' | 'workload' | 'policy' | 'fault';
  readonly kind: OptionKind;
  readonly def: number | string | boolean;
  /**
   * The default under --clock virtual (the default clock), where it differs: emulated time costs
   * wall time (about 1e-2 emulated s per wall s here), so windows sized for the kernel's seconds
   * would take minutes to hours.
   */
  readonly virtualDef?: number;
  readonly min?: number;
  readonly max?: number;
  /** For 'enum': accepted names. */
  readonly values?: readonly string[];
  /** Must be a power of two (ring sizes). */
  readonly pow2?: boolean;
  /** Unit shown in help and errors. */
  readonly unit?: string;
  readonly help: string;
}

export const IDLE_MODES = ['poll', 'park', 'hybrid'] as const;
export const CLOCK_MODES = ['virtual', 'wall'] as const;
export type IdleMode = (typeof IDLE_MODES)[number];

export const OPTIONS: readonly OptionSpec[] = [
  // --- cluster shape ---
  { key: 'hosts', flag: 'hosts', group: 'cluster', kind: 'int', def: 2, min: 1, max: 64, help: 'emulated hosts' },
  { key: 'cores', flag: 'cores', group: 'cluster', kind: 'int', def: 2, min: 1, max: 64, help: 'emulated cores per host (one worker thread each)' },
  { key: 'channels', flag: 'channels', group: 'cluster', kind: 'int', def: 0, min: 0, max: 64, help: 'NIC RX channels per host (0 = one per core)' },
  { key: 'coreLayout', flag: 'core-layout', group: 'cluster', kind: 'enum', def: 'default', values: ['default', 'gen3', 'gen3-alt'], help: 'which cores own NIC channels: one per core, or the Gen3 layout (a quarter of the cores do NAPI, each with 3 SoftIRQ cores; gen3-alt: half, one each)' },
  { key: 'gen3SoftirqCores', flag: 'gen3-softirq-cores', group: 'cluster', kind: 'string', def: '', help: "Gen3 SoftIRQ candidates per GRO core: 'gro:c1,c2,c3;...' (default: from --core-layout)" },
  { key: 'pacerCore', flag: 'pacer-core', group: 'cluster', kind: 'int', def: -1, min: -1, max: 63, help: 'core of the pacer kernel thread (-1 = the last core)' },
  { key: 'timerCore', flag: 'timer-core', group: 'cluster', kind: 'int', def: -1, min: -1, max: 63, help: 'core of the timer kernel thread (-1 = the last core)' },
  // --- cpu / runtime ---
  { key: 'idleMode', flag: 'idle-mode', group: 'cpu', kind: 'enum', def: 'hybrid', values: IDLE_MODES, help: 'what an idle core does: poll (spin), park (Atomics.wait), hybrid (spin, then park)' },
  { key: 'idleSpinUsecs', flag: 'idle-spin-usecs', group: 'cpu', kind: 'number', def: 50, min: 0, max: 1e6, unit: 'us', help: 'hybrid idle: spin this long before parking' },
  { key: 'parkTimeoutUsecs', flag: 'park-timeout-usecs', group: 'cpu', kind: 'number', def: 1000, min: 10, max: 1e6, unit: 'us', help: 'longest single park (a parked core re-checks its work after this)' },
  { key: 'appSliceUsecs', flag: 'app-slice-usecs', group: 'cpu', kind: 'number', def: 20, min: 1, max: 1e5, unit: 'us', help: 'longest an app thread runs before the core polls NAPI/SoftIRQ again' },
  { key: 'stolenThresholdUsecs', flag: 'stolen-threshold-usecs', group: 'cpu', kind: 'number', def: 50, min: 1, max: 1e6, unit: 'us', help: 'a gap in a core loop longer than this counts as stolen time' },
  { key: 'cpuKhz', flag: 'cpu-khz', group: 'cpu', kind: 'int', def: 2400000, min: 1000, max: 100000000, unit: 'kHz', help: "clock rate of the emulated cores: *_cycles in --metrics files and cpu_khz (default: an xl170's 2.4 GHz)" },
  { key: 'ringSlots', flag: 'ring-slots', group: 'cpu', kind: 'int', def: 4096, min: 16, max: 1 << 22, pow2: true, help: 'capacity of every packet ring (NIC TX, RX channels, SoftIRQ backlogs)' },
  // --- run ---
  { key: 'clock', flag: 'clock', group: 'run', kind: 'enum', def: 'virtual', values: CLOCK_MODES, help: 'virtual: per-core virtual clocks charged by the cost profile (figures independent of the host); wall: the host clock stretched by --dilation (needs a CPU per worker thread)' },
  { key: 'costProfile', flag: 'cost-profile', group: 'run', kind: 'string', def: 'xl170', help: 'virtual clock: CPU cost of each stage: xl170 (the kernel on CloudLab xl170), measured (this host\'s JavaScript time x --cost-scale), or a JSON file' },
  { key: 'costScale', flag: 'cost-scale', group: 'run', kind: 'number', def: 1, min: 0, max: 1e6, help: 'virtual clock: multiply every stage of the cost profile' },
  { key: 'syncWindowNs', flag: 'sync-window-ns', group: 'run', kind: 'number', def: 1000, min: 0, max: 1e9, unit: 'ns', help: 'virtual clock: how far (emulated ns) a core may run ahead of the slowest; larger is faster, smaller more exact' },
  { key: 'deterministic', flag: 'deterministic', group: 'run', kind: 'bool', def: false, help: 'virtual clock: window 0 and cores take turns in virtual-time order, so one seed gives identical figures (slower)' },
  { key: 'maxWallS', flag: 'max-wall-s', group: 'run', kind: 'number', def: 0, min: 0, max: 1e6, unit: 's', help: 'virtual clock: stop after this much wall time even if the emulated window is not over (0 = no limit); the report says so' },
  { key: 'ttEvents', flag: 'tt-events', group: 'run', kind: 'int', def: 0, min: 0, max: 1 << 22, pow2: true, help: 'time trace: events each core keeps (the newest; 0 = no trace; --tt and --trace turn it on at 65536)' },
  { key: 'ttWindowUs', flag: 'tt-window-us', group: 'run', kind: 'number', def: 0, min: 0, max: 3.6e9, unit: 'us', help: 'time trace: keep only the last N emulated us before the end of the window (0 = all the rings hold)' },
  { key: 'ttTrigger', flag: 'tt-trigger', group: 'run', kind: 'enum', def: 'end', values: ['end', 'slowest-short'], help: 'time trace: the window ends at the end of the run, or when the slowest short-message RPC completed' },
  { key: 'durationMs', flag: 'duration-ms', group: 'run', kind: 'number', def: 3000, virtualDef: 10, min: 0.001, max: 3.6e6, unit: 'ms', help: 'measured window: emulated ms with --clock virtual, wall ms with --clock wall' },
  { key: 'warmupMs', flag: 'warmup-ms', group: 'run', kind: 'number', def: 500, virtualDef: 2, min: 0, max: 3.6e6, unit: 'ms', help: 'warm-up before measuring (emulated ms with --clock virtual, wall ms with --clock wall)' },
  { key: 'dilation', flag: 'dilation', group: 'run', kind: 'number', def: 1, min: 1, max: 1e6, help: '--clock wall only: stretch every emulated duration D times in wall time; reported times are divided by D' },
  { key: 'seed', flag: 'seed', group: 'run', kind: 'int', def: 1, min: 0, max: 2 ** 31 - 1, help: 'seed of every random choice (workloads, loss, placement)' },
  { key: 'watchdogMs', flag: 'watchdog-ms', group: 'run', kind: 'number', def: 5000, min: 100, max: 600000, unit: 'ms', help: 'workers that do not stop this long after the stop signal are terminated' },
  // --- network ---
  { key: 'linkMbps', flag: 'link-mbps', group: 'net', kind: 'number', def: 25000, min: 1, max: 1e6, unit: 'Mbps', help: 'link speed of every host (pacing, switch drain, FIFO grant interval)' },
  { key: 'mtu', flag: 'mtu', group: 'net', kind: 'int', def: 1500, min: 576, max: 9000, unit: 'B', help: 'IP MTU' },
  { key: 'propDelayUsecs', flag: 'prop-delay-usecs', group: 'net', kind: 'number', def: 1, min: 0, max: 1e6, unit: 'us', help: 'one-way propagation delay host -> switch -> host' },
  { key: 'rss', flag: 'rss', group: 'net', kind: 'enum', def: 'ip', values: ['ip', 'ip-ports'], help: "NIC RSS hash: IP addresses only (NICs that do not know Homa) or IP + ports" },
  { key: 'lossRate', flag: 'loss-rate', group: 'net', kind: 'number', def: 0, min: 0, max: 0.5, help: 'probability that the switch drops a packet' },
  { key: 'switchQueuePkts', flag: 'switch-queue-pkts', group: 'net', kind: 'int', def: 4096, min: 16, max: 1 << 20, help: 'packets an egress port may queue (all priorities) before it drops' },
  { key: 'packetSlots', flag: 'packet-slots', group: 'net', kind: 'int', def: 0, min: 0, max: 1 << 22, help: 'packet buffers in the shared pool (0 = sized from the config)' },
  // --- Homa tunables (net.homa.*) ---
  { key: 'unschedBytes', flag: 'unsched-bytes', group: 'homa', kind: 'int', def: 40000, min: 1, max: 1000000, unit: 'B', help: 'bytes a new message may send without grants' },
  { key: 'window', flag: 'window', group: 'homa', kind: 'int', def: 0, min: 0, max: 10000000, unit: 'B', help: 'grant window; 0 = dynamic max_incoming/(num_active+1)' },
  { key: 'maxIncoming', flag: 'max-incoming', group: 'homa', kind: 'int', def: 400000, min: 1, max: 100000000, unit: 'B', help: 'cap on granted-but-unreceived bytes over grantable messages' },
  { key: 'maxOvercommit', flag: 'max-overcommit', group: 'homa', kind: 'int', def: 8, min: 1, max: 8, help: 'most RPCs receiving grants at once' },
  { key: 'grantFifoFraction', flag: 'grant-fifo-fraction', group: 'homa', kind: 'int', def: 50, min: 0, max: 500, unit: 'permille', help: 'share of grant bandwidth for the oldest message' },
  { key: 'fifoGrantIncrement', flag: 'fifo-grant-increment', group: 'homa', kind: 'int', def: 50000, min: 1, max: 10000000, unit: 'B', help: 'bytes per FIFO grant' },
  { key: 'numPriorities', flag: 'num-priorities', group: 'homa', kind: 'int', def: 8, min: 1, max: 8, help: 'priority levels used' },
  { key: 'unschedCutoffs', flag: 'unsched-cutoffs', group: 'homa', kind: 'string', def: '0,0,0,0,1000000,15000,2800,200', help: 'max message length per unscheduled level P0..P7' },
  { key: 'maxNicEstBacklogUsecs', flag: 'max-nic-est-backlog-usecs', group: 'homa', kind: 'number', def: 5, min: 0, max: 1e6, unit: 'us', help: 'limit on the NIC backlog estimate before throttling' },
  { key: 'deferMinBytes', flag: 'defer-min-bytes', group: 'homa', kind: 'int', def: 1000, min: 0, max: 1000000, unit: 'B', help: 'messages with at most this many bytes left are never throttled' },
  { key: 'pacerFifoFraction', flag: 'pacer-fifo-fraction', group: 'homa', kind: 'int', def: 50, min: 0, max: 500, unit: 'permille', help: 'share of pacer output for the oldest message' },
  { key: 'maxGsoSize', flag: 'max-gso-size', group: 'homa', kind: 'int', def: 0, min: 0, max: 1000000, unit: 'B', help: 'cap on an skb before segmentation (0 = MTU-sized)' },
  { key: 'maxGroSkbs', flag: 'max-gro-skbs', group: 'homa', kind: 'int', def: 20, min: 1, max: 64, help: 'packets per GRO batch before a forced push' },
  { key: 'groPolicy', flag: 'gro-policy', group: 'policy', kind: 'string', def: '0x72', help: 'GRO/SoftIRQ steering bits: the kernel mask (0x72 = Gen2 default, 0xE2 = Gen3, decimal too) or a preset: normal, gen2, gen3' },
  { key: 'busyUsecs', flag: 'busy-usecs', group: 'homa', kind: 'number', def: 100, min: 0, max: 1e6, unit: 'us', help: "window for 'core recently busy' (Gen2 GRO, Gen3 app, thread choice)" },
  { key: 'groBusyUsecs', flag: 'gro-busy-usecs', group: 'homa', kind: 'number', def: 5, min: 0, max: 1e6, unit: 'us', help: 'gap between GRO calls below which the GRO core is busy (no bypass)' },
  { key: 'pollUsecs', flag: 'poll-usecs', group: 'homa', kind: 'number', def: 50, min: 0, max: 1e6, unit: 'us', help: 'busy-wait before sleeping in recvmsg' },
  { key: 'napiBudget', flag: 'napi-budget', group: 'homa', kind: 'int', def: 64, min: 1, max: 4096, help: 'packets a NAPI poll may take per pass' },
  { key: 'tickUsecs', flag: 'tick-usecs', group: 'homa', kind: 'number', def: 1000, min: 10, max: 1e6, unit: 'us', help: 'timer tick (the kernel: 1 ms)' },
  { key: 'resendTicks', flag: 'resend-ticks', group: 'homa', kind: 'int', def: 5, min: 1, max: 100000, help: 'ticks of silence before the first RESEND' },
  { key: 'resendInterval', flag: 'resend-interval', group: 'homa', kind: 'int', def: 5, min: 1, max: 100000, help: 'ticks between RESENDs' },
  { key: 'timeoutTicks', flag: 'timeout-ticks', group: 'homa', kind: 'int', def: 100, min: 2, max: 1000000, help: 'ticks of silence before an RPC is aborted' },
  { key: 'requestAckTicks', flag: 'request-ack-ticks', group: 'homa', kind: 'int', def: 2, min: 1, max: 100000, help: 'ticks before a server sends NEED_ACK' },
  { key: 'reapLimit', flag: 'reap-limit', group: 'homa', kind: 'int', def: 10, min: 1, max: 100000, help: 'packet buffers freed per reap call' },
  { key: 'deadBuffsLimit', flag: 'dead-buffs-limit', group: 'homa', kind: 'int', def: 5000, min: 1, max: 10000000, help: 'dead packet buffers before the timer reaps' },
  { key: 'flags', flag: 'flags', group: 'homa', kind: 'int', def: 0, min: 0, max: 0xffff, help: 'bit 2: DONT_THROTTLE' },
  { key: 'maxRpcsPerHost', flag: 'max-rpcs-per-host', group: 'homa', kind: 'int', def: 4096, min: 16, max: 1 << 20, help: 'RPC slots per host (client + server)' },
  { key: 'bpagesPerHost', flag: 'bpages-per-host', group: 'homa', kind: 'int', def: 1024, min: 16, max: 1 << 20, help: 'message buffer pages (64 KiB) per host' },
  // --- policies ---
  { key: 'steering', flag: 'steering', group: 'policy', kind: 'string', def: '', help: `SoftIRQ steering policy (${STEERING_NAMES.join(', ')}, or ./module.js); default from --gro-policy` },
  { key: 'threadChoice', flag: 'thread-choice', group: 'policy', kind: 'string', def: 'idle-core', help: `which waiting app thread gets a message: ${THREAD_CHOICE_NAMES.join(', ')}, or ./module.js` },
  { key: 'waiterQueue', flag: 'waiter-queue', group: 'policy', kind: 'enum', def: 'lifo', values: ['lifo', 'fifo'], help: 'waiting threads queued at the front (kernel) or the rear' },
  { key: 'waitMode', flag: 'wait-mode', group: 'policy', kind: 'enum', def: 'poll-then-block', values: WAIT_MODES, help: 'how an app thread waits for a message' },
  { key: 'pacer', flag: 'pacer', group: 'policy', kind: 'string', def: 'nic-short', help: 'pacer-only, nic-short (any thread may send while the NIC backlog is short), qdisc, or ./module.js' },
  { key: 'throttleInsert', flag: 'throttle-insert', group: 'policy', kind: 'enum', def: 'front', values: ['front', 'back', 'heap'], help: 'throttle list: sorted insert scanning from the front (kernel), from the back, or a heap' },
  { key: 'wakeupPlacement', flag: 'wakeup-placement', group: 'policy', kind: 'string', def: 'stay', help: 'core a sleeping app thread (cp_node receiver/server) wakes on: stay, move:P (another core with probability P), least-busy, idle' },
  { key: 'sockLockOnArrival', flag: 'sock-lock-on-arrival', group: 'policy', kind: 'enum', def: 'twice', values: ['twice', 'once'], help: 'socket lock taken twice (kernel) or once when a request arrives' },
  // --- workload (cp_node) ---
  { key: 'workload', flag: 'workload', group: 'workload', kind: 'string', def: 'w3', help: 'message lengths: w1..w5 or a fixed length in bytes' },
  { key: 'gbps', flag: 'gbps', group: 'workload', kind: 'number', def: 2, min: 0, max: 1000, unit: 'Gbps', help: 'request payload each client host sends (0 = closed loop)' },
  { key: 'clientMax', flag: 'client-max', group: 'workload', kind: 'int', def: 200, min: 1, max: 100000, help: 'outstanding RPCs per client host, split over its ports' },
  { key: 'ports', flag: 'ports', group: 'workload', kind: 'int', def: 2, min: 1, max: 64, help: 'client ports per host (one sender thread and Poisson stream each)' },
  { key: 'portReceivers', flag: 'port-receivers', group: 'workload', kind: 'int', def: 1, min: 0, max: 64, help: 'response-receiving threads per client port (0 = the sender waits itself)' },
  { key: 'serverPorts', flag: 'server-ports', group: 'workload', kind: 'int', def: 1, min: 1, max: 64, help: 'listening ports per server host' },
  { key: 'portThreads', flag: 'port-threads', group: 'workload', kind: 'int', def: 2, min: 1, max: 64, help: 'server threads per listening port' },
  { key: 'oneWay', flag: 'one-way', group: 'workload', kind: 'bool', def: false, help: 'servers reply with min(request length, 100) bytes' },
  { key: 'serviceUsecs', flag: 'service-usecs', group: 'workload', kind: 'number', def: 0, min: 0, max: 1e6, unit: 'us', help: 'server CPU time per request before replying' },
  { key: 'roles', flag: 'roles', group: 'workload', kind: 'enum', def: 'both', values: ['both', 'split', 'incast'], help: 'every host both client and server (cp_vs_tcp); split: first half clients, rest servers; incast: every host but the last sends to the last' },
  { key: 'baseRttUsecs', flag: 'base-rtt-usecs', group: 'workload', kind: 'number', def: 0, min: 0, max: 1e6, unit: 'us', help: 'slowdown denominator base (0 = measure with a short unloaded run)' },
  // --- faults ---
  { key: 'stall', flag: 'stall', group: 'fault', kind: 'string', def: '', help: "core stalls: 'core=H.C,ms=10,every=200' or 'core=all,ms=5,every=500' (';' separates several)" },
];

export const OPTION_BY_KEY: ReadonlyMap<string, OptionSpec> = new Map(OPTIONS.map((o) => [o.key, o]));
export const OPTION_BY_FLAG: ReadonlyMap<string, OptionSpec> = new Map(OPTIONS.map((o) => [o.flag, o]));
