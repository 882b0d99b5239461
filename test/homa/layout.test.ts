import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/config.js';
import { BPAGE_BYTES, HOMA_COLUMNS, homaLayout, homaSizes } from '../../src/homa/layout.js';
import { pagesFor } from '../../src/homa/pool.js';

describe('homaSizes', () => {
  it('sizes every table from the config', () => {
    const z = homaSizes(resolveConfig({ hosts: 3, cores: 4, ringSlots: 2048 }));
    expect(z.totalCores).toBe(12);
    expect(z.packetSlots).toBe(24576); // hosts x cores x ringSlots within [16384, 262144]
    expect(z.payloadBytes).toBe(1424);
    expect(z.pktPool.cores).toBe(13); // every core plus the fabric
    expect(z.rpcPool).toEqual({ slots: 4096, cores: 4, cacheSlots: 16 });
    expect(homaSizes(resolveConfig({ packetSlots: 5000 })).packetSlots).toBe(5000);
  });

  it('holds the pages of every host in one column and refuses too many with ESIZING', () => {
    const cfg = resolveConfig({ bpagesPerHost: 64, maxRpcsPerHost: 64, packetSlots: 1024 });
    expect(homaLayout(cfg).columns['bpage.bytes']!.length).toBe(2 * 64 * BPAGE_BYTES);
    expect(() => homaSizes(resolveConfig({ hosts: 64, bpagesPerHost: 1024 }))).toThrow(expect.objectContaining({ code: 'ESIZING' }));
  });
});

describe('pagesFor', () => {
  it('gives a 1,000,000-byte message 16 pages of 64 KiB', () => {
    expect([1, 65536, 65537, 1_000_000].map(pagesFor)).toEqual([1, 1, 2, 16]);
  });
});

describe('HOMA_COLUMNS (the one list of the fixed columns)', () => {
  it('every column of the table is in the layout with its element type, and the layout has no fixed column outside it', () => {
    const desc = homaLayout(resolveConfig({ hosts: 2, cores: 2 }));
    for (const [name, type] of Object.entries(HOMA_COLUMNS)) expect(desc.columns[name]?.type, name).toBe(type);
    // Per-instance structures (pools, rings, offload state, the network) are laid out by their own modules.
    const fixed = Object.keys(desc.columns).filter((n) => !/^(rpcpool|bpage\.pool|pkt\.pool|softirq|off|net)\./.test(n));
    expect(fixed.sort()).toEqual(Object.keys(HOMA_COLUMNS).sort());
  });
});
