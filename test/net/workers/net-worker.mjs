/**
 * Worker for test/net/fabric.workers.test.ts (plain ESM over the compiled sources in dist/, so
 * it needs `npm run build` first). Role 'producer': host `host`'s only transmitting core, sends
 * `count` sequence-numbered packets to the other host through its Nic, waiting (never dropping)
 * while the pool is empty or the TX ring is full. Role 'fabric': runs the fabric on the shared
 * clock until told to stop and nothing is left in flight, then stops it. Both wait on a shared
 * start flag and report over postMessage at the end (control plane only).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { resolveConfig } from '../../../dist/src/config/config.js';
import { Fabric } from '../../../dist/src/net/fabric.js';
import { Nic } from '../../../dist/src/net/nic.js';
import { attachClock, nowNs } from '../../../dist/src/shm/clock.js';
import { column, subLayout } from '../../../dist/src/shm/layout.js';
import { SlabPool } from '../../../dist/src/shm/pool.js';
import { H, HEADER_WORDS } from '../../../dist/src/wire/packet.js';

const { role, sab, desc, partial, spec, poolCore, host, count, ports, headerWords } = workerData;
if (headerWords !== HEADER_WORDS) {
  throw new Error(`dist/ is stale: HEADER_WORDS is ${HEADER_WORDS} there, ${headerWords} in src/ (run npx tsc -p tsconfig.json)`);
}
const CTRL_START = 0;
const CTRL_STOP = 1;

const cfg = resolveConfig(partial);
const ctrl = column(sab, desc, 'ctrl', 'i32');
attachClock(column(sab, desc, 'clock', 'i32'));
const net = subLayout(desc, 'net');
const hdr = column(sab, desc, 'pkt.hdr', 'i32');
const pool = new SlabPool(sab, subLayout(desc, 'pool'), spec, poolCore);
const nap = new Int32Array(new SharedArrayBuffer(4));

while (Atomics.load(ctrl, CTRL_START) === 0) Atomics.wait(ctrl, CTRL_START, 0, 100);

if (role === 'producer') {
  const nic = new Nic(cfg, sab, net, host, 0, pool, hdr, null);
  const cap = nic.txCapacity();
  let refused = 0;
  let poolWaits = 0;
  for (let i = 0; i < count; i++) {
    let slot = pool.alloc();
    while (slot < 0) { poolWaits++; Atomics.wait(nap, 0, 0, 1); slot = pool.alloc(); }
    const b = slot * HEADER_WORDS;
    hdr[b + H.SRC_HOST] = host;
    hdr[b + H.DST_HOST] = 1 - host;
    hdr[b + H.PRIORITY] = 0;
    hdr[b + H.WIRE_BYTES] = 100;
    hdr[b + H.SPORT] = 1000 + (i % ports);
    hdr[b + H.DPORT] = 2000;
    hdr[b + H.OFFSET] = i;
    // This core is the ring's only producer, so room seen here is still there at the push.
    while (nic.txBacklog() >= cap) Atomics.wait(nap, 0, 0, 1);
    if (!nic.xmit(slot, nowNs())) refused++;
  }
  pool.flush();
  parentPort.postMessage({ role, host, refused, poolWaits });
} else {
  const fabric = new Fabric(cfg, sab, net, pool, hdr, null);
  let passes = 0;
  for (;;) {
    const stopping = Atomics.load(ctrl, CTRL_STOP) !== 0;
    fabric.run(nowNs());
    passes++;
    if (stopping && !fabric.hasWork()) break;
  }
  fabric.stop(nowNs());
  parentPort.postMessage({ role, passes });
}
