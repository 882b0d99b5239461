/**
 * cp_node's results merged on the main thread after the run (the last of its three lifetimes):
 * per port, what every core's replicas of its threads recorded, added up exactly once, with the
 * newest 500,000 (length, RTT) samples of a port by completion time (cp_node's dump), in
 * emulated ns.
 */
import { HOMA_ERR_NAMES } from '../homa/syscalls.js';
import { CP_NODE_RTTS_PER_PORT } from '../metrics/digest.js';
import { mergeTallies } from '../metrics/tally.js';
import { parseWorkload } from './dist.js';
import { CP_CLIENT_FIRST_PORT, outstandingIndex, type CpNodeSpec } from './cp-node-plan.js';
import type { CpClientThreadData, CpNodeCoreData } from './cp-node-threads.js';

/** One client port in the merged results (emulated ns). */
export interface CpClientPortResult {
  host: number;
  port: number;
  sent: number;
  completed: number;
  bytesOut: number;
  bytesIn: number;
  lagNs: number;
  maxLagNs: number;
  /** RPCs sent and not yet completed or aborted at the end of the run (the shared count). */
  outstanding: number;
  /**
   * ... at the start of the measured window (virtual time: at the warm-up instant of the emulated
   * clock; wall time: each core's part when it noticed the measure phase). The window's
   * sent - completed - mismatches - aborted equals outstanding - outstandingStart exactly.
   */
  outstandingStart: number;
  mismatches: number;
  errors: Record<string, number>;
  /** Sends refused at once (counted in `errors`, not in `sent`). */
  refused: number;
  overwritten: number;
}

export interface CpServerPortResult {
  host: number;
  port: number;
  requests: number;
  bytesIn: number;
  bytesOut: number;
}

/** What the Homa world's collect returns as `cpNode` (times in emulated ns). */
export interface CpNodeResult {
  workload: { name: string; meanBytes: number };
  clients: CpClientPortResult[];
  servers: CpServerPortResult[];
  /** Every port's newest (up to 500,000) samples, oldest first per port: response length, RTT and the client's host. */
  rtts: { lengths: number[]; rttNs: number[]; hosts: number[] };
  /** All RTTs of the window merged (encoded hdr histogram). */
  rttHist: string;
  /** Per global core (encoded hdr histograms, '' if none). */
  handoff: { groToSoftirq: string[]; softirqToApp: string[] };
}

/**
 * Main thread: merges the per-thread data of every core per (host, port). A port keeps its
 * newest CP_NODE_RTTS_PER_PORT samples by completion time, like cp_node's ring (the rest count
 * as overwritten). `outstanding` is the shared column, read after every worker stopped.
 */
export function collectCpNode(spec: CpNodeSpec | undefined, cores: ReadonlyArray<CpNodeCoreData | undefined>,
  outstanding: Int32Array | null, handoff: CpNodeResult['handoff'], workloadName: string): CpNodeResult {
  let meanBytes = 0;
  try { meanBytes = parseWorkload(spec?.workload ?? workloadName).meanBytes; } catch { meanBytes = 0; }
  const clientMap = new Map<string, { res: CpClientPortResult; parts: CpClientThreadData[] }>();
  const serverMap = new Map<string, CpServerPortResult>();
  const hists: string[] = [];
  for (const c of cores) {
    if (c === undefined) continue;
    for (const t of c.clients) {
      const key = `${t.host}:${t.port}`;
      let e = clientMap.get(key);
      if (e === undefined) {
        e = { res: { host: t.host, port: t.port, sent: 0, completed: 0, bytesOut: 0, bytesIn: 0, lagNs: 0, maxLagNs: 0,
          outstanding: 0, outstandingStart: 0, mismatches: 0, errors: {}, refused: 0, overwritten: 0 }, parts: [] };
        clientMap.set(key, e);
      }
      const r = e.res;
      r.sent += t.sent;
      r.completed += t.completed;
      r.bytesOut += t.bytesOut;
      r.bytesIn += t.bytesIn;
      r.mismatches += t.mismatches;
      r.refused += t.refused;
      r.overwritten += t.overwritten;
      if (t.kind === 'sender') { r.lagNs = t.lagNs; r.maxLagNs = t.maxLagNs; }
      for (let k = 1; k < t.errors.length; k++) {
        if (t.errors[k]! > 0) { const name = HOMA_ERR_NAMES[k]!; r.errors[name] = (r.errors[name] ?? 0) + t.errors[k]!; }
      }
      if (t.rttHist !== '') hists.push(t.rttHist);
      e.parts.push(t);
    }
    for (const p of c.ports ?? []) {
      const e = clientMap.get(`${p.host}:${p.port}`);
      if (e !== undefined) e.res.outstandingStart += p.outstandingStart;
    }
    for (const s of c.servers) {
      const key = `${s.host}:${s.port}`;
      const r = serverMap.get(key) ?? { host: s.host, port: s.port, requests: 0, bytesIn: 0, bytesOut: 0 };
      r.requests += s.requests;
      r.bytesIn += s.bytesIn;
      r.bytesOut += s.bytesOut;
      serverMap.set(key, r);
    }
  }
  const byHostPort = (a: { host: number; port: number }, b: { host: number; port: number }): number => a.host - b.host || a.port - b.port;
  const clients = [...clientMap.values()].sort((a, b) => byHostPort(a.res, b.res));
  const lengths: number[] = [];
  const rttNs: number[] = [];
  const hosts: number[] = [];
  for (const { res, parts } of clients) {
    if (outstanding !== null) res.outstanding = Atomics.load(outstanding, outstandingIndex(res.host, res.port - CP_CLIENT_FIRST_PORT));
    const withSamples = parts.filter((p) => p.lengths.length > 0);
    if (withSamples.length === 1) {
      // One thread recorded the port (already oldest first, at most one ring's worth).
      const p = withSamples[0]!;
      for (let i = 0; i < p.lengths.length; i++) { lengths.push(p.lengths[i]!); rttNs.push(p.rttNs[i]!); hosts.push(res.host); }
      continue;
    }
    // Several threads: every sample of the port in completion order; keep the newest CP_NODE_RTTS_PER_PORT.
    const idx: Array<[number, number, number]> = [];
    for (const p of withSamples) for (let i = 0; i < p.lengths.length; i++) idx.push([p.doneNs[i]!, p.lengths[i]!, p.rttNs[i]!]);
    idx.sort((a, b) => a[0] - b[0]);
    const drop = Math.max(0, idx.length - CP_NODE_RTTS_PER_PORT);
    res.overwritten += drop;
    for (let i = drop; i < idx.length; i++) { lengths.push(idx[i]![1]); rttNs.push(idx[i]![2]); hosts.push(res.host); }
  }
  return {
    workload: { name: spec?.workload ?? workloadName, meanBytes },
    clients: clients.map((c) => c.res),
    servers: [...serverMap.values()].sort(byHostPort),
    rtts: { lengths, rttNs, hosts },
    rttHist: mergeTallies(hists),
    handoff,
  };
}
