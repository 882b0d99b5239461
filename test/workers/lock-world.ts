/**
 * A world for the lock test of virtual time: every core runs one context that, whenever it runs,
 * takes the world's single lock, holds it for `cfg.serviceUsecs` of modelled CPU (charged to its
 * virtual clock) and releases it. With two cores that always want the lock, each must wait the
 * other's hold, in emulated time, on every acquisition; with one core, never.
 */
import { Role, type KernelContext } from '../../src/cpu/context.js';
import { LayoutBuilder } from '../../src/shm/layout.js';
import type { LockTable } from '../../src/shm/lock.js';
import type { CoreEnv, World } from '../../src/cpu/world.js';
import type { VClock } from '../../src/cpu/vsync.js';

class Holder implements KernelContext {
  readonly role = Role.KTHREAD;
  readonly name = 'holder';
  constructor(private readonly vc: VClock, private readonly locks: LockTable, private readonly holdNs: number) {}
  nextNs(now: number): number { return now; }
  hasWork(): boolean { return true; }
  run(): number {
    this.locks.lock(0);
    this.vc.t += this.holdNs;
    this.locks.unlock(0);
    return 1;
  }
}

export const world: World = {
  name: 'lock',
  costModel: true,
  lockClasses: () => ({ classes: ['shared'], counts: [1] }),
  layout: () => new LayoutBuilder().add('unused', 'i32', 16).build(),
  init: () => undefined,
  setupCore(env: CoreEnv) {
    if (env.vc === undefined || !env.vc.virtual) throw new Error('lock world: --clock virtual');
    return { contexts: [new Holder(env.vc, env.locks, env.cfg.serviceUsecs * 1000)], apps: [] };
  },
  collect: () => null,
};
