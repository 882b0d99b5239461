/**
 * Message buffer pages (homa_pool.c): every host has `bpagesPerHost` pages of 64 KiB in one
 * shared byte column, handed out by a slab pool of page indices. A message of L bytes holds
 * ceil(L / 64 KiB) pages (at most 16: 1,000,000 bytes) listed in its RPC's page column; byte k
 * of the message is at page[k >> 16] + (k & 0xffff). Both directions use pages: the sender's
 * copy of an outgoing message (the kernel keeps it in skbs; a client keeps its request's pages
 * until the RPC ends, since a RESEND may ask for them after the response started) and the
 * receiver's buffer the app reads. Simplification: the kernel's per-core partial pages, bpage leases and the
 * waiting_for_bufs queue are not emulated; a message that finds too few pages fails (the sender
 * gets ENOMEM; an incoming message's data is dropped and counted, and retransmission retries).
 */
import { BPAGE_BYTES, BPAGE_SHIFT, MAX_BPAGES_PER_MSG } from './layout.js';
import type { Homa, PayloadSource } from './homa.js';
import { M } from './metrics.js';

/** Pages a message of `len` bytes needs. */
export function pagesFor(len: number): number {
  return len <= 0 ? 0 : ((len - 1) >> BPAGE_SHIFT) + 1;
}

/**
 * Allocates the pages of a `len`-byte message into `pages[g * 16 ..]`, whose entries are all -1
 * (a list that holds no message: initHoma fills the lists with -1, freeMsgPages restores it, and
 * an RPC gets at most one message per direction), so the unused ones stay -1. Returns false
 * (nothing held, counted) when the host has too few free pages.
 */
export function allocMsgPages(hm: Homa, pages: Int32Array, g: number, len: number): boolean {
  const base = g * MAX_BPAGES_PER_MSG;
  const n = pagesFor(len);
  for (let i = 0; i < n; i++) {
    const p = hm.pagePool.alloc();
    if (p < 0) {
      for (let j = 0; j < i; j++) { hm.pagePool.free(pages[base + j]!); pages[base + j] = -1; }
      hm.count(M.page_alloc_failures);
      return false;
    }
    pages[base + i] = p;
  }
  return true;
}

/**
 * Returns every page of the message in `pages[g * 16 ..]` to the pool. A message's pages are a
 * prefix of its list (allocMsgPages fills entries 0..n-1 and leaves the rest -1; nothing else
 * writes them), so the scan stops at the first -1.
 */
export function freeMsgPages(hm: Homa, pages: Int32Array, g: number): void {
  const base = g * MAX_BPAGES_PER_MSG;
  for (let i = 0; i < MAX_BPAGES_PER_MSG; i++) {
    const p = pages[base + i]!;
    if (p < 0) return;
    hm.pagePool.free(p);
    pages[base + i] = -1;
  }
}

/** Byte offset in the SAB of message byte `off` (the page must exist). */
export function msgByteAddr(hm: Homa, pages: Int32Array, g: number, off: number): number {
  return hm.pageAddr(pages[g * MAX_BPAGES_PER_MSG + (off >> BPAGE_SHIFT)]!) + (off & (BPAGE_BYTES - 1));
}

/** Copies message bytes [off, off + n) into the SAB at `dst` (may span two pages). */
export function copyFromMsg(hm: Homa, pages: Int32Array, g: number, off: number, n: number, dst: number): void {
  const u8 = hm.u8;
  while (n > 0) {
    const inPage = BPAGE_BYTES - (off & (BPAGE_BYTES - 1));
    const k = n < inPage ? n : inPage;
    const src = msgByteAddr(hm, pages, g, off);
    u8.copyWithin(dst, src, src + k);
    dst += k; off += k; n -= k;
  }
}

/** Copies n bytes from the SAB at `src` into message bytes [off, off + n). */
export function copyToMsg(hm: Homa, pages: Int32Array, g: number, off: number, n: number, src: number): void {
  const u8 = hm.u8;
  while (n > 0) {
    const inPage = BPAGE_BYTES - (off & (BPAGE_BYTES - 1));
    const k = n < inPage ? n : inPage;
    u8.copyWithin(msgByteAddr(hm, pages, g, off), src, src + k);
    src += k; off += k; n -= k;
  }
}

/** Fills message bytes [0, len) from an app's payload source, page by page (the sendmsg copy). */
export function fillMsg(hm: Homa, pages: Int32Array, g: number, len: number, src: PayloadSource): void {
  for (let off = 0; off < len; off += BPAGE_BYTES) {
    const n = len - off < BPAGE_BYTES ? len - off : BPAGE_BYTES;
    src.fill(hm.u8, msgByteAddr(hm, pages, g, off), off, n, g);
  }
}
