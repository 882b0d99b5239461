/**
 * The fixture of the conformance suite. HomaModule's unit tests (test/unit_homa_*.c) pin down
 * the kernel's behaviour in small scenarios: a mock host, a few RPCs in a given state, one call,
 * and the exact packets and fields that must result. This file gives those scenarios our
 * vocabulary: a deterministic single-threaded world (test/homa/harness.ts) whose host 0 is "the
 * kernel under test" and hosts 1..5 its peers (the unit tests' server_ip[0..4]); RPCs built in
 * the states the unit tests use (incoming messages with a chosen size, birth and bytes
 * received; outgoing client requests; server RPCs); the kernel's knobs set on our Homa handle;
 * and the mock's logs rebuilt from our state — the packets host 0 handed to its NIC, formatted
 * the way the unit tests compare them ("GRANT 1200@2", "RESEND 1400-4999@7", "DATA 1400@0"), and
 * the grant structures ("active[0]: id 100 remaining 20000; peer 1: id 102 remaining 50000").
 * Everything here drives our functions; nothing is the kernel's code.
 */
import { DATA_FLAG_RETRANSMIT, H, HEADER_WORDS, PktType, setCommonHeader, wireBytes } from '../../src/wire/packet.js';
import { LINE } from '../../src/homa/layout.js';
import { RpcState, type Homa } from '../../src/homa/homa.js';
import { dispatchPkts, msgInInit } from '../../src/homa/incoming.js';
import { msgOutInit } from '../../src/homa/outgoing.js';
import { allocMsgPages } from '../../src/homa/pool.js';
import { rpcAllocClient, rpcAllocServer } from '../../src/homa/rpc.js';
import { sockLookup } from '../../src/homa/sock.js';
import { HOMA_MAX_GAPS, HOMA_MAX_GRANTS } from '../../src/homa/layout.js';
import { CUTOFF_VERSION } from '../../src/homa/peer.js';
import { Harness } from '../homa/harness.js';
import { txPackets } from '../homa/util.js';

/** The server port of host 0 (unit tests: server_port 99) and the client port (client_port 40000). */
export const SERVER_PORT = 1000;
export const CLIENT_PORT = 40000;
/** MTU whose DATA segments carry 1400 bytes, as the unit tests' mock does. */
export const MTU_1400 = 1400 + 20 + 56;

const APPS = {
  clients: [{ host: 0, port: CLIENT_PORT, dstHost: 1, dstPort: SERVER_PORT, lengths: [] }],
  servers: [{ host: 0, port: SERVER_PORT }, { host: 1, port: SERVER_PORT }],
};

export interface Kernel {
  h: Harness;
  /** Host 0's Homa handle (core 0). */
  hm: Homa;
  /** The packets host 0 handed to its NIC since the last call, formatted as the mock logs them. */
  xmit(): string;
}

/** A world of 6 hosts; host 0 plays the kernel under test. `cfg` overrides config keys. */
export async function kernelHost(cfg: Record<string, unknown> = {}): Promise<Kernel> {
  const h = await Harness.create({
    apps: APPS,
    cfg: { hosts: 6, cores: 2, bpagesPerHost: 64, packetSlots: 4096, ringSlots: 512, ...cfg },
  });
  const hm = h.homa(0);
  let seen = 0;
  const xmit = (): string => {
    const all = txPackets(h, 0);
    const out = all.slice(seen).map((s) => describePacket(hm, s));
    seen = all.length;
    return out.join('; ');
  };
  return { h, hm, xmit };
}

/** One packet as the unit tests' xmit log shows it (our fields; RESEND ranges inclusive). */
export function describePacket(hm: Homa, slot: number): string {
  const b = slot * HEADER_WORDS;
  const w = (i: number): number => hm.pktHdr[b + i]!;
  switch (w(H.TYPE)) {
    case PktType.DATA: {
      const re = (w(H.FLAGS_OR_PRIO) & DATA_FLAG_RETRANSMIT) !== 0 ? 'retrans ' : '';
      return `DATA ${re}${w(H.SEG_BYTES)}@${w(H.OFFSET)}`;
    }
    case PktType.GRANT: return `GRANT ${w(H.OFFSET)}@${w(H.FLAGS_OR_PRIO)}`;
    case PktType.RESEND: // (end inclusive: length -1, "everything", shows as offset - 2)
      return `RESEND ${w(H.OFFSET)}-${w(H.OFFSET) + w(H.INCOMING_OR_LENGTH) - 1}@${w(H.FLAGS_OR_PRIO)}`;
    case PktType.RPC_UNKNOWN: return 'RPC_UNKNOWN';
    case PktType.BUSY: return 'BUSY';
    case PktType.CUTOFFS: return 'CUTOFFS';
    case PktType.NEED_ACK: return 'NEED_ACK';
    case PktType.ACK: return 'ACK';
    default: return `type ${w(H.TYPE)}`;
  }
}

