/**
 * Worker of the doorbell and clock tests. As a sleeper it parks on its doorbell (preparePark,
 * re-check, sleep) and reports whether a ring woke it; as a clock reader it attaches to the
 * shared clock origin and reports one `nowNs()` reading, so the main thread can check that
 * every worker's clock counts from the same instant.
 */
import { workerData } from 'node:worker_threads';
import { Doorbells } from '../../src/shm/doorbell.js';
import { attachClock, nowNs } from '../../src/shm/clock.js';
import { awaitStart, reportDone } from './shm-common.js';

export interface DoorbellWorkerData {
  role: 'sleeper' | 'clock';
  ctl: Int32Array;
  words: Int32Array;
  core: number;
  numCores: number;
  /** Sleeper: ms to sleep at most (long: the test rings it). */
  timeoutMs: number;
}

export interface DoorbellWorkerResult { prepared: boolean; woken: boolean; wakeWord: number; nowNs: number }

const d = workerData as DoorbellWorkerData;
if (d.role === 'clock') {
  attachClock(d.words);
  awaitStart(d.ctl);
  reportDone({ prepared: false, woken: false, wakeWord: 0, nowNs: nowNs() } satisfies DoorbellWorkerResult);
} else {
  const bells = new Doorbells(d.words, d.numCores);
  awaitStart(d.ctl);
  const prepared = bells.preparePark(d.core);
  // Tell the main thread (ctl word 2) that this core announced PARKED, then sleep.
  Atomics.store(d.ctl, 2, 1);
  Atomics.notify(d.ctl, 2);
  const woken = prepared ? bells.sleep(d.core, d.timeoutMs) : false;
  reportDone({ prepared, woken, wakeWord: Atomics.load(d.words, d.core * 16), nowNs: 0 } satisfies DoorbellWorkerResult);
}
