/**
 * The world of the `sync` benchmark: every core is always busy. Each unit of work is a fixed
 * loop of arithmetic (about 0.5 us of real time on this machine; `cfg.serviceUsecs` of virtual
 * time is charged for it), so the figure that matters is how many units per wall second the
 * runtime sustains while keeping every core within the window of the slowest. Units per core
 * land in the shared `units` column.
 */
import { Role, type KernelContext } from '../../src/cpu/context.js';
import { LayoutBuilder, column } from '../../src/shm/layout.js';
import type { CoreEnv, World } from '../../src/cpu/world.js';
import type { VClock } from '../../src/cpu/vsync.js';

/** Iterations of the work loop (about 0.5 us). */
export const WORK_ITERS = 400;

/** The unit of work itself (also timed alone, on the main thread, as the baseline). */
export function work(seed: number): number {
  let x = seed | 1;
  for (let i = 0; i < WORK_ITERS; i++) x = (Math.imul(x, 1103515245) + 12345) | 0;
  return x;
}

class Busy implements KernelContext {
  readonly role = Role.KTHREAD;
  readonly name = 'busy';
  private acc = 0;
  constructor(private readonly vc: VClock, private readonly units: Float64Array, private readonly g: number, private readonly costNs: number) {}
  nextNs(now: number): number { return now; }
  hasWork(): boolean { return true; }
  run(): number {
    this.acc ^= work(this.acc + this.g);
    this.vc.t += this.costNs;
    this.units[this.g]! += 1;
    return 1;
  }
}

export const world: World = {
  name: 'busy',
  costModel: true,
  lockClasses: () => ({ classes: ['none'], counts: [1] }),
  layout: (cfg) => new LayoutBuilder().add('units', 'f64', cfg.hosts * cfg.cores).build(),
  init: () => undefined,
  setupCore(env: CoreEnv) {
    if (env.vc === undefined || !env.vc.virtual) throw new Error('busy world: --clock virtual');
    return { contexts: [new Busy(env.vc, column(env.sab, env.desc, 'units', 'f64'), env.globalCore, env.cfg.serviceUsecs * 1000)], apps: [] };
  },
  collect(cfg, sab, desc) {
    return Array.from(column(sab, desc, 'units', 'f64'));
  },
};
