import { describe, expect, it } from 'vitest';
import { RSS_INDIR_ENTRIES, Rss, hostIp, toeplitzHash, toeplitzTables } from '../../src/net/rss.js';
import { H } from '../../src/wire/packet.js';
import { NetHarness } from './net-harness.js';

function ip(s: string): number[] {
  return s.split('.').map(Number);
}
function port(p: number): number[] {
  return [(p >> 8) & 0xff, p & 0xff];
}

/**
 * The published RSS verification vectors for the default key (IPv4 / IPv4+TCP):
 * [destination, destination port, source, source port, hash of IPs, hash of IPs + ports].
 */
const VECTORS: Array<[string, number, string, number, number, number]> = [
  ['161.142.100.80', 1766, '66.9.149.187', 2794, 0x323e8fc2, 0x51ccc178],
  ['65.69.140.83', 4739, '199.92.111.2', 14230, 0xd718262a, 0xc626b0ea],
  ['12.22.207.184', 38024, '24.19.198.95', 12898, 0xd2d0a5de, 0x5c2b394a],
  ['209.142.163.6', 2217, '38.27.205.30', 48228, 0x82989176, 0xafc7327f],
  ['202.188.127.2', 1303, '153.39.163.191', 44251, 0x5d1809c5, 0x10e828a2],
];

describe('toeplitzHash', () => {
  const t = toeplitzTables();
  it.each(VECTORS)('matches the published vector for %s:%i <- %s:%i', (dst, dport, src, sport, hIp, hPorts) => {
    expect(toeplitzHash(t, [...ip(src), ...ip(dst)])).toBe(hIp);
    expect(toeplitzHash(t, [...ip(src), ...ip(dst), ...port(sport), ...port(dport)])).toBe(hPorts);
  });
});

describe('Rss', () => {
  it('hash() equals the Toeplitz hash of 10.0.0.(h+1) addresses (and ports in ip-ports mode)', () => {
    const t = toeplitzTables();
    const bytes = (h: number): number[] => [10, 0, 0, h + 1];
    const a = new Rss(8, 4, 'ip');
    const b = new Rss(8, 4, 'ip-ports');
    expect(hostIp(0)).toBe(0x0a000001);
    for (const [s, d, sp, dp] of [[0, 1, 1000, 2000], [3, 7, 40000, 1], [6, 2, 65535, 0]] as const) {
      expect(a.hash(s, d, sp, dp)).toBe(toeplitzHash(t, [...bytes(s), ...bytes(d)]));
      expect(b.hash(s, d, sp, dp)).toBe(toeplitzHash(t, [...bytes(s), ...bytes(d), ...port(sp), ...port(dp)]));
    }
  });

  it('the indirection table spreads entries round-robin over the channels (i % channels)', () => {
    const r = new Rss(2, 3, 'ip');
    expect(r.indir.length).toBe(RSS_INDIR_ENTRIES);
    expect(Array.from(r.indir.subarray(0, 7))).toEqual([0, 1, 2, 0, 1, 2, 0]);
    expect(r.channel(0, 1, 5, 6)).toBe(r.hash(0, 1, 5, 6) % 128 % 3);
  });
});

describe('Fabric RSS delivery', () => {
  it("'ip' sends every packet of one peer to one channel, whatever the ports", () => {
    const n = new NetHarness({ hosts: 4, cores: 4, rss: 'ip' });
    const rss = new Rss(4, 4, 'ip');
    for (let p = 0; p < 32; p++) for (const src of [0, 2, 3]) n.send(src, { dst: 1, sport: 1000 + p, dport: 3000 + 7 * p }, 0);
    n.runUntilIdle(0, 1000);
    const bySrc = new Map<number, Set<number>>();
    let total = 0;
    for (let c = 0; c < 4; c++) {
      for (const s of n.drain(1, c)) {
        total++;
        expect(n.field(s, H.CHANNEL)).toBe(c);
        const src = n.field(s, H.SRC_HOST);
        if (!bySrc.has(src)) bySrc.set(src, new Set());
        bySrc.get(src)!.add(c);
      }
    }
    expect(total).toBe(96);
    for (const src of [0, 2, 3]) expect([...bySrc.get(src)!]).toEqual([rss.channel(src, 1, 0, 0)]);
    n.fabric.stop(1e6);
    n.drainAllAndFree();
  });

  it("'ip-ports' spreads one peer's ports over the channels, each as the hash says", () => {
    const n = new NetHarness({ hosts: 2, cores: 4, rss: 'ip-ports' });
    const rss = new Rss(2, 4, 'ip-ports');
    for (let p = 0; p < 64; p++) n.send(0, { dst: 1, sport: 1000 + p, dport: 4000 }, 0);
    n.runUntilIdle(0, 1000);
    const used = new Set<number>();
    let total = 0;
    for (let c = 0; c < 4; c++) {
      for (const s of n.drain(1, c)) {
        total++;
        used.add(c);
        expect(c).toBe(rss.channel(0, 1, n.field(s, H.SPORT), 4000));
      }
    }
    expect(total).toBe(64);
    expect(used.size).toBe(4);
    n.fabric.stop(1e6);
    n.drainAllAndFree();
  });
});
