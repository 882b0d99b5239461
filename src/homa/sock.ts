/**
 * Sockets (homa_sock.c): each host has HOMA_MAX_SOCKETS sockets, each bound to one port. A
 * socket owns its RPC hash tables (client and server buckets, each bucket with its own lock in
 * the lock table), its list of waiting app threads (interests) and its FIFO list of ready RPCs;
 * the socket lock protects the interests and the ready list (and the RPC count). Ports are
 * bound on the main thread before workers start (`sockBind`), so lookups on the data path are a
 * scan of the host's few socket slots without a lock, as the kernel's RCU lookup is lock-free.
 */
import type { EmuConfig } from '../config/config.js';
import { UserError } from '../config/errors.js';
import type { LayoutDesc } from '../shm/layout.js';
import { HOMA_MAX_SOCKETS, homaColumn } from './layout.js';
import type { Homa } from './homa.js';

/** Main thread: binds `port` on `host` (idempotent); returns the host's socket number. */
export function sockBind(cfg: EmuConfig, sab: SharedArrayBuffer, desc: LayoutDesc, host: number, port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UserError('EINVALIDOPT', `homa: a port must be a whole number in [1, 65535], got ${port}`);
  }
  const ports = homaColumn(sab, desc, 'sock.port');
  const base = host * HOMA_MAX_SOCKETS;
  let free = -1;
  for (let s = 0; s < HOMA_MAX_SOCKETS; s++) {
    if (ports[base + s] === port) return s;
    if (ports[base + s] === -1 && free < 0) free = s;
  }
  if (free < 0) {
    throw new UserError('ESIZING', `homa: host ${host} already has ${HOMA_MAX_SOCKETS} bound ports (the limit); cannot bind port ${port}`);
  }
  ports[base + free] = port;
  void cfg;
  return free;
}

/** The global socket index bound to `port` on this host, or -1. */
export function sockLookup(hm: Homa, port: number): number {
  const base = hm.host * HOMA_MAX_SOCKETS;
  const ports = hm.sPort;
  for (let s = 0; s < HOMA_MAX_SOCKETS; s++) if (ports[base + s] === port) return base + s;
  return -1;
}

/**
 * `rpc.readyNext` of an RPC that is not on its socket's ready list (-1 ends the list). The
 * membership lives in this socket-locked column, not in an `rpc.flags` bit: a flags bit would
 * need an atomic read-modify-write (other bits change without the socket lock) at every append
 * and pop, where these are plain stores under the lock the list needs anyway.
 */
export const NOT_READY = -2;

/** Whether RPC g is on its socket's ready list (socket lock held). */
export function readyListed(hm: Homa, g: number): boolean {
  return hm.rReadyNext[g] !== NOT_READY;
}

/** Appends RPC g to the socket's ready list (socket lock held). */
export function readyAppend(hm: Homa, sockG: number, g: number): void {
  hm.rReadyNext[g] = -1;
  const tail = hm.sReadyTail[sockG]!;
  if (tail < 0) hm.sReadyHead[sockG] = g; else hm.rReadyNext[tail] = g;
  hm.sReadyTail[sockG] = g;
}

/** Pops the head of the ready list, or -1 (socket lock held). */
export function readyPop(hm: Homa, sockG: number): number {
  const g = hm.sReadyHead[sockG]!;
  if (g < 0) return -1;
  const next = hm.rReadyNext[g]!;
  hm.sReadyHead[sockG] = next;
  if (next < 0) hm.sReadyTail[sockG] = -1;
  hm.rReadyNext[g] = NOT_READY;
  return g;
}

/** Unlinks RPC g from the ready list if it is on it (socket lock held). */
export function readyRemove(hm: Homa, sockG: number, g: number): void {
  let prev = -1;
  let cur = hm.sReadyHead[sockG]!;
  while (cur >= 0 && cur !== g) { prev = cur; cur = hm.rReadyNext[cur]!; }
  if (cur < 0) return;
  const next = hm.rReadyNext[g]!;
  if (prev < 0) hm.sReadyHead[sockG] = next; else hm.rReadyNext[prev] = next;
  if (hm.sReadyTail[sockG] === g) hm.sReadyTail[sockG] = prev;
  hm.rReadyNext[g] = NOT_READY;
}
