/**
 * src/homa/softirq.ts: homa_softirq's two passes over a GRO batch (control packets and short
 * messages one by one, then the DATA of longer messages grouped per RPC so each RPC is handled
 * in one go), and SoftirqContext draining the core's backlog.
 */
import { describe, expect, it } from 'vitest';
import { H, HEADER_WORDS } from '../../src/wire/packet.js';
import { M } from '../../src/homa/metrics.js';
import { SHORT_MSG_BYTES, SoftirqContext, homaSoftirq } from '../../src/homa/softirq.js';
import { TT_SOFTIRQ_DATA, TimeTrace } from '../../src/metrics/timetrace.js';
import { NUM_ROLES, type CoreAccount } from '../../src/cpu/context.js';
import { Harness } from './harness.js';
import { SERVERS_ONLY, dataPkt } from './util.js';

const SEG = 1424;

/** Links packet slots into a GRO batch (through H.NEXT); returns its head. */
function chain(hm: ReturnType<Harness['homa']>, slots: number[]): number {
  for (let i = 0; i < slots.length; i++) hm.pktHdr[slots[i]! * HEADER_WORDS + H.NEXT] = i + 1 < slots.length ? slots[i + 1]! : -1;
  return slots[0]!;
}

describe('homaSoftirq', () => {
  it('takes short messages first, then the packets of each longer message together', async () => {
    const h = await Harness.create({ apps: SERVERS_ONLY });
    const hm = h.homa(1, 1);
    hm.tt = new TimeTrace(64); // records each DATA packet in the order SoftIRQ handles it
    const long = 4 * SEG;
    // Interleaved: long RPC 2, short RPC 4, long RPC 6, long RPC 2, long RPC 6.
    const head = chain(hm, [dataPkt(hm, 0, 2, long, 0), dataPkt(hm, 0, 4, 100, 0), dataPkt(hm, 0, 6, long, 0),
      dataPkt(hm, 0, 2, long, SEG), dataPkt(hm, 0, 6, long, SEG)]);
    expect(homaSoftirq(hm, head, 1000)).toBe(5);
    const order: Array<[number, number]> = [];
    hm.tt.forEach((_t, fmt, id, _peer, off) => { if (fmt === TT_SOFTIRQ_DATA) order.push([id, off]); });
    expect(order).toEqual([[5, 0], [3, 0], [3, SEG], [7, 0], [7, SEG]]);
    expect(SHORT_MSG_BYTES).toBe(1400);
    expect(hm.metrics[hm.mrow + M.softirq_calls]).toBe(1);
    expect(hm.metrics[hm.mrow + M.softirq_packets]).toBe(5);
  });
});

describe('SoftirqContext', () => {
  it('drains every batch of the core backlog and records GRO->SoftIRQ latency per packet', async () => {
    const h = await Harness.create({ apps: SERVERS_ONLY });
    const hm = h.homa(1, 1);
    const ctx = new SoftirqContext(hm);
    expect(ctx.hasWork()).toBe(false);
    for (const id of [2, 4, 6]) {
      const p = dataPkt(hm, 0, id, 100, 0);
      hm.pktHdr[p * HEADER_WORDS + H.T_GRO] = 1000;
      hm.pktHdr[p * HEADER_WORDS + H.NEXT] = -1;
      expect(hm.softirqRings[1]!.push(p)).toBe(true);
    }
    expect(ctx.hasWork()).toBe(true);
    const acct: CoreAccount = { roleNs: new Float64Array(NUM_ROLES), move() { /* unused */ } } as unknown as CoreAccount;
    expect(ctx.run(4000, acct)).toBe(3);
    expect(ctx.hasWork()).toBe(false);
    expect(hm.handoff.groToSoftirq.totalCount).toBe(3);
    expect(hm.metrics[hm.mrow + M.softirq_calls]).toBe(3);
  });
});
