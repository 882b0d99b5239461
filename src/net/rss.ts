/**
 * Receive-side scaling (RSS) of the emulated NICs: how a NIC picks the RX channel of an
 * arriving packet. Real NICs compute the Toeplitz hash of the flow tuple with a 40-byte secret
 * key and index a 128-entry indirection table with the hash's low bits; Linux fills that table
 * round-robin over the channels (entry i -> channel i % channels). We do the same with the
 * well-known default key, so the emulator's spreading has the real one's lumpiness. Mode 'ip'
 * hashes only the source and destination addresses, as a NIC that does not know Homa's IP
 * protocol number does (every packet from one peer lands on one channel); 'ip-ports' adds the
 * 16-bit source and destination ports (what TCP hijacking buys). Host h has address 10.0.0.(h+1).
 * Toeplitz is linear in its input bits, so everything is precomputed at start: one table per
 * input byte position and one hash per (source, destination) host pair; a packet then costs a
 * few table loads and XORs, with no allocation.
 */

/** The de-facto standard RSS key (the one most drivers default to). */
export const RSS_DEFAULT_KEY: readonly number[] = [
  0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
  0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
  0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
];

/** Entries of the NIC's RSS indirection table (Linux's ETH_RSS_INDIR_TABLE default size). */
export const RSS_INDIR_ENTRIES = 128;

/** Bytes of the hashed tuple: src IPv4, dst IPv4, src port, dst port. */
const TUPLE_BYTES = 12;
const SPORT_BYTE = 8;
const DPORT_BYTE = 10;

/** IPv4 address of emulated host `host` (10.0.0.1 for host 0), as an unsigned 32-bit number. */
export function hostIp(host: number): number {
  return (0x0a000001 + host) >>> 0;
}

/** The 32 key bits starting at bit `bit` of `key` (bit 0 = most significant bit of byte 0). */
function keyWindow(key: readonly number[], bit: number): number {
  let w = 0;
  for (let i = 0; i < 32; i++) {
    const b = bit + i;
    const byte = key[b >> 3] ?? 0;
    w = (w << 1) | ((byte >> (7 - (b & 7))) & 1);
  }
  return w >>> 0;
}

/**
 * Toeplitz hash tables: `byteTables[pos * 256 + value]` is the hash contribution of `value` at
 * byte `pos` of the tuple. The hash of a tuple is the XOR of its bytes' contributions.
 */
export function toeplitzTables(key: readonly number[] = RSS_DEFAULT_KEY, bytes = TUPLE_BYTES): Uint32Array {
  if (key.length * 8 < bytes * 8 + 32) {
    throw new Error(`rss: a ${key.length}-byte key cannot hash ${bytes} bytes (needs ${bytes + 4})`);
  }
  const t = new Uint32Array(bytes * 256);
  for (let pos = 0; pos < bytes; pos++) {
    const win = new Uint32Array(8);
    for (let bit = 0; bit < 8; bit++) win[bit] = keyWindow(key, pos * 8 + bit);
    for (let v = 0; v < 256; v++) {
      let h = 0;
      for (let bit = 0; bit < 8; bit++) if ((v >> (7 - bit)) & 1) h ^= win[bit]!;
      t[pos * 256 + v] = h >>> 0;
    }
  }
  return t;
}

/** Toeplitz hash of arbitrary bytes with the tables above (setup and tests; not per packet). */
export function toeplitzHash(tables: Uint32Array, input: ArrayLike<number>): number {
  let h = 0;
  for (let i = 0; i < input.length; i++) h ^= tables[i * 256 + (input[i]! & 0xff)]!;
  return h >>> 0;
}

export type RssMode = 'ip' | 'ip-ports';

/**
 * One cluster's RSS: hash and channel of a packet from its header fields. Built once per
 * thread at start (a few KiB of tables); `channel()` allocates nothing.
 */
export class Rss {
  readonly hosts: number;
  readonly channels: number;
  readonly withPorts: boolean;
  private readonly tables: Uint32Array;
  /** Hash of the address pair, [src * hosts + dst]. */
  private readonly pairHash: Uint32Array;
  /** Indirection table: low bits of the hash -> channel. */
  readonly indir: Int32Array;

  constructor(hosts: number, channels: number, mode: RssMode, key: readonly number[] = RSS_DEFAULT_KEY) {
    if (!Number.isInteger(channels) || channels < 1) throw new Error(`rss: channels must be >= 1, got ${channels}`);
    this.hosts = hosts;
    this.channels = channels;
    this.withPorts = mode === 'ip-ports';
    this.tables = toeplitzTables(key);
    this.pairHash = new Uint32Array(hosts * hosts);
    const tuple = new Uint8Array(8);
    for (let s = 0; s < hosts; s++) {
      for (let d = 0; d < hosts; d++) {
        writeU32(tuple, 0, hostIp(s));
        writeU32(tuple, 4, hostIp(d));
        this.pairHash[s * hosts + d] = toeplitzHash(this.tables, tuple);
      }
    }
    this.indir = new Int32Array(RSS_INDIR_ENTRIES);
    for (let i = 0; i < RSS_INDIR_ENTRIES; i++) this.indir[i] = i % channels;
  }

  /** The NIC's 32-bit flow hash (unsigned) of a packet. */
  hash(srcHost: number, dstHost: number, sport: number, dport: number): number {
    let h = this.pairHash[srcHost * this.hosts + dstHost]!;
    if (this.withPorts) {
      const t = this.tables;
      h ^= t[SPORT_BYTE * 256 + ((sport >>> 8) & 0xff)]! ^ t[(SPORT_BYTE + 1) * 256 + (sport & 0xff)]!
        ^ t[DPORT_BYTE * 256 + ((dport >>> 8) & 0xff)]! ^ t[(DPORT_BYTE + 1) * 256 + (dport & 0xff)]!;
    }
    return h >>> 0;
  }

  /** RX channel (0..channels-1) of a packet. */
  channel(srcHost: number, dstHost: number, sport: number, dport: number): number {
    return this.indir[this.hash(srcHost, dstHost, sport, dport) & (RSS_INDIR_ENTRIES - 1)]!;
  }
}

function writeU32(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 24) & 0xff;
  b[at + 1] = (v >>> 16) & 0xff;
  b[at + 2] = (v >>> 8) & 0xff;
  b[at + 3] = v & 0xff;
}
