/**
 * Packet slots and header layout (homa_wire.h). A packet is a slot of the shared packet pool:
 * HEADER_WORDS Int32 words of header in `hdr` (column `pkt.hdr`, slot s at s*HEADER_WORDS) and
 * up to `maxPayloadBytes` bytes of payload in `data` (column `pkt.data`, slot s at
 * s*maxPayloadBytes). Only the slot index travels through rings. Fields are host-order Int32
 * words rather than big-endian bytes: the emulator never puts packets on a real wire, and word
 * access is what keeps the hot paths cheap. The fields are the kernel's (common header +
 * per-type header); the on-the-wire size the link model charges is WIRE_BYTES, computed by the
 * sender from the kernel's header sizes plus Ethernet/IP overhead.
 */

/** Int32 words of header per packet slot (the ACK type needs EXTRA + 1 + 2 x 5 = 33). */
export const HEADER_WORDS = 40;

/** Packet types, numbered as in homa_wire.h. */
export const PktType = {
  DATA: 0x10,
  GRANT: 0x11,
  RESEND: 0x12,
  RPC_UNKNOWN: 0x13,
  BUSY: 0x14,
  CUTOFFS: 0x15,
  FREEZE: 0x16,
  NEED_ACK: 0x17,
  ACK: 0x18,
} as const;
export const PKT_TYPE_NAMES: Record<number, string> = {
  0x10: 'DATA', 0x11: 'GRANT', 0x12: 'RESEND', 0x13: 'RPC_UNKNOWN', 0x14: 'BUSY',
  0x15: 'CUTOFFS', 0x16: 'FREEZE', 0x17: 'NEED_ACK', 0x18: 'ACK',
};

/** Word offsets inside a slot's header. */
export const H = {
  TYPE: 0,
  SRC_HOST: 1,
  DST_HOST: 2,
  SPORT: 3,
  DPORT: 4,
  /** The sender's own RPC id (the receiver's local id is SENDER_ID ^ 1). */
  SENDER_ID: 5,
  /** Priority level 0..7 the packet travels at in the switch. */
  PRIORITY: 6,
  /** Bytes this packet occupies on the wire (headers + payload + Ethernet overhead). */
  WIRE_BYTES: 7,
  /** DATA: payload bytes in this segment. */
  SEG_BYTES: 8,
  /** DATA: total message length. */
  MSG_LEN: 9,
  /** DATA: offset of this segment; GRANT: granted offset; RESEND: start offset. */
  OFFSET: 10,
  /** DATA: `incoming` (unscheduled bytes, or end of a resent range); RESEND: length (-1 = all). */
  INCOMING_OR_LENGTH: 11,
  /** DATA: bit 0 = retransmit. GRANT/RESEND: priority the sender must use from now on. */
  FLAGS_OR_PRIO: 12,
  CUTOFF_VERSION: 13,
  /** DATA: one piggybacked ack {client_id, server_port}; client_id 0 = none. */
  ACK_CLIENT_ID: 14,
  ACK_SERVER_PORT: 15,
  /** ns32 stamps for hand-off latency measurements. */
  T_XMIT: 16,
  T_NIC_RX: 17,
  T_GRO: 18,
  T_SOFTIRQ: 19,
  /** Next slot in a GRO batch chain (-1 ends it); owned by whoever holds the packet. */
  NEXT: 20,
  /** RX channel the NIC delivered the packet on. */
  CHANNEL: 21,
  /** ACK: num_acks, then up to 5 pairs at EXTRA+1..; CUTOFFS: 8 cutoffs at EXTRA.. */
  EXTRA: 22,
} as const;

export const DATA_FLAG_RETRANSMIT = 1;
export const MAX_ACKS_PER_PKT = 5;
/**
 * RPC_UNKNOWN: FLAGS_OR_PRIO bit saying that no socket is bound to the destination port. The
 * kernel answers such packets with an ICMP port-unreachable, which aborts the client's RPCs to
 * that port with ENOTCONN; the emulator carries the same information in an RPC_UNKNOWN.
 */
export const UNKNOWN_FLAG_NO_SOCKET = 1;
/** ACK: word EXTRA holds num_acks; ack i is {client id at ACK_IDS + 2i, server port at ACK_IDS + 2i + 1}. */
export const ACK_IDS = H.EXTRA + 1;
/** CUTOFFS: the 8 cutoffs (P0..P7) at EXTRA .. EXTRA + 7, version in CUTOFF_VERSION. */
export const CUTOFFS_WORDS = H.EXTRA;

/** Writes the common header words of a packet (everything but the per-type fields). */
export function setCommonHeader(hdr: Int32Array, slot: number, type: number, srcHost: number, dstHost: number,
  sport: number, dport: number, senderId: number, priority: number): void {
  const b = slot * HEADER_WORDS;
  hdr[b + H.TYPE] = type;
  hdr[b + H.SRC_HOST] = srcHost;
  hdr[b + H.DST_HOST] = dstHost;
  hdr[b + H.SPORT] = sport;
  hdr[b + H.DPORT] = dport;
  hdr[b + H.SENDER_ID] = senderId;
  hdr[b + H.PRIORITY] = priority;
  hdr[b + H.SEG_BYTES] = 0;
  hdr[b + H.FLAGS_OR_PRIO] = 0;
  hdr[b + H.ACK_CLIENT_ID] = 0;
  hdr[b + H.NEXT] = -1;
}

/** Header bytes per packet type, as the kernel sizes them (for WIRE_BYTES). */
export const HDR_BYTES: Record<number, number> = {
  0x10: 56, 0x11: 33, 0x12: 37, 0x13: 28, 0x14: 28, 0x15: 28 + 8 * 4 + 2, 0x16: 28, 0x17: 28, 0x18: 28 + 2 + 5 * 12,
};
/** IPv4 header bytes. */
export const IP_HDR_BYTES = 20;
/** Ethernet framing the link pays per packet: preamble 8 + header 14 + FCS 4 + gap 12 + VLAN 4. */
export const ETH_OVERHEAD_BYTES = 42;
/** Control packets carry at least this many Homa bytes (padding). */
export const MIN_HOMA_PKT_BYTES = 26;

/** Wire bytes of a packet of `type` carrying `payload` data bytes. */
export function wireBytes(type: number, payload: number): number {
  const homa = Math.max((HDR_BYTES[type] ?? 28) + payload, MIN_HOMA_PKT_BYTES);
  return homa + IP_HDR_BYTES + ETH_OVERHEAD_BYTES;
}

/** Largest DATA payload that fits an MTU-sized IP packet. */
export function maxSegBytes(mtu: number): number {
  return mtu - IP_HDR_BYTES - HDR_BYTES[PktType.DATA]!;
}
