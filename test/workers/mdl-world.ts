/**
 * A world for the queueing-theory test of virtual time: core 0 is a Poisson source (arrival rate
 * `cfg.gbps` per emulated microsecond, seeded from `cfg.seed`) that pushes each arrival, stamped
 * with its arrival time, through an SPSC ring to core 1; core 1 serves them in order at a fixed
 * cost of `cfg.serviceUsecs`, charged to its virtual clock. Every arrival whose stamp falls in
 * the measured window adds its wait (start of service - arrival) to the shared results, which
 * `collect` returns as [count, sum of waits ns, sum of squared waits]. With one producer and
 * one consumer this is an M/D/1 queue, whose mean wait is rho / (2 mu (1 - rho)).
 */
import { Role, type KernelContext } from '../../src/cpu/context.js';
import { LayoutBuilder, column, subLayout } from '../../src/shm/layout.js';
import { SpscRing, ringLayout } from '../../src/shm/ring.js';
import { Rng } from '../../src/util/rng.js';
import type { CoreEnv, World } from '../../src/cpu/world.js';
import type { VClock } from '../../src/cpu/vsync.js';

const SLOTS = 1 << 16;

class Source implements KernelContext {
  readonly role = Role.KTHREAD;
  readonly name = 'source';
  private next = 0;
  private seq = 0;
  private readonly rng: Rng;
  constructor(private readonly env: CoreEnv, private readonly ring: SpscRing, private readonly stamps: Float64Array,
    private readonly ratePerNs: number) {
    this.rng = Rng.derive(env.cfg.seed, 1);
    this.next = this.rng.nextExp(ratePerNs);
  }
  nextNs(): number { return this.next; }
  hasWork(): boolean { return true; }
  run(now: number): number {
    if (now < this.next) return 0;
    const i = this.seq++ & (SLOTS - 1);
    this.stamps[i] = this.next;
    if (!this.ring.push(i)) throw new Error('mdl world: ring full');
    this.env.doorbells.ring(1);
    this.next += this.rng.nextExp(this.ratePerNs);
    return 1;
  }
}

class Server implements KernelContext {
  readonly role = Role.SOFTIRQ;
  readonly name = 'server';
  constructor(private readonly vc: VClock, private readonly ring: SpscRing, private readonly stamps: Float64Array,
    private readonly serviceNs: number, private readonly warmupNs: number, private readonly res: Float64Array) {}
  nextNs(): number {
    const i = this.ring.peek();
    return i < 0 ? Infinity : this.stamps[i]!;
  }
  hasWork(): boolean { return this.ring.peek() >= 0; }
  run(now: number): number {
    const i = this.ring.peek();
    if (i < 0 || this.stamps[i]! > now) return 0;
    this.ring.pop();
    const arrival = this.stamps[i]!;
    const start = this.vc.take(arrival);
    if (arrival >= this.warmupNs) {
      const w = start - arrival;
      this.res[0]! += 1;
      this.res[1]! += w;
      this.res[2]! += w * w;
    }
    this.vc.t += this.serviceNs;
    return 1;
  }
}

export const world: World = {
  name: 'mdl',
  costModel: true,
  lockClasses: () => ({ classes: ['none'], counts: [1] }),
  layout: () => new LayoutBuilder().addAll('q', ringLayout(SLOTS, 'spsc')).add('stamps', 'f64', SLOTS).add('res', 'f64', 8).build(),
  init: () => undefined,
  setupCore(env: CoreEnv) {
    if (env.cfg.hosts * env.cfg.cores !== 2 || env.vc === undefined || !env.vc.virtual) throw new Error('mdl world: 1 host x 2 cores, --clock virtual');
    const ring = new SpscRing(env.sab, subLayout(env.desc, 'q'));
    const stamps = column(env.sab, env.desc, 'stamps', 'f64');
    const res = column(env.sab, env.desc, 'res', 'f64');
    const ctx = env.globalCore === 0
      ? new Source(env, ring, stamps, env.cfg.gbps / 1000)
      : new Server(env.vc, ring, stamps, env.cfg.serviceUsecs * 1000, env.cfg.warmupMs * 1e6, res);
    return { contexts: [ctx], apps: [] };
  },
  collect(cfg, sab, desc) {
    return Array.from(column(sab, desc, 'res', 'f64').subarray(0, 3));
  },
};
