/** Helpers for unit tests that drive Homa functions on one host of a harness-built world. */
import { ringContents } from '../../src/shm/ring.js';
import { subLayout } from '../../src/shm/layout.js';
import { H, HEADER_WORDS, PktType as PT, setCommonHeader, wireBytes } from '../../src/wire/packet.js';
import type { Homa } from '../../src/homa/homa.js';
import { msgInInit } from '../../src/homa/incoming.js';
import { rpcAllocClient, rpcAllocServer } from '../../src/homa/rpc.js';
import { sockLookup } from '../../src/homa/sock.js';
import type { Harness } from './harness.js';
import { allocMsgPages } from '../../src/homa/pool.js';
import { msgOutInit } from '../../src/homa/outgoing.js';

/**
 * Creates a server RPC on `hm`'s host for a request from `peer` (client id `clientId`) of `len`
 * bytes whose first `received` bytes arrived (unscheduled bytes: min(unschedBytes, len)).
 */
export function serverRpc(hm: Homa, peer: number, clientId: number, len: number, received: number, now: number, port = 1000): number {
  const sockG = sockLookup(hm, port);
  const id = clientId ^ 1;
  const lk = hm.bucketLock(sockG, id);
  hm.locks.lock(lk);
  const g = rpcAllocServer(hm, sockG, id, peer, 40000, now);
  if (g < 0 || !msgInInit(hm, g, len, hm.unschedBytes, now)) throw new Error('serverRpc: no slot');
  hm.rInRemaining[g] = len - received;
  hm.rInRecvEnd[g] = received;
  hm.locks.unlock(lk);
  return g;
}

/** Packets waiting in host `host`'s NIC TX ring (slots, oldest first). */
export function txPackets(h: Harness, host: number): number[] {
  return Array.from(ringContents(h.sab, subLayout(subLayout(h.desc, 'net'), `tx.${host}`), 'mpsc'));
}

/** Header word `w` of packet `slot`. */
export function word(hm: Homa, slot: number, w: number): number {
  return hm.pktHdr[slot * HEADER_WORDS + w]!;
}

/** The last packet of `type` in host's TX ring, or -1. */
export function lastOfType(h: Harness, host: number, type: number): number {
  const pk = txPackets(h, host).filter((s) => word(h.homa(host), s, H.TYPE) === type);
  return pk.length > 0 ? pk[pk.length - 1]! : -1;
}

/** A harness with a server port 1000 on every host and no client (the apps just wait). */
export const SERVERS_ONLY = {
  clients: [],
  servers: [{ host: 0, port: 1000 }, { host: 1, port: 1000 }],
};

/** A client RPC on `hm`'s host to (dst, 1000) whose `len`-byte request is ready but not sent. */
export function clientRpc(hm: Homa, dst: number, len: number, now: number, port = 40000): number {
  const sockG = sockLookup(hm, port);
  const g = rpcAllocClient(hm, sockG, dst, 1000, now);
  if (g < 0) throw new Error('clientRpc: no slot');
  const lk = hm.rpcLock(g);
  if (!allocMsgPages(hm, hm.rOutPages, g, len)) throw new Error('clientRpc: no pages');
  msgOutInit(hm, g, len, now);
  hm.locks.unlock(lk);
  return g;
}

/** Sets host's NIC backlog estimate to `aheadNs` beyond `now`. */
export function setBacklog(hm: Homa, now: number, aheadNs: number): void {
  Atomics.store(hm.pLinkIdle, hm.host * 16, (now + aheadNs) | 0);
}

/** A DATA packet from host `src` (client id `id`) to port 1000: segment `off` of a `len`-byte message. */
export function dataPkt(hm: Homa, src: number, id: number, len: number, off: number, fill = true): number {
  const slot = hm.pktPool.alloc();
  setCommonHeader(hm.pktHdr, slot, PT.DATA, src, hm.host, 40000, 1000, id, 6);
  const b = slot * HEADER_WORDS;
  const n = Math.min(hm.maxSeg, len - off);
  hm.pktHdr[b + H.SEG_BYTES] = n;
  hm.pktHdr[b + H.MSG_LEN] = len;
  hm.pktHdr[b + H.OFFSET] = off;
  hm.pktHdr[b + H.INCOMING_OR_LENGTH] = Math.min(len, hm.unschedBytes);
  hm.pktHdr[b + H.CUTOFF_VERSION] = 1;
  hm.pktHdr[b + H.WIRE_BYTES] = wireBytes(PT.DATA, n);
  if (fill) for (let i = 0; i < n; i++) hm.u8[hm.pktData(slot) + i] = (off + i) & 255;
  return slot;
}

