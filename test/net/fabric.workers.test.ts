import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/config.js';
import { initNet, netLayout, readNetStats } from '../../src/net/netdev.js';
import { Nic } from '../../src/net/nic.js';
import { CLOCK_WORDS, initClockOrigin } from '../../src/shm/clock.js';
import { LayoutBuilder, allocate, column, subLayout } from '../../src/shm/layout.js';
import { SlabPool, auditPool, initPool, poolLayout } from '../../src/shm/pool.js';
import { H, HEADER_WORDS } from '../../src/wire/packet.js';

const WORKER = new URL('./workers/net-worker.mjs', import.meta.url);
const COMPILED = new URL('../../dist/src/net/fabric.js', import.meta.url);

let workers: Worker[] = [];
afterEach(async () => {
  await Promise.all(workers.map((w) => w.terminate()));
  workers = [];
});

function start(data: Record<string, unknown>): Promise<Record<string, number | string>> {
  const w = new Worker(WORKER, { workerData: data });
  workers.push(w);
  return new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
    w.once('exit', (code) => { if (code !== 0) reject(new Error(`worker exited with code ${code}`)); });
  });
}

describe('Fabric on real workers', () => {
  it('2 producer workers push 200,000 packets through a fabric worker: nothing lost or duplicated', async () => {
    expect(existsSync(fileURLToPath(COMPILED)), 'build first: npx tsc -p tsconfig.json').toBe(true);
    const PER_HOST = 100_000;
    const PORTS = 16;
    const partial = { hosts: 2, cores: 2, channels: 2, ringSlots: 1 << 17, rss: 'ip-ports', propDelayUsecs: 1, switchQueuePkts: 1 << 20 };
    const cfg = resolveConfig(partial);
    const spec = { slots: 1 << 18, cores: 4, cacheSlots: 64 };
    const desc = new LayoutBuilder()
      .addAll('net', netLayout(cfg))
      .addAll('pool', poolLayout(spec))
      .add('pkt.hdr', 'i32', spec.slots * HEADER_WORDS)
      .add('clock', 'i32', CLOCK_WORDS)
      .add('ctrl', 'i32', 16)
      .build();
    const sab = allocate(desc);
    const net = subLayout(desc, 'net');
    const poolDesc = subLayout(desc, 'pool');
    initNet(cfg, sab, net);
    initPool(sab, poolDesc, spec);
    initClockOrigin(column(sab, desc, 'clock', 'i32'));
    const ctrl = column(sab, desc, 'ctrl', 'i32');

    const common = { sab, desc, partial, spec, count: PER_HOST, ports: PORTS, headerWords: HEADER_WORDS };
    const producers = [0, 1].map((host) => start({ ...common, role: 'producer', host, poolCore: host }));
    const fabricDone = start({ ...common, role: 'fabric', poolCore: 2 });
    Atomics.store(ctrl, 0, 1);
    Atomics.notify(ctrl, 0);
    const results = await Promise.all(producers);
    for (const r of results) expect(r['refused']).toBe(0);
    Atomics.store(ctrl, 1, 1);
    await fabricDone;

    // Everything is in the RX channels now: pop them as the NAPI owners would and check.
    const hdr = column(sab, desc, 'pkt.hdr', 'i32');
    const mainPool = new SlabPool(sab, poolDesc, spec, 3);
    const buf = new Int32Array(4096);
    for (const host of [0, 1]) {
      const nic = new Nic(cfg, sab, net, host, 0, mainPool, hdr, null);
      const seen = new Uint8Array(PER_HOST);
      let got = 0;
      let dups = 0;
      let orderErrors = 0;
      let wrongHeader = 0;
      for (let ch = 0; ch < nic.channels; ch++) {
        const lastByPort = new Int32Array(PORTS).fill(-1);
        for (let n = nic.pollChannel(ch, buf, buf.length); n > 0; n = nic.pollChannel(ch, buf, buf.length)) {
          for (let i = 0; i < n; i++) {
            const b = buf[i]! * HEADER_WORDS;
            if (hdr[b + H.SRC_HOST] !== 1 - host || hdr[b + H.CHANNEL] !== ch) wrongHeader++;
            const seq = hdr[b + H.OFFSET]!;
            if (seen[seq] !== 0) dups++;
            seen[seq] = 1;
            const port = hdr[b + H.SPORT]! - 1000;
            if (seq <= lastByPort[port]!) orderErrors++;
            lastByPort[port] = seq;
            got++;
            mainPool.free(buf[i]!);
          }
        }
      }
      expect(wrongHeader).toBe(0);
      expect(dups).toBe(0);
      expect(orderErrors).toBe(0);
      expect(got).toBe(PER_HOST);
    }
    mainPool.flush();
    const st = readNetStats(cfg, sab, net);
    expect(st.totals.xmitPkts).toBe(2 * PER_HOST);
    expect(st.totals.rcvdPkts).toBe(2 * PER_HOST);
    expect(st.totals.droppedPkts).toBe(0);
    expect(st.totals.balanced).toBe(true);
    const audit = auditPool(sab, poolDesc, spec);
    expect(audit.free).toBe(spec.slots);
    expect(audit.duplicates).toBe(0);
  });
});
