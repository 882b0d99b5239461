/**
 * The body of the checker worker (see checkPolicyModules in registry.ts): loads one user policy
 * module and checks its shape, away from the main thread, so a module that calls process.exit
 * or loops forever while loading cannot take the CLI with it. Posts `{ ok: true }` or the error.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadPacerModule, loadSteeringModule, loadThreadChoiceModule } from './registry.js';

const { kind, path } = workerData as { kind: 'steering' | 'thread-choice' | 'pacer'; path: string };
const load = kind === 'steering' ? loadSteeringModule : kind === 'thread-choice' ? loadThreadChoiceModule : loadPacerModule;
try {
  await load(path);
  parentPort!.postMessage({ ok: true });
} catch (e) {
  const err = e as { code?: unknown; message?: unknown };
  parentPort!.postMessage({ ok: false, code: typeof err.code === 'string' ? err.code : null, message: String(err.message ?? e) });
}
