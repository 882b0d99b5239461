/**
 * Conformance with HomaModule's test/unit_homa_grant.c: each `it` is one of the kernel's grant
 * scenarios (same name), set up with the kernel fixture's knobs (fixed window 1200, max_incoming
 * 50000, FIFO grants off, num_priorities 1 for GRANT priorities that do not depend on cutoffs)
 * and checked against the kernel's expected values, through our grant functions. Peers 1..5 are
 * the fixture's server_ip[0..4]; ids are the clients' ids.
 */
import { describe, expect, it } from 'vitest';
import {
  activate, buildGrant, checkFifo, checkNeedy, deactivate, findOldest, findVictim, grantCheckRpc, grantPriority,
  grantWindow, listInsert, listRemove, manage, outranks, priorityForRank, promote, promoteQueued, trySend, unmanage,
  updateIncoming,
} from '../../src/homa/grant.js';
import { GrantState, RpcState } from '../../src/homa/homa.js';
import { M } from '../../src/homa/metrics.js';
import { msgInInit } from '../../src/homa/incoming.js';
import { sendControl } from '../../src/homa/outgoing.js';
import { rpcEnd } from '../../src/homa/rpc.js';
import {
  grantables, idOf, inRpc, kernelHost, knobs, metric, needy, setNeedy, setTotalIncoming, totalIncoming,
  withGrantLock, withRpcLock, type Kernel,
} from './kernel.js';
import { fifoGrantIntervalNs, type Homa } from '../../src/homa/homa.js';

/** The unit_homa_grant fixture. */
async function fixture(cfg: Record<string, unknown> = {}): Promise<Kernel> {
  const k = await kernelHost({ window: 1200, maxIncoming: 50000, grantFifoFraction: 0, numPriorities: 1, ...cfg });
  return k;
}

/** test_rpc: an incoming message of `size` bytes from peer `peer`, nothing granted, not managed. */
const rpc = (hm: Homa, id: number, peer: number, size: number, birth = 0): number => inRpc(hm, peer, id, size, birth);
/** test_rpc_mngd: the same, managed (active or grantable). */
function mngd(hm: Homa, id: number, peer: number, size: number, birth = 0): number {
  const g = rpc(hm, id, peer, size, birth);
  withGrantLock(hm, () => manage(hm, g));
  return g;
}
const addActive = (hm: Homa, g: number, slot: number): void => withGrantLock(hm, () => activate(hm, g, slot));
const insertGrantable = (hm: Homa, g: number): void => withGrantLock(hm, () => listInsert(hm, g));
/** homa_grant_adjust_peer after RPC g's bytes changed: g is re-placed in the SRPT order. */
const adjust = (hm: Homa, g: number): void => withGrantLock(hm, () => { listRemove(hm, g); listInsert(hm, g); });
/** homa_grant_try_send as the kernel calls it: the grant goes out, then the FIFO check. */
function tryGrant(k: Kernel, g: number, checkNeedyFirst: boolean, now = 0): void {
  const pkt = withRpcLock(k.hm, g, () => trySend(k.hm, g, checkNeedyFirst));
  if (pkt >= 0) { sendControl(k.hm, pkt, now); checkFifo(k.hm, now); }
}
function checkRpc(hm: Homa, g: number, now = 0): void {
  const lk = hm.rpcLock(g);
  hm.locks.lock(lk);
  grantCheckRpc(hm, g, lk, now);
}
const slotOf = (hm: Homa, g: number): number => hm.rActiveSlot[g]!;

