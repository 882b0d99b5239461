import { describe, expect, it } from 'vitest';
import { nicXmit } from '../../src/net/nic.js';
import { CORE_CTR_STRIDE, CoreCtr } from '../../src/net/netdev.js';
import { column } from '../../src/shm/layout.js';
import { H, HEADER_WORDS } from '../../src/wire/packet.js';
import { NetHarness } from './net-harness.js';

describe('Nic.xmit', () => {
  it('stamps T_XMIT (ns32), pushes to the TX ring and counts packets and bytes in its core row', () => {
    const n = new NetHarness({ hosts: 2, cores: 3 });
    const t = 2 ** 32 + 12345; // ns32 keeps the low 32 bits
    const s = n.send(0, { dst: 1, wireBytes: 700 }, t);
    expect(s).toBeGreaterThanOrEqual(0);
    expect(n.field(s, H.T_XMIT)).toBe(12345);
    expect(n.nics[0]!.txBacklog()).toBe(1);
    n.send(0, { dst: 1, wireBytes: 100 }, t);
    const ctr = column(n.sab, n.net, 'coreCtr', 'f64');
    expect(ctr[0 * CORE_CTR_STRIDE + CoreCtr.XMIT_PKTS]).toBe(2);
    expect(ctr[0 * CORE_CTR_STRIDE + CoreCtr.XMIT_BYTES]).toBe(800);
    expect(ctr[1 * CORE_CTR_STRIDE + CoreCtr.XMIT_PKTS]).toBe(0); // host 0 core 1: untouched
    n.fabric.stop(0);
    expect(n.audit().free).toBe(n.spec.slots);
  });

  it('on a full TX ring: returns false, frees the slot and counts tx_ring_full', () => {
    const n = new NetHarness({ ringSlots: 16 });
    const nic = n.nics[0]!;
    expect(nic.txCapacity()).toBe(16);
    for (let i = 0; i < 16; i++) expect(n.send(0, { dst: 1 }, 0)).toBeGreaterThanOrEqual(0);
    const slot = n.pools[0]!.alloc();
    n.hdr[slot * HEADER_WORDS + H.WIRE_BYTES] = 64;
    expect(nicXmit(nic, slot, 0)).toBe(false);
    // The slot went back to this core's pool cache: the next alloc returns it.
    expect(n.pools[0]!.alloc()).toBe(slot);
    n.pools[0]!.free(slot);
    const ctr = column(n.sab, n.net, 'coreCtr', 'f64');
    expect(ctr[CoreCtr.TX_RING_FULL]).toBe(1);
    expect(ctr[CoreCtr.XMIT_PKTS]).toBe(17);
    n.fabric.stop(0);
    expect(n.audit().free).toBe(n.spec.slots);
  });
});

describe('Nic.pollChannel', () => {
  it('pops delivered packets in order, at most max at a time', () => {
    const n = new NetHarness({ channels: 1 });
    const sent = [0, 1, 2, 3, 4].map(() => n.send(0, { dst: 1 }, 0));
    n.runUntilIdle(0, 1000);
    expect(n.nics[1]!.rxPending(0)).toBe(5);
    const dst = new Int32Array(8);
    expect(n.nics[1]!.pollChannel(0, dst, 3)).toBe(3);
    expect(Array.from(dst.subarray(0, 3))).toEqual(sent.slice(0, 3));
    expect(n.nics[1]!.pollChannel(0, dst, 8)).toBe(2);
    expect(Array.from(dst.subarray(0, 2))).toEqual(sent.slice(3));
    expect(n.nics[1]!.pollChannel(0, dst, 8)).toBe(0);
    for (const s of sent) n.fabricPool.free(s);
    n.fabric.stop(1e6);
    expect(n.audit().free).toBe(n.spec.slots);
  });

  it('channelsOwnedBy follows the owner map (default: channel c -> core c % cores)', () => {
    const n = new NetHarness({ cores: 3, channels: 7 });
    const nic = n.nics[0]!;
    expect(nic.channels).toBe(7);
    expect(nic.channelsOwnedBy(0)).toEqual([0, 3, 6]);
    expect(nic.channelsOwnedBy(1)).toEqual([1, 4]);
    expect(nic.channelsOwnedBy(2)).toEqual([2, 5]);
  });
});
