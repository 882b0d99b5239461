import { describe, expect, it } from 'vitest';
import { H, PktType } from '../../src/wire/packet.js';
import { HomaErr, RpcState } from '../../src/homa/homa.js';
import { addPacket } from '../../src/homa/incoming.js';
import { M } from '../../src/homa/metrics.js';
import { TimerContext } from '../../src/homa/timer.js';
import { Harness } from './harness.js';
import { SERVERS_ONLY, dataPkt, serverRpc, txPackets, word } from './util.js';

const SEG = 1424;

async function make(cfg: Record<string, unknown> = {}) {
  const h = await Harness.create({ apps: SERVERS_ONLY, cfg });
  return { h, hm: h.homa(1, 1) };
}

describe('TimerContext.tick (homa_timer)', () => {
  it('sends RESENDs for gaps and [recv_end, granted) after resend_ticks of silence, every resend_interval, aborts at timeout_ticks', async () => {
    const { h, hm } = await make({ resendTicks: 3, resendInterval: 2, timeoutTicks: 9 });
    const timer = h.cores[3]!.contexts.find((c) => c instanceof TimerContext) as TimerContext;
    const len = 100_000;
    const g = serverRpc(hm, 0, 2, len, 0, 1000);
    addPacket(hm, g, dataPkt(hm, 0, 2, len, 0, false));
    addPacket(hm, g, dataPkt(hm, 0, 2, len, 2 * SEG, false));
    const resends = (): number[][] => txPackets(h, 1).filter((s) => word(hm, s, H.TYPE) === PktType.RESEND)
      .map((s) => [word(hm, s, H.OFFSET), word(hm, s, H.INCOMING_OR_LENGTH)]);
    timer.tick(1e6);
    timer.tick(2e6);
    expect(resends()).toEqual([]);
    timer.tick(3e6);
    const first = [[SEG, SEG], [3 * SEG, 40000 - 3 * SEG]];
    expect(resends()).toEqual(first);
    timer.tick(4e6);
    expect(resends().length).toBe(2);
    timer.tick(5e6);
    expect(resends()).toEqual([...first, ...first]);
    for (let t = 6; t <= 8; t++) timer.tick(t * 1e6);
    expect(hm.rState[g]).toBe(RpcState.INCOMING);
    timer.tick(9e6);
    expect(hm.rState[g]).toBe(RpcState.FREE);
    expect(hm.metrics[hm.mrow + M.rpc_timeouts]).toBe(1);
  });

  it('a client that hears nothing after its request asks for the response, then times out with ETIMEDOUT', async () => {
    const h = await Harness.create({
      apps: { clients: [{ host: 0, core: 1, port: 40000, dstHost: 1, dstPort: 1000, lengths: [500] }], servers: [] },
      cfg: { resendTicks: 2, resendInterval: 2, timeoutTicks: 5 },
    });
    const hm = h.homa(0, 1);
    const timer = h.cores[1]!.contexts.find((c) => c instanceof TimerContext) as TimerContext;
    h.round(); // the client sends its request (the fabric is not run again after this)
    const client = h.cores[1]!.clients[0]!;
    const g = hm.rpcBase + Array.from(hm.rState.subarray(hm.rpcBase, hm.rpcBase + hm.rpcsPerHost)).findIndex((s) => s !== 0);
    expect(hm.rState[g]).toBe(RpcState.OUTGOING);
    for (let t = 1; t <= 4; t++) timer.tick(t * 1e6);
    const rs = txPackets(h, 0).filter((s) => word(hm, s, H.TYPE) === PktType.RESEND);
    expect(rs.map((s) => [word(hm, s, H.OFFSET), word(hm, s, H.INCOMING_OR_LENGTH)])).toEqual([[0, -1], [0, -1]]);
    timer.tick(5e6);
    expect(hm.rError[g]).toBe(HomaErr.ETIMEDOUT);
    for (let i = 0; i < 5; i++) {
      for (const a of h.cores[1]!.apps) {
        if (a.state === 1 && Atomics.load(a.wakeWords, a.wakeIndex) !== 0) a.state = 0;
        if (a.state === 0) a.step(6e6, 20000);
      }
    }
    expect(client.results).toEqual([{ length: 500, ok: false, error: 'ETIMEDOUT', message: 'the peer did not answer within timeout_ticks' }]);
    expect(hm.rState[g]).toBe(RpcState.FREE);
  });
});

