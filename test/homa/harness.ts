/**
 * A single-threaded, deterministic harness for the Homa world: it builds the whole cluster
 * (every host's cores and the fabric) in ONE thread over one SharedArrayBuffer, with a manual
 * clock, and steps every core's contexts and app threads round-robin, advancing the clock by a
 * fixed step per round (a larger one when a round did nothing), until a condition holds or a
 * round limit is hit. Every shared-memory primitive works here because every lock is
 * uncontended; locks and pools run with their debug checks on, and a lock that is found held
 * fails fast instead of waiting (it would be a self-deadlock in one thread).
 */
import { resolveConfig, type EmuConfig } from '../../src/config/config.js';
import { AppState, NUM_ROLES, type CoreAccount, type RoleId } from '../../src/cpu/context.js';
import type { CoreEnv, CoreSetup } from '../../src/cpu/world.js';
import { ManualClock } from '../../src/shm/clock.js';
import { Doorbells } from '../../src/shm/doorbell.js';
import { allocate, type LayoutDesc } from '../../src/shm/layout.js';
import { LockTable, lockTableLayout, type LockTableSpec } from '../../src/shm/lock.js';
import { collectHoma, makeHomaWorld, type HomaCoreSetup } from '../../src/cluster/homa-world.js';
import type { Homa } from '../../src/homa/homa.js';
import type { HomaAppsSpec } from '../../src/workload/echo.js';

class Account implements CoreAccount {
  readonly roleNs = new Float64Array(NUM_ROLES);
  move(fromRole: RoleId, toRole: RoleId, ns: number): void {
    this.roleNs[fromRole]! -= ns;
    this.roleNs[toRole]! += ns;
  }
}

export interface HarnessOptions {
  cfg?: Record<string, unknown>;
  apps: HomaAppsSpec;
  /** Clock step per round (ns, default 500). */
  stepNs?: number;
  /** Clock step of a round in which nothing happened (ns, default 5000). */
  idleStepNs?: number;
}

export class Harness {
  readonly clock = new ManualClock(1000);
  readonly cores: HomaCoreSetup[] = [];
  fabric!: CoreSetup;
  readonly acct = new Account();
  rounds = 0;

  private constructor(readonly cfg: EmuConfig, readonly sab: SharedArrayBuffer, readonly desc: LayoutDesc,
    readonly stepNs: number, readonly idleStepNs: number) {}

  static async create(opts: HarnessOptions): Promise<Harness> {
    const cfg = resolveConfig({
      hosts: 2, cores: 2, ringSlots: 1024, maxRpcsPerHost: 256, bpagesPerHost: 128, packetSlots: 16384, ...opts.cfg,
    });
    const world = makeHomaWorld({ apps: () => opts.apps, recordResults: true });
    const desc = world.layout(cfg);
    const sab = allocate(desc);
    world.init(cfg, sab, desc);
    const h = new Harness(cfg, sab, desc, opts.stepNs ?? 500, opts.idleStepNs ?? 5000);
    const clock = h.clock;
    const lc = world.lockClasses(cfg);
    const total = cfg.hosts * cfg.cores + 1;
    const lockSpec: LockTableSpec = { classes: lc.classes, locksPerClass: lc.counts, cores: total };
    const ldesc = lockTableLayout(lockSpec);
    const lsab = allocate(ldesc);
    const doorbells = new Doorbells(new Int32Array(new SharedArrayBuffer(Doorbells.wordsFor(total) * 4)), total);
    const ctl = new Int32Array(new SharedArrayBuffer(80 * 4));
    const envFor = (host: number, core: number, g: number): CoreEnv => ({
      cfg, sab, desc, globalCore: g, host, core, doorbells, ctl,
      locks: new LockTable(lsab, ldesc, lockSpec, g, { debug: true, maxWaitNs: 5e7, spinLimit: 10 }),
    });
    const worldC = makeHomaWorld({ apps: () => opts.apps, clock: () => clock.now(), recordResults: true });
    for (let host = 0; host < cfg.hosts; host++) {
      for (let core = 0; core < cfg.cores; core++) {
        h.cores.push(await worldC.setupCore(envFor(host, core, host * cfg.cores + core)));
      }
    }
    h.fabric = await worldC.setupFabric!(envFor(0, 0, total - 1));
    return h;
  }

  /** The Homa handle of (host, core). */
  homa(host: number, core = 0): Homa {
    return this.cores[host * this.cfg.cores + core]!.homa;
  }

  /** One round: every core runs its contexts and app threads once, then the fabric; the clock advances. */
  round(): number {
    const now = this.clock.now();
    let work = 0;
    for (const c of this.cores) {
      for (const x of c.contexts) work += x.run(now, this.acct);
      for (const a of c.apps) {
        if (a.state === AppState.BLOCKED && Atomics.load(a.wakeWords, a.wakeIndex) !== 0) {
          Atomics.store(a.wakeWords, a.wakeIndex, 0);
          a.state = AppState.RUNNABLE;
        }
        if (a.state === AppState.RUNNABLE) work += a.step(now, 20_000);
      }
    }
    for (const x of this.fabric.contexts) work += x.run(now, this.acct);
    this.rounds++;
    this.clock.advance(work > 0 ? this.stepNs : this.idleStepNs);
    return work;
  }

  /** Runs rounds until `done()` or `maxRounds`; returns true if `done()` became true. */
  runUntil(done: () => boolean, maxRounds: number): boolean {
    for (let i = 0; i < maxRounds; i++) {
      if (done()) return true;
      this.round();
    }
    return done();
  }

  appsDone(): boolean {
    for (const c of this.cores) for (const a of c.clients) if (a.state !== AppState.DONE) return false;
    return true;
  }

  /** RPC slots in use on every host (a scan of the state column). */
  rpcsInUse(): number {
    const hm = this.homa(0);
    let n = 0;
    for (let g = 0; g < hm.rState.length; g++) if (hm.rState[g] !== 0) n++;
    return n;
  }

  /** Calls every core's and the fabric's onStop (flushes pool caches) and collects the results. */
  stop(): ReturnType<typeof collectHoma> {
    const now = this.clock.now();
    for (const c of this.cores) c.onStop?.(now);
    this.fabric.onStop?.(now);
    return collectHoma(this.cfg, this.sab, this.desc, now);
  }

  clientResults() {
    return this.cores.flatMap((c) => c.clients.flatMap((x) => x.results));
  }
}
