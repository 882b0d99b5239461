/**
 * The warnings of a `run`: trouble in the emulated cluster that would otherwise only show as a
 * canary count (RPCs aborted, ENOMEM at clients, packet / RPC / page slots exhausted, switch or
 * ring drops, the offered load not reached, payload mismatches, leaked slots) and the fidelity
 * warnings of the host. Each has a stable code, a one-line message that says what happened and
 * what to do, and the option to change (null when no option helps). The text report prints them
 * as WARNING lines; the JSON carries them as `warnings: [{code, message, option}]`.
 */
import type { EmuConfig } from '../config/config.js';

export interface RunWarning {
  code: string;
  message: string;
  /** The option to raise (or change) to make it go away, with its dashes; null when none helps. */
  option: string | null;
}

export interface WarningInput {
  cfg: Pick<EmuConfig, 'timeoutTicks' | 'tickUsecs' | 'lossRate' | 'maxRpcsPerHost' | 'bpagesPerHost' | 'packetSlots'
    | 'switchQueuePkts' | 'ringSlots' | 'gbps' | 'clientMax' | 'dilation' | 'clock'>;
  /** Canary counts by name (Homa metrics, net_drop_<reason>, client_error_<errno>), zeros left out. */
  canaries: Readonly<Record<string, number>>;
  /** Share of the window clients were behind their Poisson schedule (0..1). */
  lagFraction: number;
  mismatches: number;
  leaks: Readonly<Record<string, number>>;
  /** The host's fidelity warnings (strings from metrics/cores.ts). */
  fidelity: readonly string[];
}

function n(c: Readonly<Record<string, number>>, ...names: string[]): number {
  let s = 0;
  for (const k of names) s += c[k] ?? 0;
  return s;
}

/** The warnings of one run, most actionable first. */
export function runWarnings(w: WarningInput): RunWarning[] {
  const { cfg, canaries: c } = w;
  const out: RunWarning[] = [];
  const aborted = n(c, 'aborts_etimedout', 'aborts_enotconn');
  const clientAborts = n(c, 'client_error_ETIMEDOUT', 'client_error_ENOTCONN');
  if (aborted > 0 || clientAborts > 0) {
    out.push({
      code: 'rpcs-aborted', option: '--timeout-ticks',
      message: `${Math.max(aborted, clientAborts)} RPCs were aborted (${n(c, 'aborts_etimedout')} timed out after --timeout-ticks ${cfg.timeoutTicks} ticks of ${cfg.tickUsecs} us without a packet`
        + `${cfg.lossRate > 0 ? `, with --loss-rate ${cfg.lossRate}` : ''}): raise --timeout-ticks${cfg.lossRate > 0 ? ' or lower --loss-rate' : ''}`,
    });
  }
  const enomem = n(c, 'client_error_ENOMEM');
  if (enomem > 0) {
    out.push({
      code: 'client-enomem', option: '--max-rpcs-per-host',
      message: `clients got ENOMEM ${enomem} times (no RPC slot or buffer pages left): raise --max-rpcs-per-host (now ${cfg.maxRpcsPerHost}) or --bpages-per-host (now ${cfg.bpagesPerHost}), or lower --client-max (now ${cfg.clientMax})`,
    });
  }
  const pkt = n(c, 'packet_alloc_failures');
  if (pkt > 0) {
    out.push({
      code: 'packet-slots-exhausted', option: '--packet-slots',
      message: `the shared packet pool ran out ${pkt} times: raise --packet-slots (now ${cfg.packetSlots === 0 ? '0 = sized from the config' : cfg.packetSlots})`,
    });
  }
  const rpc = n(c, 'rpc_alloc_failures', 'server_cant_create_rpcs');
  if (rpc > 0) {
    out.push({
      code: 'rpc-slots-exhausted', option: '--max-rpcs-per-host',
      message: `hosts ran out of RPC slots ${rpc} times: raise --max-rpcs-per-host (now ${cfg.maxRpcsPerHost})`,
    });
  }
  const pages = n(c, 'page_alloc_failures', 'data_dropped_no_bufs');
  if (pages > 0) {
    out.push({
      code: 'page-slots-exhausted', option: '--bpages-per-host',
      message: `message buffer pages ran out ${pages} times (messages dropped until retransmitted): raise --bpages-per-host (now ${cfg.bpagesPerHost})`,
    });
  }
  const qfull = n(c, 'net_drop_switch_queue_full');
  if (qfull > 0) {
    out.push({
      code: 'switch-queue-full', option: '--switch-queue-pkts',
      message: `the switch dropped ${qfull} packets for a full egress queue: raise --switch-queue-pkts (now ${cfg.switchQueuePkts}) or lower --gbps`,
    });
  }
  const rings = n(c, 'net_drop_rx_ring_full', 'net_drop_tx_ring_full', 'softirq_ring_full_drops', 'tx_ring_full');
  if (rings > 0) {
    out.push({
      code: 'ring-full', option: '--ring-slots',
      message: `${rings} packets were dropped or refused for a full NIC or SoftIRQ ring: raise --ring-slots (now ${cfg.ringSlots})`,
    });
  }
  if (w.lagFraction >= 0.01) {
    const behind = `the offered load was not reached: clients fell ${(w.lagFraction * 100).toFixed(0)}% behind their Poisson schedule at --gbps ${cfg.gbps} (RTTs exclude the wait); `;
    // In virtual time the host's speed plays no part: the emulated cluster itself is saturated.
    out.push(cfg.clock === 'virtual'
      ? {
        code: 'load-not-reached', option: '--gbps',
        message: behind + `the emulated cores or links cannot carry it (see the busiest core): lower --gbps, add --cores, or raise --client-max (now ${cfg.clientMax}) if clients hit their outstanding cap`,
      }
      : {
        code: 'load-not-reached', option: '--dilation',
        message: behind + `raise --dilation (now ${cfg.dilation}) if the host is too slow, raise --client-max (now ${cfg.clientMax}) if clients hit their outstanding cap, or lower --gbps`,
      });
  }
  if (w.mismatches > 0) {
    out.push({ code: 'payload-mismatch', option: null, message: `${w.mismatches} responses did not match their requests byte for byte (a bug: please report it with the command line)` });
  }
  const leaked = Object.values(w.leaks).reduce((a, b) => a + Math.abs(b), 0);
  if (leaked > 0) {
    out.push({ code: 'slots-leaked', option: null, message: `slots unaccounted for at the end: ${JSON.stringify(w.leaks)} (a bug: please report it with the command line)` });
  }
  for (const f of w.fidelity) out.push(fidelityWarning(f));
  return out;
}

/** A fidelity warning (metrics/cores.ts) with its code and the option it names. */
function fidelityWarning(message: string): RunWarning {
  if (message.includes('--idle-mode poll')) return { code: 'fidelity-spinning', message, option: '--idle-mode' };
  if (message.startsWith('lock order:')) return { code: 'fidelity-lock-order', message, option: '--sync-window-ns' };
  if (message.includes('lower --sync-window-ns')) return { code: 'fidelity-late-items', message, option: '--sync-window-ns' };
  if (message.startsWith('--max-wall-s')) return { code: 'wall-limit', message, option: '--max-wall-s' };
  if (message.startsWith('host scheduling dominates')) return { code: 'fidelity-host-scheduling', message, option: '--dilation' };
  if (message.startsWith('oversubscribed')) return { code: 'fidelity-oversubscribed', message, option: '--dilation' };
  return { code: 'fidelity', message, option: null };
}
