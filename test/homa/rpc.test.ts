/**
 * src/homa/rpc.ts: client ids (even, rising by 2 from the host's range) and server ids (id ^ 1);
 * lookup by (id, peer) in the socket's buckets, several RPCs per bucket; rpcEnd unlinks the RPC
 * from the ready list and its bucket and returns its slot, packets and pages; a slot reused later
 * has a new generation; a full table fails allocation and counts it.
 */
import { describe, expect, it } from 'vitest';
import { RpcState } from '../../src/homa/homa.js';
import { HOMA_RPC_BUCKETS, homaSizes } from '../../src/homa/layout.js';
import { M } from '../../src/homa/metrics.js';
import { rpcAllocClient, rpcAllocServer, rpcEnd, rpcFind } from '../../src/homa/rpc.js';
import { readyAppend } from '../../src/homa/sock.js';
import { sockLookup } from '../../src/homa/sock.js';
import { auditPool } from '../../src/shm/pool.js';
import { subLayout } from '../../src/shm/layout.js';
import { firstRpcId } from '../../src/cluster/homa-world.js';
import { Harness } from './harness.js';
import { SERVERS_ONLY, dataPkt, serverRpc } from './util.js';
import { addPacket } from '../../src/homa/incoming.js';

const APPS = { clients: [{ host: 0, port: 40000, dstHost: 1, dstPort: 1000, lengths: [] }], servers: [{ host: 1, port: 1000 }] };

describe('rpcAllocClient / rpcFind', () => {
  it("gives even ids rising by 2 from the host's range, each found by (id, peer) in its bucket", async () => {
    const h = await Harness.create({ apps: APPS, cfg: { maxRpcsPerHost: 1024 } });
    const hm = h.homa(0);
    const sockG = sockLookup(hm, 40000);
    const gs: number[] = [];
    for (let i = 0; i < HOMA_RPC_BUCKETS + 3; i++) {
      const g = rpcAllocClient(hm, sockG, 1, 1000, 1000);
      hm.locks.unlock(hm.rpcLock(g)); // returned with its bucket lock held
      gs.push(g);
    }
    expect(gs.slice(0, 3).map((g) => hm.rId[g])).toEqual([firstRpcId(0) + 2, firstRpcId(0) + 4, firstRpcId(0) + 6]);
    // Ids HOMA_RPC_BUCKETS apart share a bucket: every RPC is still found, and only by its own peer.
    for (const g of gs) {
      expect(rpcFind(hm, sockG, hm.rId[g]!, 1)).toBe(g);
      expect(rpcFind(hm, sockG, hm.rId[g]!, 0)).toBe(-1);
      expect(hm.rState[g]).toBe(RpcState.OUTGOING);
    }
    expect(rpcFind(hm, sockG, hm.rId[gs[0]!]! ^ 1, 1)).toBe(-1); // a server id is in the other table
  });

  it('host 1 numbers its clients in its own range, so an id names one RPC in the cluster', () => {
    expect(firstRpcId(1) - firstRpcId(0)).toBe(1 << 23);
    expect(firstRpcId(255) + (1 << 23)).toBe(2 ** 31);
  });
});

describe('rpcEnd', () => {
  it('unlinks the RPC from the ready list and its bucket and frees its slot, packets and pages; a reused slot has a new generation', async () => {
    const h = await Harness.create({ apps: SERVERS_ONLY, cfg: { maxRpcsPerHost: 16 } });
    const hm = h.homa(1, 1);
    const sockG = sockLookup(hm, 1000);
    const len = 3000;
    const g = serverRpc(hm, 0, 2, len, 0, 1000);
    expect(addPacket(hm, g, dataPkt(hm, 0, 2, len, 0))).toBe(true);
    const lk = hm.bucketLock(sockG, 3);
    hm.locks.lock(hm.socketLock(sockG));
    readyAppend(hm, sockG, g);
    hm.locks.unlock(hm.socketLock(sockG));
    const gen = hm.rGen[g]!;
    const pktsFree = auditPool(h.sab, subLayout(h.desc, 'pkt.pool'), homaSizes(hm.cfg).pktPool).free;
    hm.locks.lock(lk);
    rpcEnd(hm, g, lk);
    hm.locks.unlock(lk);
    expect(hm.rState[g]).toBe(RpcState.FREE);
    expect(hm.sReadyHead[sockG]).toBe(-1);
    expect(rpcFind(hm, sockG, 3, 0)).toBe(-1);
    expect(hm.metrics[hm.mrow + M.rpcs_ended]).toBe(1);
    for (const c of h.cores) c.onStop?.(0);
    expect(auditPool(h.sab, subLayout(h.desc, 'pkt.pool'), homaSizes(hm.cfg).pktPool).free).toBe(pktsFree + 1);
    // The slot comes back with a new generation; with every slot live the next allocation fails.
    const got: number[] = [];
    for (let id = 5; ; id += 2) {
      const l = hm.bucketLock(sockG, id);
      hm.locks.lock(l);
      const x = rpcAllocServer(hm, sockG, id, 0, 40000, 2000);
      hm.locks.unlock(l);
      if (x < 0) break;
      got.push(x);
    }
    expect(got.length).toBe(16);
    expect(got).toContain(g);
    expect(hm.rGen[g]).not.toBe(gen);
    expect(hm.metrics[hm.mrow + M.rpc_alloc_failures]).toBe(1);
  });
});
