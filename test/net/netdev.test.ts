import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/config.js';
import { isUserError } from '../../src/config/errors.js';
import {
  channelOwners, fabricCoreIndex, initNet, netChannels, netLayout, readNetStats, setChannelOwners,
} from '../../src/net/netdev.js';
import { allocate } from '../../src/shm/layout.js';

describe('netLayout', () => {
  it('has one TX ring per host and one RX ring per channel, sized ringSlots', () => {
    const cfg = resolveConfig({ hosts: 3, cores: 2, channels: 4, ringSlots: 64 });
    const d = netLayout(cfg);
    expect(d.columns['tx.2.cells']!.length).toBe(2 * 64); // MPSC: sequence + value per cell
    expect(d.columns['rx.2.3.cells']!.length).toBe(64);
    expect(d.columns['rx.2.4.cells']).toBeUndefined();
    expect(d.columns['chanOwner']!.length).toBe(12);
  });

  it('refuses a net that would not fit with a coded error naming the knobs', () => {
    const cfg = resolveConfig({ hosts: 64, cores: 64, ringSlots: 1 << 22 });
    let err: unknown;
    try { netLayout(cfg); } catch (e) { err = e; }
    expect(isUserError(err)).toBe(true);
    expect((err as { code: string }).code).toBe('ESIZING');
    expect((err as Error).message).toMatch(/--ring-slots.*4194304.*--channels/);
  });

  it('netChannels is one per core unless channels is set; the fabric core follows every host core', () => {
    expect(netChannels(resolveConfig({ cores: 6 }))).toBe(6);
    expect(netChannels(resolveConfig({ cores: 6, channels: 2 }))).toBe(2);
    expect(fabricCoreIndex(resolveConfig({ hosts: 3, cores: 4 }))).toBe(12);
  });
});

describe('initNet / setChannelOwners', () => {
  it('defaults owners to c % cores and accepts a policy map, validating it', () => {
    const cfg = resolveConfig({ hosts: 2, cores: 2, channels: 3, ringSlots: 16 });
    const desc = netLayout(cfg);
    const sab = allocate(desc);
    initNet(cfg, sab, desc);
    expect(Array.from(channelOwners(cfg, sab, desc, 1))).toEqual([0, 1, 0]);
    setChannelOwners(cfg, sab, desc, 1, [1, 1, 0]);
    expect(Array.from(channelOwners(cfg, sab, desc, 1))).toEqual([1, 1, 0]);
    expect(Array.from(channelOwners(cfg, sab, desc, 0))).toEqual([0, 1, 0]);
    expect(() => setChannelOwners(cfg, sab, desc, 0, [0, 2, 0])).toThrow(/core in \[0, 1\], got 2/);
    expect(() => setChannelOwners(cfg, sab, desc, 0, [0, 1])).toThrow(/3 RX channels, got 2/);
  });

  it('readNetStats of an idle net is all zeros and balanced', () => {
    const cfg = resolveConfig({ hosts: 2, cores: 1, ringSlots: 16 });
    const desc = netLayout(cfg);
    const sab = allocate(desc);
    initNet(cfg, sab, desc);
    const st = readNetStats(cfg, sab, desc);
    expect(st.totals).toEqual({
      xmitPkts: 0, rcvdPkts: 0, droppedPkts: 0, balanced: true,
      drops: { loss: 0, switch_queue_full: 0, rx_ring_full: 0, tx_ring_full: 0, stopped_in_flight: 0 },
    });
    expect(JSON.parse(JSON.stringify(st))).toEqual(st);
  });
});
