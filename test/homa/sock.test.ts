import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/config.js';
import { allocate } from '../../src/shm/layout.js';
import { HOMA_MAX_SOCKETS, homaLayout } from '../../src/homa/layout.js';
import { initHoma } from '../../src/cluster/homa-world.js';
import { sockBind } from '../../src/homa/sock.js';

describe('sockBind', () => {
  it('binds a port once per host (idempotent) and refuses a 17th port with ESIZING', () => {
    const cfg = resolveConfig({ maxRpcsPerHost: 16, bpagesPerHost: 16, ringSlots: 16, packetSlots: 64 });
    const desc = homaLayout(cfg);
    const sab = allocate(desc);
    initHoma(cfg, sab, desc, { clients: [], servers: [] });
    expect(sockBind(cfg, sab, desc, 0, 1000)).toBe(0);
    expect(sockBind(cfg, sab, desc, 0, 1001)).toBe(1);
    expect(sockBind(cfg, sab, desc, 0, 1000)).toBe(0);
    expect(sockBind(cfg, sab, desc, 1, 1001)).toBe(0);
    for (let p = 2; p < HOMA_MAX_SOCKETS; p++) sockBind(cfg, sab, desc, 0, 1000 + p);
    expect(() => sockBind(cfg, sab, desc, 0, 2000)).toThrow(expect.objectContaining({ code: 'ESIZING' }));
    expect(() => sockBind(cfg, sab, desc, 0, 0)).toThrow(expect.objectContaining({ code: 'EINVALIDOPT' }));
  });
});
