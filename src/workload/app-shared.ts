/**
 * What every app thread of the workload layer shares (echo's and cp_node's): the byte pattern a
 * client writes into each request so that every response can be verified, cp_node's one-way
 * response length, and how a server burns its service time (in slices, so that NAPI and SoftIRQ
 * on its core get their turn between them, as interrupts preempt a real thread).
 */
import { BPAGE_BYTES, msgInByteAddr, rpcId, type Homa } from '../homa/syscalls.js';

/** cp_node --one-way: servers reply with at most this many bytes. */
export const ONE_WAY_BYTES = 100;

/**
 * A server's service time is real CPU: burn it in slices of at most `sliceNs`, so NAPI and
 * SoftIRQ on the same core get their turn between slices. Under a manual clock (tests) the time
 * does not advance inside a step: then it just yields.
 */
export function burnServiceSlice(hm: Homa, now: number, untilNs: number, sliceNs: number): void {
  if (hm.vc.virtual) {
    // Virtual time: the service is modelled CPU, charged a slice at a time so interrupts preempt it.
    const t = hm.vc.t;
    const e = untilNs < t + sliceNs ? untilNs : t + sliceNs;
    if (e > t) hm.vc.t = e;
    return;
  }
  const end = Math.min(untilNs, now + sliceNs);
  let t = hm.clock();
  while (t < end) {
    const t2 = hm.clock();
    if (t2 === t) break;
    t = t2;
  }
}

/** Byte `off` of the echo pattern of client host `host`, RPC id `id`. */
export function patternByte(host: number, id: number, off: number): number {
  return (Math.imul(off, 31) + (off >>> 8) * 7 + Math.imul(id, 13) + host * 101) & 255;
}

/**
 * Whether the first `len` bytes of client RPC g's response are the echo pattern of (this host,
 * its id): a response is verified byte for byte, a page at a time.
 */
export function matchesPattern(hm: Homa, g: number, len: number): boolean {
  const host = hm.host;
  const id = rpcId(hm, g);
  const u8 = hm.u8;
  for (let off = 0; off < len; off += BPAGE_BYTES) {
    const n = len - off < BPAGE_BYTES ? len - off : BPAGE_BYTES;
    const base = msgInByteAddr(hm, g, off);
    for (let i = 0; i < n; i++) if (u8[base + i] !== patternByte(host, id, off + i)) return false;
  }
  return true;
}
