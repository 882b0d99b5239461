/**
 * SoftIRQ steering (homa_offload.c: homa_gro_complete, homa_gro_gen2, homa_gro_gen3): which
 * core of a host runs SoftIRQ for a batch that GRO collected on a NAPI core. The kernel makes
 * this choice per batch and enforces it through its RPS/RFS hack; here the NAPI core calls a
 * `SteeringPolicy` and pushes the batch into the chosen core's backlog ring. Built-ins: the
 * deprecated `same-core`, `next` and `idle`, the default `gen2` (first of the next 4 cores with
 * no SoftIRQ backlog and no recent GRO, else rotate), `gen3` (first static candidate with no
 * recent app activity, else candidate 0), and Linux's default RPS (`rps-ip`, `rps-ports`: the
 * flow hash picks a core). Hosts with fewer than 5 cores: candidate lists wrap modulo the
 * core count exactly like the kernel's arithmetic, so a candidate may repeat or be the GRO core
 * itself (on 4 cores, this+4 is this core), and no policy ever returns a core that does not exist.
 * Counters (Gen2 rotations, Gen3 hand-offs) live in a `SteeringStats` owned by each policy
 * instance; create one instance per NAPI core, so the counters are that core's (plain writes).
 */

import { UserError } from '../config/errors.js';
import { GEN3_CANDIDATES, type OffloadState } from './offload.js';
import type { SteeringPolicy } from './types.js';
import type { SteeringName } from '../config/policy-names.js';

export type { SteeringPolicy } from './types.js';

/** The kernel's CORES_TO_CHECK: cores after the GRO core examined by Gen2 and IDLE. */
export const CORES_TO_CHECK = 4;

export { STEERING_NAMES, isSteeringName, type SteeringName } from '../config/policy-names.js';

/** Counters of one NAPI core's steering decisions (written only by that core). */
export class SteeringStats {
  /** Gen2: batches for which every candidate was busy, so the rotation picked the core. */
  gen2Rotations = 0;
  /** Gen3: batches steered (Homa metric gen3_handoffs). */
  gen3Handoffs = 0;
  /** Gen3: batches steered to a candidate other than candidates[0] (gen3_alt_handoffs). */
  gen3AltHandoffs = 0;

  reset(): void {
    this.gen2Rotations = 0;
    this.gen3Handoffs = 0;
    this.gen3AltHandoffs = 0;
  }
}

/** A built-in policy: a `SteeringPolicy` with the counters it keeps. */
export interface BuiltinSteeringPolicy extends SteeringPolicy {
  readonly name: SteeringName;
  readonly stats: SteeringStats;
}

/**
 * Linux's default RPS choice over all `numCores` cores (get_rps_cpu with one map of every
 * core): core = reciprocal_scale(hash, numCores) = (hash * numCores) >> 32, with `hash` taken
 * as unsigned 32-bit. A hash of 0 means "no hash" to Linux: the packet stays on `groCore`.
 */
export function rpsCore(hash: number, numCores: number, groCore: number): number {
  const h = hash >>> 0;
  if (h === 0) return groCore;
  return Math.floor((h * numCores) / 4294967296);
}

/** SAME_CORE: SoftIRQ runs on the GRO core. */
class SameCoreSteering implements BuiltinSteeringPolicy {
  readonly name = 'same-core' as const;
  constructor(readonly stats: SteeringStats) {}
  chooseSoftirqCore(groCore: number): number {
    return groCore;
  }
}

/** NEXT (deprecated): the core after the GRO core, wrapping. */
class NextSteering implements BuiltinSteeringPolicy {
  readonly name = 'next' as const;
  constructor(readonly stats: SteeringStats) {}
  chooseSoftirqCore(groCore: number, _b: number, _h: number, _now: number, st: OffloadState): number {
    return groCore + 1 < st.numCores ? groCore + 1 : 0;
  }
}

/** IDLE (deprecated): of the next CORES_TO_CHECK cores, the one with the oldest last_active (first on ties). */
class IdleSteering implements BuiltinSteeringPolicy {
  readonly name = 'idle' as const;
  constructor(readonly stats: SteeringStats) {}
  chooseSoftirqCore(groCore: number, _b: number, _h: number, _now: number, st: OffloadState): number {
    const n = st.numCores;
    let candidate = groCore;
    let best = groCore;
    let bestNs = Infinity;
    for (let i = 0; i < CORES_TO_CHECK; i++) {
      candidate = candidate + 1 < n ? candidate + 1 : 0;
      const t = st.lastActiveNs[candidate]!;
      if (t < bestNs) {
        bestNs = t;
        best = candidate;
      }
    }
    return best;
  }
}

/**
 * GEN2: examine groCore+1 .. groCore+4 (wrapping); take the first whose softirq_backlog is not
 * > 0 and whose last_gro + busy <= now. If none qualifies, rotate this core's softirq_offset
 * (offset % 4 + 1) and take groCore + offset. Either way, count the batch in the chosen core's
 * backlog (the chosen core's SoftIRQ decrements it).
 */