/** Overrides Homa knobs that are fixed at construction (maxOvercommit, window, fifoIncrement, ...). */
export function knobs(hm: Homa, values: Record<string, number | boolean>): void {
  Object.assign(hm as unknown as Record<string, unknown>, values);
  if ('maxNicBacklogNs' in values) hm.pacerCheck.maxBacklogNs = values.maxNicBacklogNs as number;
  if ('deferMinBytes' in values) hm.pacerCheck.deferMinBytes = values.deferMinBytes as number;
}

/** Runs `fn` with RPC g's lock held. */
export function withRpcLock<T>(hm: Homa, g: number, fn: (lk: number) => T): T {
  const lk = hm.rpcLock(g);
  hm.locks.lock(lk);
  try { return fn(lk); } finally { hm.locks.unlock(lk); }
}

/** Runs `fn` with the grant lock held. */
export function withGrantLock<T>(hm: Homa, fn: () => T): T {
  hm.locks.lock(hm.grantLock);
  try { return fn(); } finally { hm.locks.unlock(hm.grantLock); }
}

/**
 * An RPC of host 0 receiving a `size`-byte message from peer `peer` (1..5), born at `birthNs`,
 * with `unsched` bytes granted up front and none received: the unit tests' test_rpc (a client
 * whose response is arriving; here a server RPC whose request is, which the grant code treats
 * alike). `id` is the client's id (ours is id ^ 1).
 */
export function inRpc(hm: Homa, peer: number, id: number, size: number, birthNs = 0, unsched = 0): number {
  const sockG = sockLookup(hm, SERVER_PORT);
  const sid = id ^ 1;
  const lk = hm.bucketLock(sockG, sid);
  hm.locks.lock(lk);
  const g = rpcAllocServer(hm, sockG, sid, peer, CLIENT_PORT, birthNs);
  if (g < 0 || !msgInInit(hm, g, size, unsched, birthNs)) throw new Error('inRpc: no slot or pages');
  hm.locks.unlock(lk);
  return g;
}

/** The unit tests' id of RPC g (the client's id: even). */
export function idOf(hm: Homa, g: number): number {
  return hm.rId[g]! & ~1;
}

/** A client RPC of host 0 to peer `peer` whose `len`-byte request is in its pages, nothing sent yet. */
export function outRpc(hm: Homa, peer: number, len: number, nowNs = 0): number {
  const sockG = sockLookup(hm, CLIENT_PORT);
  const g = rpcAllocClient(hm, sockG, peer, SERVER_PORT, nowNs);
  if (g < 0) throw new Error('outRpc: no slot');
  const lk = hm.rpcLock(g);
  if (!allocMsgPages(hm, hm.rOutPages, g, len)) throw new Error('outRpc: no pages');
  msgOutInit(hm, g, len, nowNs);
  hm.locks.unlock(lk);
  return g;
}

/** A server RPC of host 0 whose `reqLen`-byte request fully arrived and is being serviced. */
export function inServiceRpc(hm: Homa, peer: number, id: number, reqLen: number, nowNs = 0): number {
  const g = inRpc(hm, peer, id, reqLen, nowNs, reqLen);
  hm.rInRemaining[g] = 0;
  hm.rInRecvEnd[g] = reqLen;
  hm.rState[g] = RpcState.IN_SERVICE;
  return g;
}

/** Server RPC g (IN_SERVICE) starts a `len`-byte response, nothing sent yet (homa_reply's state). */
export function startResponse(hm: Homa, g: number, len: number, nowNs = 0): void {
  if (!allocMsgPages(hm, hm.rOutPages, g, len)) throw new Error('startResponse: no pages');
  hm.rState[g] = RpcState.OUTGOING;
  msgOutInit(hm, g, len, nowNs);
}

/** total_incoming of host 0. */
export function totalIncoming(hm: Homa): number {
  return Atomics.load(hm.gTotalIncoming, hm.host * LINE);
}

export function setTotalIncoming(hm: Homa, v: number): void {
  Atomics.store(hm.gTotalIncoming, hm.host * LINE, v);
}

/** The needy_active bit mask of host 0. */
export function needy(hm: Homa): number {
  return Atomics.load(hm.gNeedy, hm.host * LINE);
}

export function setNeedy(hm: Homa, v: number): void {
  Atomics.store(hm.gNeedy, hm.host * LINE, v);
}

/**
 * The grant structures as unit_log_grantables shows them: the active slots in slot order, then
 * each peer with grantable RPCs, peers ordered by their best RPC and each peer's RPCs in SRPT
 * order (our one host-wide SRPT list, grouped by peer, is that same order).
 */
