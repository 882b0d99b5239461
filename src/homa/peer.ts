/**
 * Peers (homa_peer.c): per (host, peer host) state. The ack buffer: a client that finishes an
 * RPC records {client id, server port} for the server's host (under the peer's `peer_ack`
 * lock); one ack rides on every DATA packet to that peer, NEED_ACK is answered with all of them,
 * and a sixth ack flushes the five buffered ones in an ACK packet. Unscheduled priorities use
 * the peer's cutoffs: until a CUTOFFS packet from that peer arrived, all unscheduled data goes
 * at P6 (the kernel's initial [7]=0, [6]=infinity). Simplification: every host uses the same
 * `unschedCutoffs`, so a peer only records the version it received (not the values).
 */
import { ACK_IDS, H, HEADER_WORDS, MAX_ACKS_PER_PKT, PktType } from '../wire/packet.js';
import { PEER_ACKS } from './layout.js';
import type { Homa } from './homa.js';
import { M } from './metrics.js';
import { allocControl, sendControl } from './outgoing.js';

/** The cutoff version this emulator's receivers announce. */
export const CUTOFF_VERSION = 1;

/** Unscheduled priority of a message of `len` bytes sent to `peer` (homa_unsched_priority). */
export function unschedPriority(hm: Homa, peer: number, len: number): number {
  const np = hm.numPriorities;
  if (hm.peerCutoffVersion[hm.host * hm.hosts + peer] === 0) return np >= 2 ? np - 2 : 0;
  for (let i = np - 1; i > 0; i--) if (hm.cutoffs[i]! >= len) return i;
  return 0;
}

/**
 * Client side, after an RPC to `peer` completed: remember the ack. When the buffer is full the
 * five buffered acks go out in an ACK packet first (ack_overflows).
 */
export function peerAddAck(hm: Homa, peer: number, clientId: number, serverPort: number, sport: number, now: number): void {
  const p = hm.host * hm.hosts + peer;
  const lock = hm.peerLock(peer);
  hm.locks.lock(lock);
  let slot = -1;
  if (hm.peerNumAcks[p]! >= PEER_ACKS) {
    slot = allocControl(hm, PktType.ACK, peer, sport, serverPort, 0);
    if (slot >= 0) fillAcksLocked(hm, p, slot);
    else hm.peerNumAcks[p] = 0; // no packet slot: the server's NEED_ACK will ask again
    hm.count(M.ack_overflows);
  }
  const n = hm.peerNumAcks[p]!;
  hm.peerAckIds[p * PEER_ACKS + n] = clientId;
  hm.peerAckPorts[p * PEER_ACKS + n] = serverPort;
  hm.peerNumAcks[p] = n + 1;
  hm.locks.unlock(lock);
  if (slot >= 0) sendControl(hm, slot, now);
}

/** Moves every buffered ack into ACK packet `slot` (peer lock held). */
function fillAcksLocked(hm: Homa, p: number, slot: number): void {
  const hdr = hm.pktHdr;
  const b = slot * HEADER_WORDS;
  const n = Math.min(hm.peerNumAcks[p]!, MAX_ACKS_PER_PKT);
  hdr[b + H.EXTRA] = n;
  for (let i = 0; i < n; i++) {
    hdr[b + ACK_IDS + 2 * i] = hm.peerAckIds[p * PEER_ACKS + i]!;
    hdr[b + ACK_IDS + 2 * i + 1] = hm.peerAckPorts[p * PEER_ACKS + i]!;
  }
  hm.peerNumAcks[p] = 0;
}

/** Fills ACK packet `slot` with every ack buffered for `peer` (answering NEED_ACK). */
export function peerFillAcks(hm: Homa, peer: number, slot: number): void {
  const p = hm.host * hm.hosts + peer;
  const base = slot * HEADER_WORDS;
  // The packet already carries one ack (the RPC NEED_ACK asked about) at index 0.
  const lock = hm.peerLock(peer);
  hm.locks.lock(lock);
  const hdr = hm.pktHdr;
  let k = hdr[base + H.EXTRA]!;
  let n = hm.peerNumAcks[p]!;
  while (n > 0 && k < MAX_ACKS_PER_PKT) {
    n--;
    hdr[base + ACK_IDS + 2 * k] = hm.peerAckIds[p * PEER_ACKS + n]!;
    hdr[base + ACK_IDS + 2 * k + 1] = hm.peerAckPorts[p * PEER_ACKS + n]!;
    k++;
  }
  hm.peerNumAcks[p] = n;
  hdr[base + H.EXTRA] = k;
  hm.locks.unlock(lock);
}

/** Puts one buffered ack for `peer` on DATA packet `slot`, if any (homa_peer_get_acks, 1 ack). */
export function peerPiggybackAck(hm: Homa, peer: number, slot: number): void {
  const p = hm.host * hm.hosts + peer;
  if (Atomics.load(hm.peerNumAcks, p) === 0) return;
  const lock = hm.peerLock(peer);
  hm.locks.lock(lock);
  const n = hm.peerNumAcks[p]!;
  if (n > 0) {
    const b = slot * HEADER_WORDS;
    hm.pktHdr[b + H.ACK_CLIENT_ID] = hm.peerAckIds[p * PEER_ACKS + n - 1]!;
    hm.pktHdr[b + H.ACK_SERVER_PORT] = hm.peerAckPorts[p * PEER_ACKS + n - 1]!;
    hm.peerNumAcks[p] = n - 1;
    hm.count(M.acks_piggybacked);
  }
  hm.locks.unlock(lock);
}

/**
 * Receiver side: a DATA packet from `peer` carried a stale cutoff version; send our cutoffs,
 * at most once per timer tick per peer.
 */
export function maybeSendCutoffs(hm: Homa, peer: number, sport: number, dport: number, now: number): void {
  const p = hm.host * hm.hosts + peer;
  if (now - hm.peerCutoffsSentNs[p]! < hm.tickNs) return;
  hm.peerCutoffsSentNs[p] = now;
  const slot = allocControl(hm, PktType.CUTOFFS, peer, sport, dport, 0);
  if (slot < 0) return;
  const b = slot * HEADER_WORDS;
  for (let i = 0; i < 8; i++) hm.pktHdr[b + H.EXTRA + i] = hm.cutoffs[i]!;
  hm.pktHdr[b + H.CUTOFF_VERSION] = CUTOFF_VERSION;
  hm.count(M.cutoffs_sent);
  sendControl(hm, slot, now);
}

/** Sender side: CUTOFFS arrived from `peer`. */
export function handleCutoffs(hm: Homa, peer: number, version: number): void {
  hm.peerCutoffVersion[hm.host * hm.hosts + peer] = version;
}
