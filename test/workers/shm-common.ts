/**
 * Control plane of the shm concurrency tests: the main side spawns worker threads, waits until
 * each has mapped its shared memory and said "ready", releases them all at once through a start
 * word in a SharedArrayBuffer, and collects one "done" message per worker (or the first error).
 * The worker side announces itself and blocks on the start word. Only results cross
 * postMessage; all data moves through the shared structures under test.
 */
import { Worker, parentPort } from 'node:worker_threads';

/** Int32 words of the control block: word 0 is the start flag. */
export const CTL_WORDS = 16;
const START = 0;

export function newControl(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(CTL_WORDS * 4));
}

/** Worker side: say "ready", then block until the main thread sets the start flag. */
export function awaitStart(ctl: Int32Array): void {
  parentPort!.postMessage({ type: 'ready' });
  while (Atomics.load(ctl, START) === 0) Atomics.wait(ctl, START, 0, 100);
}

/** Worker side: report the result (plain data) and finish. */
export function reportDone(result: unknown): void {
  parentPort!.postMessage({ type: 'done', result });
}

/** Worker side: back off a little when a ring is full/empty (leave the CPU to the other side). */
export function backoff(ctl: Int32Array, spins: number): void {
  if ((spins & 63) === 63) Atomics.wait(ctl, CTL_WORDS - 1, 0, 0.05);
}

interface Pending {
  worker: Worker;
  ready: Promise<void>;
  done: Promise<unknown>;
}

/** Main side: a group of workers started together; always `terminate()` it in a finally. */
export class WorkerGroup {
  private readonly pending: Pending[] = [];

  spawn(url: URL, workerData: unknown): void {
    const worker = new Worker(url, { workerData });
    let onReady!: () => void;
    const ready = new Promise<void>((res) => { onReady = res; });
    const done = new Promise<unknown>((resolve, reject) => {
      worker.on('message', (m: { type: string; result?: unknown }) => {
        if (m.type === 'ready') onReady();
        else if (m.type === 'done') resolve(m.result);
      });
      worker.on('error', reject);
      worker.on('exit', (code) => reject(new Error(`worker exited with code ${code} before reporting`)));
    });
    // A worker that fails before "ready" must not leave run() waiting for it.
    const readyOrFail = Promise.race([ready, done.then(() => undefined)]);
    done.catch(() => undefined);
    this.pending.push({ worker, ready: readyOrFail, done });
  }

  /** Waits until every worker is ready, starts them all, returns their results in spawn order. */
  async run(ctl: Int32Array): Promise<unknown[]> {
    await Promise.all(this.pending.map((p) => p.ready));
    Atomics.store(ctl, START, 1);
    Atomics.notify(ctl, START);
    return Promise.all(this.pending.map((p) => p.done));
  }

  async terminate(): Promise<void> {
    await Promise.all(this.pending.map((p) => p.worker.terminate()));
    this.pending.length = 0;
  }
}