describe('unit_homa_grant.c', () => {
  it('homa_grant_init_rpc__rpc_needs_grants', async () => {
    const { hm } = await fixture();
    const g = rpc(hm, 100, 1, 20000);
    withRpcLock(hm, g, () => msgInInit(hm, g, 2000, 800, 0));
    expect(hm.rInGranted[g]).toBe(800);
    expect(hm.rInUnsched[g]! < hm.rInLen[g]!).toBe(true); // grantable
  });

  it('homa_grant_init_rpc__unsched_past_end_of_message', async () => {
    const { hm } = await fixture();
    const g = inRpc(hm, 1, 100, 2000, 0, 3000);
    expect(hm.rActiveSlot[g]).toBe(-1);
    expect(hm.rInGranted[g]).toBe(2000);
    checkRpc(hm, g); // not grantable: never managed
    expect(hm.rGrantState[g]).toBe(GrantState.NONE);
  });

  it('homa_grant_add_active', async () => {
    const { hm } = await fixture({ window: 0, maxIncoming: 88888 });
    const g = inRpc(hm, 1, 100, 20000, 0, 2000);
    expect(hm.rActiveSlot[g]).toBe(-1);
    addActive(hm, g, 3);
    expect(grantables(hm)).toBe('active[3]: id 100 remaining 20000');
    expect(hm.rActiveSlot[g]).toBe(3);
    expect(hm.gActiveRemaining[3]).toBe(20000);
    expect(hm.gPeerActive[1]).toBe(1);
    expect(hm.gNumActive[0]).toBe(1);
    expect(grantWindow(hm, hm.gNumActive[0]!)).toBe(44444); // windows[1] = max_incoming / 2
  });

  it('homa_grant_remove_active', async () => {
    const { hm } = await fixture({ window: 0, maxIncoming: 55555 });
    const g = inRpc(hm, 1, 100, 20000, 0, 2000);
    addActive(hm, g, 3);
    expect(grantables(hm)).toBe('active[3]: id 100 remaining 20000');
    withGrantLock(hm, () => deactivate(hm, 3));
    expect(hm.rActiveSlot[g]).toBe(-1);
    expect(hm.gActive[3]).toBe(-1);
    expect(hm.gPeerActive[1]).toBe(0);
    expect(hm.gNumActive[0]).toBe(0);
    expect(grantWindow(hm, hm.gNumActive[0]!)).toBe(55555);
  });

  it('homa_grant_outranks', async () => {
    const { hm } = await fixture();
    const r1 = mngd(hm, 100, 1, 20000, 3000);
    const r2 = mngd(hm, 102, 1, 30000, 2000);
    const r3 = mngd(hm, 104, 1, 30000, 1999);
    const r4 = mngd(hm, 106, 1, 30000, 2000);
    expect(outranks(hm, r1, r2)).toBe(true);
    expect(outranks(hm, r2, r1)).toBe(false);
    expect(outranks(hm, r2, r3)).toBe(false);
    expect(outranks(hm, r3, r2)).toBe(true);
    expect(outranks(hm, r2, r4)).toBe(false);
    expect(outranks(hm, r4, r2)).toBe(false);
  });

  it('homa_grant_priority__no_extra_levels', async () => {
    const { hm } = await fixture();
    knobs(hm, { maxSchedPrio: 6 });
    expect(priorityForRank(hm, 0, 7)).toBe(6);
    expect(priorityForRank(hm, 7, 7)).toBe(0);
  });

  it('homa_grant_priority__extra_levels', async () => {
    const { hm } = await fixture();
    knobs(hm, { maxSchedPrio: 6 });
    expect(priorityForRank(hm, 0, 4)).toBe(3);
    expect(priorityForRank(hm, 7, 4)).toBe(0);
  });

  it('homa_grant_find_victim__empty_slot', async () => {
    const { hm } = await fixture();
    addActive(hm, rpc(hm, 100, 2, 30000), 0);
    addActive(hm, rpc(hm, 102, 1, 20000), 1);
    expect(findVictim(hm, rpc(hm, 104, 3, 10000))).toBe(2);
  });

  it('homa_grant_find_victim__respect_max_overcommit', async () => {
    const { hm } = await fixture();
    addActive(hm, rpc(hm, 100, 1, 20000), 0);
    addActive(hm, rpc(hm, 102, 2, 30000), 1);
    const g = rpc(hm, 104, 3, 10000);
    knobs(hm, { maxOvercommit: 3 });
    expect(findVictim(hm, g)).toBe(2);
    knobs(hm, { maxOvercommit: 2 });
    expect(findVictim(hm, g)).toBe(1);
    knobs(hm, { maxOvercommit: 1 });
    expect(findVictim(hm, g)).toBe(0);
  });

  it('homa_grant_find_victim__pick_lp_with_more_peer_active', async () => {
    const { hm } = await fixture({ maxOvercommit: 3 });
    addActive(hm, rpc(hm, 100, 1, 60000), 0);
    addActive(hm, rpc(hm, 102, 2, 50000), 1);
    addActive(hm, rpc(hm, 104, 2, 40000), 2);
    expect(findVictim(hm, rpc(hm, 106, 3, 10000))).toBe(1);
  });

  it('homa_grant_find_victim__skip_candidate_with_less_peer_active', async () => {
    const { hm } = await fixture({ maxOvercommit: 3 });
    addActive(hm, rpc(hm, 100, 1, 40000), 0);
    addActive(hm, rpc(hm, 102, 1, 50000), 1);
    addActive(hm, rpc(hm, 104, 2, 60000), 2);
    expect(findVictim(hm, rpc(hm, 106, 3, 10000))).toBe(1);
  });

  it('homa_grant_find_victim__candidate_has_same_peer_as_new_rpc', async () => {
    const { hm } = await fixture({ maxOvercommit: 3 });
    addActive(hm, rpc(hm, 100, 1, 60000), 0);
    addActive(hm, rpc(hm, 102, 2, 50000), 1);
    addActive(hm, rpc(hm, 100, 3, 60000), 2);
    expect(findVictim(hm, rpc(hm, 106, 2, 10000))).toBe(1);
  });

  it('homa_grant_find_victim__pick_lp_based_on_birth', async () => {
    const { hm } = await fixture({ maxOvercommit: 3 });
    addActive(hm, rpc(hm, 100, 1, 20000, 500), 0);
    addActive(hm, rpc(hm, 102, 1, 20000, 700), 1);
    addActive(hm, rpc(hm, 104, 1, 20000, 200), 2);
    expect(findVictim(hm, rpc(hm, 106, 2, 10000))).toBe(1);
  });

  it('homa_grant_find_victim__lp_has_more_active_than_new_rpc', async () => {
    const { hm } = await fixture({ maxOvercommit: 2 });
    addActive(hm, rpc(hm, 100, 1, 60000), 0);
    addActive(hm, rpc(hm, 102, 1, 50000), 1);
    expect(findVictim(hm, rpc(hm, 104, 2, 80000))).toBe(0);
  });

  it('homa_grant_find_victim__compare_new_rpc_with_remaining', async () => {
    const { hm } = await fixture({ maxOvercommit: 1 });
    addActive(hm, rpc(hm, 100, 1, 20000, 500), 0);
    const g = rpc(hm, 102, 2, 30000, 300);
    expect(findVictim(hm, g)).toBe(-1);
    hm.rInRemaining[g] = 10000;
    expect(findVictim(hm, g)).toBe(0);
  });

  it('homa_grant_find_victim__compare_new_rpc_with_birth', async () => {
    const { hm } = await fixture({ maxOvercommit: 1 });
    addActive(hm, rpc(hm, 100, 1, 20000, 500), 0);
    const g = rpc(hm, 102, 2, 20000, 700);
    expect(findVictim(hm, g)).toBe(-1);
    hm.rBirthNs[g] = 300;
    expect(findVictim(hm, g)).toBe(0);
  });

  it('homa_grant_find_victim__replace_rpc_from_same_peer', async () => {
    const { hm } = await fixture({ maxOvercommit: 2 });
    addActive(hm, rpc(hm, 100, 1, 20000), 0);
    addActive(hm, rpc(hm, 102, 1, 30000), 1);
    expect(findVictim(hm, rpc(hm, 104, 1, 10000))).toBe(1);
  });

  it('homa_grant_adjust_peer__insert_in_grantable_peers', async () => {
    const { hm } = await fixture();
    const g = rpc(hm, 100, 1, 70000);
    insertGrantable(hm, rpc(hm, 200, 2, 100000));
    insertGrantable(hm, rpc(hm, 300, 3, 50000));
    insertGrantable(hm, g);
    expect(grantables(hm)).toBe('peer 3: id 300 remaining 50000; peer 1: id 100 remaining 70000; '
      + 'peer 2: id 200 remaining 100000');
  });

  it('homa_grant_adjust_peer__append_to_grantable_peers', async () => {
    const { hm } = await fixture();
    const g = rpc(hm, 100, 1, 120000);
    insertGrantable(hm, rpc(hm, 200, 2, 100000));
    insertGrantable(hm, rpc(hm, 300, 3, 50000));
    insertGrantable(hm, g);
    expect(grantables(hm)).toBe('peer 3: id 300 remaining 50000; peer 2: id 200 remaining 100000; '
      + 'peer 1: id 100 remaining 120000');
  });

  it('homa_grant_adjust_peer__move_peer_upwards', async () => {
    const { hm } = await fixture();
    const g = rpc(hm, 100, 1, 120000);
    insertGrantable(hm, g);
    insertGrantable(hm, rpc(hm, 200, 2, 100000));
    insertGrantable(hm, rpc(hm, 300, 3, 50000));
    insertGrantable(hm, rpc(hm, 400, 4, 80000));
    hm.rInRemaining[g] = hm.rInRemaining[g]! - 45000;
    adjust(hm, g);
    expect(grantables(hm)).toBe('peer 3: id 300 remaining 50000; peer 1: id 100 remaining 75000; '
      + 'peer 4: id 400 remaining 80000; peer 2: id 200 remaining 100000');
  });

  it('homa_grant_adjust_peer__move_peer_to_front', async () => {
    const { hm } = await fixture();
    const g = rpc(hm, 100, 1, 100000);
    insertGrantable(hm, g);
    insertGrantable(hm, rpc(hm, 200, 2, 50000));
    hm.rInRemaining[g] = hm.rInRemaining[g]! - 55000;
    adjust(hm, g);
    expect(grantables(hm)).toBe('peer 1: id 100 remaining 45000; peer 2: id 200 remaining 50000');
  });

  it('homa_grant_adjust_peer__move_peer_downwards', async () => {
    const { hm } = await fixture();
    const g = rpc(hm, 100, 1, 40000);
    insertGrantable(hm, g);
    insertGrantable(hm, rpc(hm, 200, 2, 100000));
    insertGrantable(hm, rpc(hm, 300, 3, 50000));
    insertGrantable(hm, rpc(hm, 400, 4, 80000));
    hm.rInLen[g] = hm.rInLen[g]! + 41000;
    hm.rInRemaining[g] = hm.rInRemaining[g]! + 41000;
    adjust(hm, g);
    expect(grantables(hm)).toBe('peer 3: id 300 remaining 50000; peer 4: id 400 remaining 80000; '
      + 'peer 1: id 100 remaining 81000; peer 2: id 200 remaining 100000');
  });

  it('homa_grant_adjust_peer__move_peer_to_back', async () => {
    const { hm } = await fixture();
    const g = rpc(hm, 100, 1, 50000);
    insertGrantable(hm, g);
    insertGrantable(hm, rpc(hm, 200, 2, 100000));
    hm.rInLen[g] = hm.rInLen[g]! + 55000;
    hm.rInRemaining[g] = hm.rInRemaining[g]! + 55000;
    adjust(hm, g);
    expect(grantables(hm)).toBe('peer 2: id 200 remaining 100000; peer 1: id 100 remaining 105000');
  });

  it('homa_grant_insert_grantable__insert_in_peer_list', async () => {
    const { hm } = await fixture();
    for (const [id, size] of [[100, 100000], [200, 50000], [300, 800000], [400, 70000]] as const) {
      insertGrantable(hm, rpc(hm, id, 1, size));
    }
    expect(grantables(hm)).toBe('peer 1: id 200 remaining 50000 id 400 remaining 70000 '
      + 'id 100 remaining 100000 id 300 remaining 800000');
  });

  it('homa_grant_insert_grantable__insert_peer_in_grantable_peers', async () => {
    const { hm } = await fixture();
    insertGrantable(hm, rpc(hm, 200, 1, 100000));
    insertGrantable(hm, rpc(hm, 300, 2, 50000));
    insertGrantable(hm, rpc(hm, 400, 3, 120000));
    insertGrantable(hm, rpc(hm, 500, 4, 70000));
    expect(grantables(hm)).toBe('peer 2: id 300 remaining 50000; peer 4: id 500 remaining 70000; '
      + 'peer 1: id 200 remaining 100000; peer 3: id 400 remaining 120000');
  });

  it('homa_grant_remove_grantable__not_first_in_peer_list', async () => {
    const { hm } = await fixture();
    const g = rpc(hm, 300, 1, 30000);
    insertGrantable(hm, rpc(hm, 200, 1, 20000));
    insertGrantable(hm, g);
    insertGrantable(hm, rpc(hm, 400, 2, 25000));
    expect(grantables(hm)).toBe('peer 1: id 200 remaining 20000 id 300 remaining 30000; peer 2: id 400 remaining 25000');
    withGrantLock(hm, () => listRemove(hm, g));
    expect(grantables(hm)).toBe('peer 1: id 200 remaining 20000; peer 2: id 400 remaining 25000');
  });

  it('homa_grant_remove_grantable__remove_peer_from_grantable_peers', async () => {
    const { hm } = await fixture();
    const g = rpc(hm, 200, 1, 30000);
    insertGrantable(hm, g);
    insertGrantable(hm, rpc(hm, 300, 2, 40000));
    insertGrantable(hm, rpc(hm, 400, 3, 20000));
    expect(grantables(hm)).toBe('peer 3: id 400 remaining 20000; peer 1: id 200 remaining 30000; '
      + 'peer 2: id 300 remaining 40000');
    withGrantLock(hm, () => listRemove(hm, g));
    expect(grantables(hm)).toBe('peer 3: id 400 remaining 20000; peer 2: id 300 remaining 40000');
  });

  it('homa_grant_manage_rpc__evict_victim_and_add_to_active', async () => {
    const { hm } = await fixture({ maxOvercommit: 1 });
    const r1 = rpc(hm, 100, 1, 50000);
    const r2 = rpc(hm, 102, 1, 20000);
    withGrantLock(hm, () => manage(hm, r1));
    expect(slotOf(hm, r1)).toBe(0);
    withGrantLock(hm, () => manage(hm, r2));
    expect(slotOf(hm, r1)).toBe(-1);
    expect(slotOf(hm, r2)).toBe(0);
    expect(grantables(hm)).toBe('active[0]: id 102 remaining 20000; peer 1: id 100 remaining 50000');
  });

  it('homa_grant_manage_rpc__add_to_grantables_list', async () => {
    const { hm } = await fixture({ maxOvercommit: 1 });
    const r1 = rpc(hm, 100, 1, 20000, 200);
    const r2 = rpc(hm, 102, 1, 50000, 300);
    withGrantLock(hm, () => manage(hm, r1));
    withGrantLock(hm, () => manage(hm, r2));
    expect(slotOf(hm, r1)).toBe(0);
    expect(slotOf(hm, r2)).toBe(-1);
    expect(grantables(hm)).toBe('active[0]: id 100 remaining 20000; peer 1: id 102 remaining 50000');
    expect(hm.rGrantState[r2]).toBe(GrantState.GRANTABLE); // managed
  });

  it('homa_grant_unmanage_rpc__remove_from_active_and_or_grantable_list', async () => {
    const { hm } = await fixture({ maxOvercommit: 1, maxIncoming: 60000 });
    const r1 = mngd(hm, 100, 1, 20000);
    const r2 = mngd(hm, 200, 1, 30000);
    expect(grantables(hm)).toBe('active[0]: id 100 remaining 20000; peer 1: id 200 remaining 30000');
    withGrantLock(hm, () => unmanage(hm, r2));
    expect(grantables(hm)).toBe('active[0]: id 100 remaining 20000');
    withGrantLock(hm, () => unmanage(hm, r1));
    expect(grantables(hm)).toBe('');
  });

  it('homa_grant_unmanage_rpc__remove_from_active_and_promote', async () => {
    const { hm } = await fixture({ maxOvercommit: 1, maxIncoming: 60000 });
    const r1 = mngd(hm, 100, 1, 20000);
    const r2 = mngd(hm, 200, 1, 30000);
    expect(grantables(hm)).toBe('active[0]: id 100 remaining 20000; peer 1: id 200 remaining 30000');
    withGrantLock(hm, () => unmanage(hm, r1));
    expect(grantables(hm)).toBe('active[0]: id 200 remaining 30000');
    expect(slotOf(hm, r2)).toBe(0);
  });

  it('homa_grant_unmanage_rpc__clear_rec_incoming', async () => {
    const { hm } = await fixture();
    const g = mngd(hm, 200, 1, 30000);
    hm.rRecIncoming[g] = 1200;
    withGrantLock(hm, () => unmanage(hm, g));
    expect(hm.rRecIncoming[g]).toBe(0);
    expect(totalIncoming(hm)).toBe(-1200);
  });

  it('homa_grant_promote_queued__prefer_peer_with_no_active', async () => {
    const { hm } = await fixture();
    addActive(hm, rpc(hm, 200, 1, 10000), 0);
    insertGrantable(hm, rpc(hm, 202, 1, 20000));
    insertGrantable(hm, rpc(hm, 204, 2, 30000));
    expect(grantables(hm)).toBe('active[0]: id 200 remaining 10000; peer 1: id 202 remaining 20000; '
      + 'peer 2: id 204 remaining 30000');
    knobs(hm, { maxOvercommit: 3 });
    withGrantLock(hm, () => promoteQueued(hm, 2));
    expect(grantables(hm)).toBe('active[0]: id 200 remaining 10000; active[2]: id 204 remaining 30000; '
      + 'peer 1: id 202 remaining 20000');
    expect(needy(hm)).toBe(4);
  });

  it('homa_grant_promote_queued__prefer_peer_with_fewer_active', async () => {
    const { hm } = await fixture({ maxOvercommit: 4 });
    addActive(hm, rpc(hm, 200, 1, 10000), 0);
    addActive(hm, rpc(hm, 202, 1, 20000), 2);
    addActive(hm, rpc(hm, 204, 2, 30000), 1);
    insertGrantable(hm, rpc(hm, 206, 1, 40000));
    insertGrantable(hm, rpc(hm, 208, 2, 50000));
    withGrantLock(hm, () => promoteQueued(hm, 3));
    expect(grantables(hm)).toBe('active[0]: id 200 remaining 10000; active[1]: id 204 remaining 30000; '
      + 'active[2]: id 202 remaining 20000; active[3]: id 208 remaining 50000; peer 1: id 206 remaining 40000');
    expect(needy(hm)).toBe(8);
  });

  it('homa_grant_promote_queued__no_promotable_rpcs', async () => {
    const { hm } = await fixture({ maxOvercommit: 4 });
    addActive(hm, rpc(hm, 200, 1, 10000), 0);
    withGrantLock(hm, () => promoteQueued(hm, 2));
    expect(grantables(hm)).toBe('active[0]: id 200 remaining 10000');
  });

  it('homa_grant_promote_rpc__rpc_not_in_lists', async () => {
    const { hm } = await fixture();
    const g = rpc(hm, 102, 1, 40000);
    addActive(hm, g, 3);
    hm.rInRemaining[g] = hm.rInRemaining[g]! - 15000;
    checkRpc(hm, g); // an active RPC is not repositioned (promote applies to grantable ones only)
    expect(slotOf(hm, g)).toBe(3);
  });

  it('homa_grant_promote_rpc__promote_within_peer_list', async () => {
    const { hm } = await fixture({ maxOvercommit: 1 });
    for (const [id, size] of [[100, 30000], [102, 40000], [104, 50000], [106, 60000]] as const) mngd(hm, id, 1, size);
    const g = mngd(hm, 108, 1, 70000);
    hm.rInRemaining[g] = hm.rInRemaining[g]! - 25000;
    withGrantLock(hm, () => promote(hm, g));
    expect(grantables(hm)).toBe('active[0]: id 100 remaining 30000; peer 1: id 102 remaining 40000 '
      + 'id 108 remaining 45000 id 104 remaining 50000 id 106 remaining 60000');
  });

  it('homa_grant_promote_rpc__promote_into_active_space_available', async () => {
    const { hm } = await fixture();
    const r1 = mngd(hm, 100, 1, 30000);
    const r2 = rpc(hm, 102, 1, 40000);
    insertGrantable(hm, r2);
    withGrantLock(hm, () => promote(hm, r2));
    expect(slotOf(hm, r1)).toBe(0);
    expect(slotOf(hm, r2)).toBe(1);
  });

  it('homa_grant_promote_rpc__promote_into_active_demote_existing', async () => {
    const { hm } = await fixture({ maxOvercommit: 1 });
    const r1 = mngd(hm, 100, 1, 30000);
    const r2 = mngd(hm, 102, 1, 40000);
    expect(slotOf(hm, r1)).toBe(0);
    expect(slotOf(hm, r2)).toBe(-1);
    hm.rInRemaining[r2] = hm.rInRemaining[r2]! - 15000;
    withGrantLock(hm, () => promote(hm, r2));
    expect(slotOf(hm, r1)).toBe(-1);
    expect(slotOf(hm, r2)).toBe(0);
  });

  it('homa_grant_promote_rpc__promote_to_top_of_peer_list_and_adjust_peer', async () => {
    const { hm } = await fixture({ maxOvercommit: 1 });
    mngd(hm, 100, 1, 30000);
    mngd(hm, 102, 2, 40000);
    mngd(hm, 104, 3, 50000);
    mngd(hm, 106, 3, 60000);
    const g = mngd(hm, 108, 3, 70000);
    hm.rInRemaining[g] = hm.rInRemaining[g]! - 35000;
    withGrantLock(hm, () => promote(hm, g));
    expect(grantables(hm)).toBe('active[0]: id 100 remaining 30000; peer 3: id 108 remaining 35000 '
      + 'id 104 remaining 50000 id 106 remaining 60000; peer 2: id 102 remaining 40000');
  });

  it('homa_grant_update_incoming__basics', async () => {
    const { hm } = await fixture();
    const g = mngd(hm, 200, 1, 20000);
    setTotalIncoming(hm, 1000);
    hm.rInRemaining[g] = 19000;
    hm.rInGranted[g] = 3000;
    hm.rRecIncoming[g] = 500;
    updateIncoming(hm, g);
    expect(totalIncoming(hm)).toBe(2500);
    expect(hm.rRecIncoming[g]).toBe(2000);
    // Incoming negative.
    setTotalIncoming(hm, 1000);
    hm.rInRemaining[g] = 16000;
    hm.rInGranted[g] = 3000;
    hm.rRecIncoming[g] = 500;
    updateIncoming(hm, g);
    expect(totalIncoming(hm)).toBe(500);
    expect(hm.rRecIncoming[g]).toBe(0);
    // No change to rec_incoming.
    setTotalIncoming(hm, 1000);
    hm.rInRemaining[g] = 16000;
    hm.rInGranted[g] = 4500;
    hm.rRecIncoming[g] = 500;
    updateIncoming(hm, g);
    expect(totalIncoming(hm)).toBe(1000);
    expect(hm.rRecIncoming[g]).toBe(500);
  });

  it('homa_grant_update_incoming__promote', async () => {
    const { hm } = await fixture();
    const g = rpc(hm, 200, 1, 5000);
    insertGrantable(hm, g);
    expect(slotOf(hm, g)).toBe(-1);
    hm.rInRemaining[g] = 4000;
    hm.rInGranted[g] = 3000;
    // Our update_incoming is the accounting half; the promotion it triggers is grantCheckRpc's.
    checkRpc(hm, g);
    expect(slotOf(hm, g)).toBe(0);
    expect(hm.rInGranted[g]).toBe(3000); // window 1200 already covered: no new grant
    expect(hm.rRecIncoming[g]).toBe(2000);
  });

  it('homa_grant_send', async () => {
    const k = await fixture();
    const g = rpc(k.hm, 100, 1, 20000);
    k.hm.rInGranted[g] = 2600;
    sendControl(k.hm, buildGrant(k.hm, g, 3), 0);
    expect(k.xmit()).toBe('GRANT 2600@3');
  });

  it('homa_grant_try_send__basics', async () => {
    const k = await fixture({ maxIncoming: 100000 });
    const { hm } = k;
    const g = mngd(hm, 100, 1, 20000);
    hm.rInRemaining[g] = 19900;
    hm.rInGranted[g] = 300;
    hm.rRecIncoming[g] = 200;
    setTotalIncoming(hm, 500);
    tryGrant(k, g, true);
    expect(k.xmit()).toBe('GRANT 1300@0');
    expect(hm.rInGranted[g]).toBe(1300);
    expect(hm.rRecIncoming[g]).toBe(1200);
    expect(totalIncoming(hm)).toBe(1500);
    expect(needy(hm)).toBe(0);
  });

  it('homa_grant_try_send__rpc_fully_granted', async () => {
    const k = await fixture({ maxIncoming: 100000 });
    const { hm } = k;
    const g = mngd(hm, 100, 1, 20000);
    hm.rInRemaining[g] = 19900;
    hm.rInGranted[g] = 1300;
    hm.rRecIncoming[g] = 200;
    setTotalIncoming(hm, 500);
    tryGrant(k, g, true);
    expect(k.xmit()).toBe('');
    expect(hm.rInGranted[g]).toBe(1300);
    expect(hm.rRecIncoming[g]).toBe(200);
    expect(totalIncoming(hm)).toBe(500);
  });

  it('homa_grant_try_send__reduce_grant_because_of_message_end', async () => {
    const k = await fixture({ maxIncoming: 100000 });
    const { hm } = k;
    const g = mngd(hm, 100, 1, 20000);
    hm.rInRemaining[g] = 700;
    hm.rInGranted[g] = 19300;
    hm.rRecIncoming[g] = 200;
    setTotalIncoming(hm, 500);
    tryGrant(k, g, true);
    expect(k.xmit()).toBe('GRANT 20000@0');
    expect(hm.rInGranted[g]).toBe(20000);
    expect(hm.rRecIncoming[g]).toBe(900);
    expect(totalIncoming(hm)).toBe(1200);
  });

  it('homa_grant_try_send__max_incoming_exceeded', async () => {
    const k = await fixture({ maxIncoming: 100000 });
    const { hm } = k;
    const g = rpc(hm, 100, 1, 20000);
    addActive(hm, g, 2);
    hm.rInRemaining[g] = 19900;
    hm.rInGranted[g] = 300;
    hm.rRecIncoming[g] = 200;
    setTotalIncoming(hm, 100010);
    tryGrant(k, g, true);
    expect(k.xmit()).toBe('');
    expect(hm.rInGranted[g]).toBe(300);
    expect(hm.rRecIncoming[g]).toBe(200);
    expect(totalIncoming(hm)).toBe(100010);
    expect(needy(hm)).toBe(4);
  });

  it('homa_grant_try_send__needy_rpcs', async () => {
    const k = await fixture({ maxIncoming: 100000 });
    const { hm } = k;
    const g = rpc(hm, 100, 1, 20000);
    addActive(hm, g, 2);
    hm.rInRemaining[g] = 19900;
    hm.rInGranted[g] = 300;
    hm.rRecIncoming[g] = 200;
    setTotalIncoming(hm, 500);
    setNeedy(hm, 8);
    tryGrant(k, g, true);
    expect(k.xmit()).toBe('');
    expect(hm.rInGranted[g]).toBe(300);
    expect(totalIncoming(hm)).toBe(500);
    expect(needy(hm)).toBe(12);
  });

  it('homa_grant_try_send__needy_rpcs_but_check_needy_false', async () => {
    const k = await fixture({ maxIncoming: 100000 });
    const { hm } = k;
    const g = mngd(hm, 100, 1, 20000);
    hm.rInRemaining[g] = 19900;
    hm.rInGranted[g] = 300;
    hm.rRecIncoming[g] = 200;
    setTotalIncoming(hm, 500);
    setNeedy(hm, 8);
    tryGrant(k, g, false);
    expect(k.xmit()).toBe('GRANT 1300@0');
    expect(hm.rInGranted[g]).toBe(1300);
    expect(hm.rRecIncoming[g]).toBe(1200);
    expect(totalIncoming(hm)).toBe(1500);
    expect(needy(hm)).toBe(8);
  });

  it('homa_grant_try_send__reduce_grant_because_of_incoming_limit', async () => {
    const k = await fixture({ maxIncoming: 10000 });
    const { hm } = k;
    const g = rpc(hm, 100, 1, 20000);
    addActive(hm, g, 2);
    hm.rInRemaining[g] = 19900;
    hm.rInGranted[g] = 300;
    hm.rRecIncoming[g] = 200;
    setTotalIncoming(hm, 9500);
    tryGrant(k, g, true);
    expect(k.xmit()).toBe('GRANT 800@0');
    expect(hm.rInGranted[g]).toBe(800);
    expect(hm.rRecIncoming[g]).toBe(700);
    expect(totalIncoming(hm)).toBe(10000);
    expect(needy(hm)).toBe(4);
  });

  it('homa_grant_try_send__rank_basics', async () => {
    const k = await fixture({ numPriorities: 8 });
    mngd(k.hm, 100, 1, 6000);
    const g = mngd(k.hm, 102, 1, 4000);
    mngd(k.hm, 104, 1, 5000);
    tryGrant(k, g, true);
    expect(k.xmit()).toBe('GRANT 1200@2');
  });

  it('homa_grant_try_send__rank_use_birth_to_choose', async () => {
    const k = await fixture({ numPriorities: 8 });
    const { hm } = k;
    const r1 = rpc(hm, 100, 1, 4000, 400);
    addActive(hm, r1, 2);
    addActive(hm, rpc(hm, 102, 1, 4000, 300), 1);
    addActive(hm, rpc(hm, 104, 1, 4000, 500), 3);
    addActive(hm, rpc(hm, 106, 1, 4000, 600), 6);
    tryGrant(k, r1, true);
    expect(k.xmit()).toBe('GRANT 1200@2');
  });

  it('homa_grant_try_send__fifo_grant', async () => {
    const k = await fixture({ grantFifoFraction: 50 });
    const { hm } = k;
    const r1 = mngd(hm, 100, 1, 50000, 5000);
    const r2 = mngd(hm, 102, 1, 100000, 1000);
    // The fixture's num_priorities 1 leaves max_sched_prio as homa_init set it (not 0).
    knobs(hm, { fifoIntervalNs: 10000, fifoIncrement: 20000, maxSchedPrio: 5 });
    hm.gFifoTimeNs[0] = 0;
    tryGrant(k, r1, true, 100);
    expect(k.xmit()).toBe('GRANT 1200@1; GRANT 20000@0');
    expect(hm.rInGranted[r1]).toBe(1200);
    expect(hm.rInGranted[r2]).toBe(20000);
  });

  it('homa_grant_check_needy__basics', async () => {
    const k = await fixture();
    const { h, hm } = k;
    const g = rpc(hm, 100, 1, 4000);
    addActive(hm, g, 2);
    setNeedy(hm, 4);
    checkNeedy(hm, 0);
    expect(k.xmit()).toBe('GRANT 1200@0');
    expect(needy(hm)).toBe(0);
    expect(hm.rInGranted[g]).toBe(1200);
    expect(metric(h, M.needy_grants)).toBe(1);
  });

  it('homa_grant_check_needy__max_incoming_exceeded', async () => {
    const k = await fixture({ maxIncoming: 10000 });
    const { hm } = k;
    addActive(hm, rpc(hm, 100, 1, 4000), 2);
    setNeedy(hm, 4);
    setTotalIncoming(hm, 10000);
    checkNeedy(hm, 0);
    expect(k.xmit()).toBe('');
    expect(needy(hm)).toBe(4);
  });

  it('homa_grant_check_needy__no_needy_rpcs', async () => {
    const k = await fixture();
    addActive(k.hm, rpc(k.hm, 100, 1, 4000), 2);
    setNeedy(k.hm, 0);
    checkNeedy(k.hm, 0);
    expect(k.xmit()).toBe('');
    expect(needy(k.hm)).toBe(0);
  });

  it('homa_grant_check_needy__service_in_priority_order', async () => {
    const k = await fixture({ numPriorities: 8, maxIncoming: 10000 });
    const { h, hm } = k;
    const r1 = rpc(hm, 100, 1, 4000, 500);
    addActive(hm, r1, 1);
    const r2 = rpc(hm, 102, 1, 5000, 400);
    addActive(hm, r2, 2);
    const r3 = rpc(hm, 104, 1, 4000, 600);
    addActive(hm, r3, 4);
    setNeedy(hm, (1 << 1) | (1 << 2) | (1 << 4));
    setTotalIncoming(hm, 7000);
    checkNeedy(hm, 0);
    expect(k.xmit()).toBe('GRANT 1200@2; GRANT 1200@1; GRANT 600@0');
    expect(needy(hm)).toBe(4);
    expect(hm.rInGranted[r1]).toBe(1200);
    expect(hm.rInGranted[r2]).toBe(600);
    expect(hm.rInGranted[r3]).toBe(1200);
    expect(metric(h, M.needy_grants)).toBe(3);
  });

  it('homa_grant_check_rpc__basics', async () => {
    const k = await fixture();
    const { hm } = k;
    const g = rpc(hm, 100, 1, 4000);
    addActive(hm, g, 2);
    checkRpc(hm, g);
    expect(k.xmit()).toBe('GRANT 1200@0');
    expect(needy(hm)).toBe(0);
    expect(hm.rInGranted[g]).toBe(1200);
    expect(hm.rRecIncoming[g]).toBe(1200);
  });

  it('homa_grant_check_rpc__rpc_not_grantable', async () => {
    const k = await fixture();
    const { hm } = k;
    // Ours: a message that fits in its unscheduled bytes is the one that is not grantable.
    const g = inRpc(hm, 1, 100, 4000, 0, 4000);
    checkRpc(hm, g);
    expect(k.xmit()).toBe('');
    expect(needy(hm)).toBe(0);
    expect(hm.rRecIncoming[g]).toBe(0);
  });

  it('homa_grant_check_rpc__rpc_fully_received', async () => {
    const k = await fixture({ maxOvercommit: 1 });
    const { hm } = k;
    const r1 = mngd(hm, 100, 1, 4000);
    const r2 = mngd(hm, 102, 1, 6000);
    hm.rInRemaining[r1] = 0;
    checkRpc(hm, r1);
    expect(k.xmit()).toBe('GRANT 1200@0');
    expect(hm.rInGranted[r1]).toBe(0);
    expect(slotOf(hm, r1)).toBe(-1);
    expect(hm.rRecIncoming[r1]).toBe(0);
    expect(hm.rGrantState[r1]).toBe(GrantState.NONE);
    expect(hm.rInGranted[r2]).toBe(1200);
    expect(slotOf(hm, r2)).toBe(0);
    expect(needy(hm)).toBe(0);
  });

  it('homa_grant_check_rpc__add_to_managed', async () => {
    const k = await fixture();
    const g = rpc(k.hm, 100, 1, 4000);
    expect(k.hm.rGrantState[g]).toBe(GrantState.NONE);
    checkRpc(k.hm, g);
    expect(k.xmit()).toBe('GRANT 1200@0');
    expect(k.hm.rInGranted[g]).toBe(1200);
    expect(k.hm.rGrantState[g]).toBe(GrantState.ACTIVE);
  });

  it('homa_grant_check_rpc__update_incoming_no_new_grant', async () => {
    const k = await fixture();
    const { hm } = k;
    const g = rpc(hm, 100, 1, 4000);
    hm.rInGranted[g] = 1600;
    hm.rInRemaining[g] = 3700;
    addActive(hm, g, 2);
    checkRpc(hm, g);
    expect(k.xmit()).toBe('');
    expect(hm.rInGranted[g]).toBe(1600);
    expect(hm.rRecIncoming[g]).toBe(1300);
  });

  it('homa_grant_check_rpc__rpc_not_active', async () => {
    const k = await fixture({ maxOvercommit: 1 });
    const { hm } = k;
    // Ours: an RPC stays in the grantable list only while the active slots are full.
    addActive(hm, rpc(hm, 90, 2, 2000), 0);
    const g = rpc(hm, 100, 1, 4000);
    insertGrantable(hm, g);
    const before = k.xmit();
    checkRpc(hm, g);
    expect(k.xmit()).toBe('');
    expect(before).toBe('');
    expect(needy(hm)).toBe(0);
    expect(hm.rInGranted[g]).toBe(0);
    expect(hm.rRecIncoming[g]).toBe(0);
  });

  it('homa_grant_check_rpc__check_needy', async () => {
    const k = await fixture({ numPriorities: 8, maxIncoming: 10000 });
    const { hm } = k;
    const r1 = rpc(hm, 100, 1, 4000);
    addActive(hm, r1, 1);
    const r2 = rpc(hm, 102, 1, 5000);
    addActive(hm, r2, 2);
    setNeedy(hm, 1 << 1);
    setTotalIncoming(hm, 8500);
    checkRpc(hm, r2);
    expect(k.xmit()).toBe('GRANT 1200@1; GRANT 300@0');
    expect(needy(hm)).toBe(4);
    expect(hm.rInGranted[r1]).toBe(1200);
    expect(hm.rInGranted[r2]).toBe(300);
  });

  /** find_oldest with the fixture's FIFO limit: window + 2 x fifo_grant_increment. */
  const oldest = (hm: Homa): number => findOldest(hm, grantWindow(hm, hm.gNumActive[0]!) + 2 * hm.fifoIncrement);

  it('homa_grant_find_oldest__check_grantable_lists', async () => {
    const { hm } = await fixture();
    const r1 = rpc(hm, 100, 1, 40000, 100);
    const r2 = rpc(hm, 102, 1, 20000, 200);
    const r3 = rpc(hm, 104, 1, 30000, 300);
    for (const g of [r1, r2, r3]) insertGrantable(hm, g);
    expect(idOf(hm, oldest(hm))).toBe(100);
  });

  it('homa_grant_find_oldest__fifo_grant_unused', async () => {
    const { hm } = await fixture();
    knobs(hm, { fifoIncrement: 10000 });
    const r1 = rpc(hm, 100, 1, 400000, 100);
    hm.rRecIncoming[r1] = 20000 + 1200;
    const r2 = rpc(hm, 102, 1, 20000, 200);
    const r3 = rpc(hm, 104, 1, 30000, 300);
    for (const g of [r1, r2, r3]) insertGrantable(hm, g);
    expect(idOf(hm, oldest(hm))).toBe(102);
  });

  it('homa_grant_find_oldest__oldest_doesnt_need_grants', async () => {
    const { hm } = await fixture();
    const r1 = rpc(hm, 100, 1, 40000, 100);
    hm.rInGranted[r1] = hm.rInLen[r1]!;
    const r2 = rpc(hm, 102, 1, 20000, 200);
    insertGrantable(hm, r1);
    insertGrantable(hm, r2);
    expect(idOf(hm, oldest(hm))).toBe(102);
  });

  it('homa_grant_find_oldest__check_active_rpcs', async () => {
    const { hm } = await fixture();
    mngd(hm, 100, 1, 40000, 100);
    mngd(hm, 102, 1, 20000, 200);
    mngd(hm, 104, 1, 30000, 300);
    expect(hm.gNumActive[0]).toBe(3);
    expect(idOf(hm, oldest(hm))).toBe(100);
  });

  it('homa_grant_find_oldest__active_rpc_has_unused_fifo_grant', async () => {
    const { hm } = await fixture();
    knobs(hm, { fifoIncrement: 10000 });
    const r1 = mngd(hm, 100, 1, 400000, 100);
    hm.rRecIncoming[r1] = 20000 + 1200;
    mngd(hm, 102, 1, 20000, 300);
    insertGrantable(hm, rpc(hm, 104, 1, 30000, 200));
    expect(hm.gNumActive[0]).toBe(2);
    expect(idOf(hm, oldest(hm))).toBe(104);
  });

  it('homa_grant_find_oldest__active_rpc_doesnt_need_grants', async () => {
    const { hm } = await fixture();
    const r1 = mngd(hm, 100, 1, 40000, 100);
    hm.rInGranted[r1] = hm.rInLen[r1]!;
    mngd(hm, 102, 1, 20000, 200);
    expect(hm.gNumActive[0]).toBe(2);
    expect(idOf(hm, oldest(hm))).toBe(102);
  });

  it('homa_grant_find_oldest__no_good_candidates', async () => {
    const { hm } = await fixture();
    rpc(hm, 100, 1, 40000); // not managed: neither active nor grantable
    expect(oldest(hm)).toBe(-1);
  });

  /** The check_fifo fixture: FIFO grants on, interval 10000 ns, increment 20000. */
  async function fifoFixture(cfg: Record<string, unknown> = {}): Promise<Kernel> {
    const k = await fixture({ grantFifoFraction: 50, maxOvercommit: 1, ...cfg });
    knobs(k.hm, { fifoIntervalNs: 10000, fifoIncrement: 20000 });
    return k;
  }

  it('homa_grant_check_fifo__basics', async () => {
    const k = await fifoFixture({ numPriorities: 5 });
    const { h, hm } = k;
    hm.gFifoTimeNs[0] = 0;
    mngd(hm, 100, 1, 30000, 1000);
    const g = mngd(hm, 102, 1, 400000, 1000);
    expect(slotOf(hm, g)).toBe(-1);
    expect(hm.rInGranted[g]).toBe(0);
    checkFifo(hm, 1000);
    expect(hm.rInGranted[g]).toBe(20000);
    expect(k.xmit()).toBe('GRANT 20000@3');
    expect(hm.gFifoTimeNs[0]).toBe(11000);
    expect(hm.rRecIncoming[g]).toBe(20000);
    expect(totalIncoming(hm)).toBe(20000);
    expect(metric(h, M.fifo_grant_bytes)).toBe(20000);
  });

  it('homa_grant_check_fifo__not_yet_time_for_a_fifo_grant', async () => {
    const k = await fifoFixture();
    const { hm } = k;
    hm.gFifoTimeNs[0] = 1001;
    mngd(hm, 100, 1, 30000, 1000);
    const g = mngd(hm, 102, 1, 400000, 1000);
    checkFifo(hm, 1000);
    expect(hm.rInGranted[g]).toBe(0);
    expect(k.xmit()).toBe('');
    expect(hm.gFifoTimeNs[0]).toBe(1001);
  });

  it('homa_grant_check_fifo__fifo_grants_disabled', async () => {
    const k = await fifoFixture();
    const { hm } = k;
    hm.gFifoTimeNs[0] = 1000;
    knobs(hm, { fifoIncrement: 0, fifoIntervalNs: 2000 });
    mngd(hm, 100, 1, 30000, 1000);
    const g = mngd(hm, 102, 1, 400000, 1000);
    checkFifo(hm, 1000);
    expect(hm.rInGranted[g]).toBe(0);
    expect(k.xmit()).toBe('');
    expect(hm.gFifoTimeNs[0]).toBe(3000);
  });

  it('homa_grant_check_fifo__oldest_rpc_not_responsive', async () => {
    const k = await fifoFixture();
    const { hm } = k;
    hm.gFifoTimeNs[0] = 1000;
    const r1 = mngd(hm, 102, 1, 400000, 1000);
    const r2 = mngd(hm, 104, 1, 300000, 3000);
    expect(idOf(hm, oldest(hm))).toBe(102);
    hm.rRecIncoming[r1] = 40000 + 1200;
    checkFifo(hm, 1000);
    expect(hm.rInGranted[r1]).toBe(0);
    expect(hm.rInGranted[r2]).toBe(20000);
    expect(k.xmit()).toBe('GRANT 20000@0');
    expect(idOf(hm, oldest(hm))).toBe(104);
  });

  it('homa_grant_check_fifo__oldest_is_fully_granted_so_pick_another', async () => {
    const k = await fifoFixture();
    const { hm } = k;
    hm.gFifoTimeNs[0] = 1000;
    const r1 = mngd(hm, 102, 1, 400000, 1000);
    const r2 = mngd(hm, 104, 1, 300000, 3000);
    expect(idOf(hm, oldest(hm))).toBe(102);
    hm.rInGranted[r1] = hm.rInLen[r1]!;
    checkFifo(hm, 1000);
    expect(hm.rInGranted[r1]).toBe(400000);
    expect(hm.rInGranted[r2]).toBe(20000);
    expect(k.xmit()).toBe('GRANT 20000@0');
    expect(idOf(hm, oldest(hm))).toBe(104);
  });

  it('homa_grant_check_fifo__no_suitable_rpc', async () => {
    const k = await fifoFixture();
    const { hm } = k;
    hm.gFifoTimeNs[0] = 1000;
    const g = mngd(hm, 100, 1, 30000, 1000);
    hm.rRecIncoming[g] = 40000 + 1200;
    checkFifo(hm, 1000);
    expect(oldest(hm)).toBe(-1);
    expect(k.xmit()).toBe('');
  });

  it('homa_grant_check_fifo__rpc_dead', async () => {
    const k = await fifoFixture();
    const { h, hm } = k;
    hm.gFifoTimeNs[0] = 0;
    mngd(hm, 100, 1, 30000, 1000);
    const g = mngd(hm, 102, 1, 400000, 1000);
    expect(slotOf(hm, g)).toBe(-1);
    const saved = hm.rState[g]!;
    hm.rState[g] = RpcState.DEAD;
    checkFifo(hm, 1000);
    hm.rState[g] = saved;
    expect(hm.rInGranted[g]).toBe(0);
    expect(metric(h, M.fifo_grant_bytes)).toBe(0);
    withRpcLock(hm, g, (lk) => rpcEnd(hm, g, lk));
  });

  it('homa_grant_update_sysctl_deps__max_overcommit', async () => {
    for (const n of [2, 8]) expect((await kernelHost({ maxOvercommit: n })).hm.maxOvercommit).toBe(n);
    // HOMA_MAX_GRANTS + 1: the kernel clamps it to 8; our option refuses it before any core starts.
    await expect(kernelHost({ maxOvercommit: 9 })).rejects.toThrow('--max-overcommit: expected a whole number in [1, 8], got 9');
  });

  it('homa_grant_update_sysctl_deps__fifo_interval', async () => {
    expect(fifoGrantIntervalNs(8000, 500, 20000)).toBe(40000);
  });

  it('homa_grant_update_sysctl_deps__fifo_interval_no_fifo_grants', async () => {
    expect(fifoGrantIntervalNs(8000, 0, 20000)).toBe(1_000_000_000);
  });

  it('homa_grant_update_sysctl_deps__grant_window_fixed_size', async () => {
    const { hm } = await fixture({ window: 50000 });
    for (const n of [1, 2, 3, 7, 8]) expect(grantWindow(hm, n)).toBe(50000);
  });

  it('homa_grant_update_sysctl_deps__dynamic_windows', async () => {
    const { hm } = await fixture({ window: 0, maxIncoming: 100000 });
    expect([1, 2, 3, 7, 8].map((n) => grantWindow(hm, n))).toEqual([50000, 33333, 25000, 12500, 11111]);
  });
});

