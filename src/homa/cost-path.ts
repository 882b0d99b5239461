/**
 * The modelled cost of an unloaded 100-byte round trip, stage by stage (virtual time's
 * calibration, docs/DESIGN.md "Time"): the request's sendmsg, IP and driver transmit, NIC,
 * wire and switch, NIC, NAPI and GRO, SoftIRQ (inline in GRO when the GRO policy's short-message
 * bypass applies, else after an IPI unless the single packet stays on the GRO core), server RPC
 * creation, hand-off, wake-up of the polling server thread, recvmsg with its copy, and the same
 * back for the response. With `--clock virtual` an unloaded run of one RPC in flight measures
 * exactly this sum (the test/sim calibration test checks it), so a report can show where each
 * microsecond of the base RTT comes from. Pure arithmetic over the config and the profile.
 */
import type { EmuConfig } from '../config/config.js';
import type { Costs } from '../config/cost-profile.js';
import { PktType, wireBytes } from '../wire/packet.js';

export interface PathStage {
  /** Profile stage (or 'wire'). */
  stage: string;
  /** Which side and direction: 'client', 'server', 'net'. */
  where: string;
  ns: number;
}

/** Stages of one 100-byte message from sendmsg on one host to recvmsg's return on the other. */
function oneWay(cfg: EmuConfig, c: Costs, bytes: number, request: boolean, out: PathStage[]): void {
  const sender = request ? 'client' : 'server';
  const receiver = request ? 'server' : 'client';
  const gro = cfg.policies.gro;
  const ser = (wireBytes(PktType.DATA, bytes) * 8000) / cfg.linkMbps;
  out.push({ stage: 'homa_send', where: sender, ns: c.homaSend });
  if (request) out.push({ stage: 'rpc_alloc', where: sender, ns: c.rpcAlloc });
  out.push({ stage: 'copy_in', where: sender, ns: c.copyInPerByte * bytes });
  out.push({ stage: 'xmit_pkt', where: sender, ns: c.xmitPkt });
  out.push({ stage: 'nic_tx', where: 'net', ns: c.nicTx });
  out.push({ stage: 'wire', where: 'net', ns: 2 * ser + cfg.propDelayUsecs * 1000 });
  out.push({ stage: 'nic_rx', where: 'net', ns: c.nicRx });
  out.push({ stage: 'napi_poll', where: receiver, ns: c.napiPoll });
  out.push({ stage: 'napi_pkt', where: receiver, ns: c.napiPkt });
  out.push({ stage: 'gro_pkt', where: receiver, ns: c.groPkt });
  // A single unloaded packet is bypassed inline, or stays on the GRO core (SAME_CORE), or crosses.
  if (!gro.shortBypass && !gro.sameCoreForSingle) out.push({ stage: 'softirq_ipi', where: receiver, ns: c.softirqIpi });
  out.push({ stage: 'ip_softirq_pkt', where: receiver, ns: c.ipSoftirqPkt });
  out.push({ stage: 'homa_softirq_pkt', where: receiver, ns: c.homaSoftirqPkt });
  if (request) out.push({ stage: 'rpc_alloc', where: receiver, ns: c.rpcAlloc });
  out.push({ stage: 'handoff', where: receiver, ns: c.handoff });
  out.push({ stage: 'app_wakeup_poll', where: receiver, ns: c.appWakeupPoll });
  out.push({ stage: 'homa_recv', where: receiver, ns: c.homaRecv });
  out.push({ stage: 'copy_out', where: receiver, ns: c.copyOutPerByte * bytes });
}

/**
 * The unloaded RTT of a `bytes`-byte echo (request and response of that length) with polling
 * threads, as the profile and the config put it together.
 */
export function unloadedRttPath(cfg: EmuConfig, c: Costs, bytes = 100): { stages: PathStage[]; totalNs: number } {
  const stages: PathStage[] = [];
  oneWay(cfg, c, bytes, true, stages);
  oneWay(cfg, c, bytes, false, stages);
  let totalNs = 0;
  for (const s of stages) totalNs += s.ns;
  return { stages, totalNs };
}