export function grantables(hm: Homa): string {
  const parts: string[] = [];
  const base = hm.host * HOMA_MAX_GRANTS;
  for (let s = 0; s < HOMA_MAX_GRANTS; s++) {
    const g = hm.gActive[base + s]!;
    if (g < 0) continue;
    let p = `active[${s}]: id ${idOf(hm, g)} remaining ${hm.rInRemaining[g]}`;
    if (hm.rActiveSlot[g] !== s) p += ` bad rank ${hm.rActiveSlot[g]}`;
    parts.push(p);
  }
  const byPeer = new Map<number, string[]>();
  for (let g = hm.gListHead[hm.host]!; g >= 0; g = hm.rGrantNext[g]!) {
    const peer = hm.rPeer[g]!;
    if (!byPeer.has(peer)) byPeer.set(peer, []);
    byPeer.get(peer)!.push(`id ${idOf(hm, g)} remaining ${hm.rInRemaining[g]}`);
  }
  for (const [peer, rpcs] of byPeer) parts.push(`peer ${peer}: ${rpcs.join(' ')}`);
  return parts.join('; ');
}

/** Metric `m` summed over host 0's cores. */
export function metric(h: Harness, m: number): number {
  let n = 0;
  for (let c = 0; c < h.cfg.cores; c++) {
    const hm = h.homa(0, c);
    n += hm.metrics[hm.mrow + m]!;
  }
  return n;
}

/**
 * A control packet of `type` from peer `src` to host 0: `fromClient` means it comes from the
 * peer's client port to our server port (an RPC we serve), else from the peer's server to our
 * client. `id` is the client's id (the sender id is id or id ^ 1 accordingly).
 */
export function ctrlPkt(hm: Homa, type: number, src: number, id: number, fromClient: boolean,
  fields: Partial<Record<'offset' | 'length' | 'prio', number>> = {}): number {
  const slot = hm.pktPool.alloc();
  const [sport, dport, sender] = fromClient ? [CLIENT_PORT, SERVER_PORT, id] : [SERVER_PORT, CLIENT_PORT, id ^ 1];
  setCommonHeader(hm.pktHdr, slot, type, src, hm.host, sport, dport, sender, 7);
  const b = slot * HEADER_WORDS;
  hm.pktHdr[b + H.WIRE_BYTES] = wireBytes(type, 0);
  hm.pktHdr[b + H.OFFSET] = fields.offset ?? 0;
  hm.pktHdr[b + H.INCOMING_OR_LENGTH] = fields.length ?? 0;
  hm.pktHdr[b + H.FLAGS_OR_PRIO] = fields.prio ?? 0;
  hm.pktHdr[b + H.NEXT] = -1;
  return slot;
}

/** A DATA packet of `n` bytes at `off` of a `len`-byte message, from peer `src` (as ctrlPkt). */
export function dataSeg(hm: Homa, src: number, id: number, fromClient: boolean, len: number, off: number, n: number,
  incoming = len): number {
  const slot = ctrlPkt(hm, PktType.DATA, src, id, fromClient);
  const b = slot * HEADER_WORDS;
  hm.pktHdr[b + H.SEG_BYTES] = n;
  hm.pktHdr[b + H.MSG_LEN] = len;
  hm.pktHdr[b + H.OFFSET] = off;
  hm.pktHdr[b + H.INCOMING_OR_LENGTH] = incoming;
  hm.pktHdr[b + H.FLAGS_OR_PRIO] = 0;
  hm.pktHdr[b + H.CUTOFF_VERSION] = CUTOFF_VERSION; // up to date: no CUTOFFS in reply
  hm.pktHdr[b + H.WIRE_BYTES] = wireBytes(PktType.DATA, n);
  return slot;
}

/** homa_dispatch_pkts for one packet. */
export function dispatch(hm: Homa, slot: number, nowNs = 0): void {
  dispatchPkts(hm, slot, nowNs);
}

/** Packets queued on RPC g's incoming message. */
export function queued(hm: Homa, g: number): number {
  let n = 0;
  for (let p = hm.rInHead[g]!; p >= 0; p = hm.pktHdr[p * HEADER_WORDS + H.NEXT]!) n++;
  return n;
}

/** unit_print_gaps without times: "start a, end b; ...". */
export function gaps(hm: Homa, g: number): string {
  const out: string[] = [];
  for (let i = 0; i < hm.rInNumGaps[g]!; i++) {
    out.push(`start ${hm.rGapStart[g * HOMA_MAX_GAPS + i]}, end ${hm.rGapEnd[g * HOMA_MAX_GAPS + i]}`);
  }
  return out.join('; ');
}
