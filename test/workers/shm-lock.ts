/**
 * Worker of the lock concurrency test. Each worker is one core: it increments a shared
 * NON-atomic counter (`x[0] = x[0] + 1` on a plain Int32Array view) `iterations` times under
 * one lock of the table — by lock() on even iterations and by a trylock() loop on odd ones when
 * asked — so the final count is exact only if the lock really excludes.
 */
import { workerData } from 'node:worker_threads';
import { LockTable, type LockTableSpec } from '../../src/shm/lock.js';
import type { LayoutDesc } from '../../src/shm/layout.js';
import { awaitStart, reportDone } from './shm-common.js';

export interface LockWorkerData {
  sab: SharedArrayBuffer;
  desc: LayoutDesc;
  spec: LockTableSpec;
  core: number;
  ctl: Int32Array;
  counter: Int32Array;
  lockId: number;
  iterations: number;
  useTrylock: boolean;
  spinLimit: number;
}

export interface LockWorkerResult { trylockFails: number }

const d = workerData as LockWorkerData;
const locks = new LockTable(d.sab, d.desc, d.spec, d.core, { spinLimit: d.spinLimit, debug: true });
const x = d.counter;
let trylockFails = 0;
awaitStart(d.ctl);
for (let i = 0; i < d.iterations; i++) {
  if (d.useTrylock && (i & 1) === 1) {
    while (!locks.trylock(d.lockId)) trylockFails++;
  } else {
    locks.lock(d.lockId);
  }
  x[0] = x[0]! + 1;
  locks.unlock(d.lockId);
}
const r: LockWorkerResult = { trylockFails };
reportDone(r);