class Gen2Steering implements BuiltinSteeringPolicy {
  readonly name = 'gen2' as const;
  constructor(readonly stats: SteeringStats) {}
  chooseSoftirqCore(groCore: number, _b: number, _h: number, now: number, st: OffloadState, busyNs: number): number {
    const n = st.numCores;
    let candidate = groCore;
    let chosen = -1;
    for (let i = 0; i < CORES_TO_CHECK; i++) {
      candidate = candidate + 1 < n ? candidate + 1 : 0;
      if (st.backlog(candidate) > 0) continue;
      if (st.lastGroNs[candidate]! + busyNs > now) continue;
      chosen = candidate;
      break;
    }
    if (chosen < 0) {
      const offset = (st.softirqOffset[groCore]! % CORES_TO_CHECK) + 1;
      st.softirqOffset[groCore] = offset;
      chosen = (groCore + offset) % n;
      this.stats.gen2Rotations++;
    }
    st.addBacklog(chosen);
    return chosen;
  }
}

/**
 * GEN3: walk this GRO core's static candidates (gen3_softirq_cores, -1 ends the list); take
 * the first with last_app_active < now - busy, else candidates[0]. Mark the target active
 * (last_active = now) so thread choice avoids it. An empty list (not produced by initOffload)
 * keeps the batch on the GRO core.
 */
class Gen3Steering implements BuiltinSteeringPolicy {
  readonly name = 'gen3' as const;
  constructor(readonly stats: SteeringStats) {}
  chooseSoftirqCore(groCore: number, _b: number, _h: number, now: number, st: OffloadState, busyNs: number): number {
    const first = st.gen3Candidate(groCore, 0);
    if (first < 0) return groCore;
    const busySince = now - busyNs;
    let chosen = first;
    for (let i = 0; i < GEN3_CANDIDATES; i++) {
      const candidate = st.gen3Candidate(groCore, i);
      if (candidate < 0) break;
      if (st.lastAppActiveNs[candidate]! < busySince) {
        chosen = candidate;
        break;
      }
    }
    st.lastActiveNs[chosen] = now;
    this.stats.gen3Handoffs++;
    if (chosen !== first) this.stats.gen3AltHandoffs++;
    return chosen;
  }
}

/** Policy 0, Linux RPS: the flow hash picks a core. Two names, one mechanism; the caller passes the matching hash. */
class RpsSteering implements BuiltinSteeringPolicy {
  readonly rpsHash: 'ip' | 'ip-ports';
  constructor(readonly name: 'rps-ip' | 'rps-ports', readonly stats: SteeringStats) {
    this.rpsHash = name === 'rps-ip' ? 'ip' : 'ip-ports';
  }
  chooseSoftirqCore(groCore: number, _b: number, hash: number, _now: number, st: OffloadState): number {
    return rpsCore(hash, st.numCores, groCore);
  }
}

/**
 * A new instance of built-in policy `name` (one per NAPI core). `stats` receives its counters;
 * by default it gets a fresh `SteeringStats`.
 */
export function createSteeringPolicy(name: SteeringName, stats: SteeringStats = new SteeringStats()): BuiltinSteeringPolicy {
  switch (name) {
    case 'same-core': return new SameCoreSteering(stats);
    case 'next': return new NextSteering(stats);
    case 'idle': return new IdleSteering(stats);
    case 'gen2': return new Gen2Steering(stats);
    case 'gen3': return new Gen3Steering(stats);
    case 'rps-ip':
    case 'rps-ports': return new RpsSteering(name, stats);
    default: throw new Error(`steering: no built-in policy '${String(name)}'`);
  }
}

/**
 * The NAPI core's whole decision for one batch, as the kernel makes it: Linux calls
 * homa_gro_complete (so the policy) only for batches of more than one packet; a single-packet
 * batch keeps the target GRO gave it: the GRO core when SAME_CORE is set (`sameCoreForSingle`),
 * else Linux RPS on `hash`. The answer is checked, so a user policy that returns a core that
 * does not exist fails with a coded error (EPOLICY) naming it.
 */
export function steerBatch(policy: SteeringPolicy, sameCoreForSingle: boolean, groCore: number, batchPkts: number,
  hash: number, now: number, st: OffloadState, busyNs: number): number {
  if (batchPkts <= 1) return sameCoreForSingle ? groCore : rpsCore(hash, st.numCores, groCore);
  const core = policy.chooseSoftirqCore(groCore, batchPkts, hash, now, st, busyNs);
  if (!Number.isInteger(core) || core < 0 || core >= st.numCores) {
    throw new UserError('EPOLICY', `steering policy '${policy.name}': chose core ${String(core)} for a batch from core ${groCore}; `
      + `expected a core 0..${st.numCores - 1}`);
  }
  return core;
}
