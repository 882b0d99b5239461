/**
 * A world for orchestrator tests. Every core runs one kernel context that counts passes; the
 * core whose global index is `cfg.seed % (hosts*cores)` misbehaves as `cfg.workload` says:
 * 'throw' (throws after 50 passes), 'hang' (never returns from its 50th run, so it cannot see
 * the stop signal and only the watchdog can end it), 'setup' (throws while setting up), anything else: behaves.
 */
import { Role, type KernelContext } from '../../src/cpu/context.js';
import { Ctl } from '../../src/cpu/control.js';
import { LayoutBuilder, column } from '../../src/shm/layout.js';
import type { CoreEnv, World } from '../../src/cpu/world.js';

class Counter implements KernelContext {
  readonly role = Role.KTHREAD;
  readonly name = 'counter';
  passes = 0;
  constructor(private readonly bad: string, private readonly ctl: Int32Array | null, private readonly counts: Float64Array, private readonly g: number) {}
  run(): number {
    this.passes++;
    this.counts[this.g] = this.passes;
    if (this.bad === 'throw' && this.passes === 50) throw new Error('deliberate failure in a test world');
    if (this.bad === 'hang' && this.passes === 50) {
      // Never return: the loop can no longer see the stop signal, only the watchdog can end this.
      for (;;) { if (this.ctl !== null && Atomics.load(this.ctl, Ctl.PHASE) === -1) break; }
    }
    return 1;
  }
  hasWork(): boolean { return true; }
}

export const world: World = {
  name: 'faulty',
  lockClasses: () => ({ classes: ['none'], counts: [1] }),
  layout: (cfg) => new LayoutBuilder().add('counts', 'f64', cfg.hosts * cfg.cores).build(),
  init: () => undefined,
  setupCore(env: CoreEnv) {
    const bad = env.globalCore === env.cfg.seed % (env.cfg.hosts * env.cfg.cores) ? env.cfg.workload : 'none';
    if (bad === 'setup') throw new Error('deliberate failure during setup');
    return { contexts: [new Counter(bad, env.ctl, column(env.sab, env.desc, 'counts', 'f64'), env.globalCore)], apps: [] };
  },
  collect(cfg, sab, desc) {
    return Array.from(column(sab, desc, 'counts', 'f64'));
  },
};
