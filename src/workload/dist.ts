/**
 * Message-length distributions W1–W5, as cp_node samples them (HomaModule util/dist.cc and
 * cp_node.cc). The tables in `data/workloads.json` are exactly the coarsened CDFs that
 * dist_point_gen builds (lengths capped at HOMA_MAX_MESSAGE_LENGTH = 1,000,000, buckets merged,
 * lengths rounded up to the bucket's largest). A draw is a step-function inverse CDF: take u
 * uniform in [0,1) and return the first table length whose cumulative fraction is >= u, with no
 * interpolation; cp_node then clamps the length to [12, 1,000,000] (12 = its message header).
 * The mean that converts `--gbps` into a message rate is dist_point_gen::get_mean(), computed
 * from the table before the 12-byte floor. `--workload N` (an integer) means every message is
 * exactly N bytes. Sampling uses a guide table (the first candidate point for each 1/1024 of
 * [0,1)) and a short forward scan, which returns exactly what a binary search would, in a few ns
 * and with no allocation per draw.
 */

import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/errors.js';

/** HOMA_MAX_MESSAGE_LENGTH: the largest message cp_node sends (longer draws become this). */
export const HOMA_MAX_MESSAGE_LENGTH = 1_000_000;
/** sizeof(cp_node's message_header): the smallest message cp_node sends. */
export const CP_NODE_HEADER_BYTES = 12;
/** Names of the built-in tables (cp_node's `--workload` values other than an integer). */
export const WORKLOAD_NAMES = ['w1', 'w2', 'w3', 'w4', 'w5', 'starve'] as const;
export type WorkloadName = (typeof WORKLOAD_NAMES)[number];

/** Cells of the sampling guide table (a power of two, so k/GUIDE_CELLS is exact). */
const GUIDE_CELLS = 1024;

/** What `sample` needs: a uniform double in [0, 1). `Rng` provides it. */
export interface UniformSource {
  nextFloat(): number;
}

interface WorkloadEntry {
  description: string;
  cp_node_cdf: [number, number][];
  mean_bytes: { cp_node: number };
  max_length_sampled_by_cp_node: number;
  cperf_default_gbps: number | null;
}

interface WorkloadData {
  source: string;
  constants: Record<string, number>;
  workloads: Record<WorkloadName, WorkloadEntry>;
}

let data: WorkloadData | undefined;

/** The project's copy of the workload tables (read once, from src/ or dist/src/). */
export function workloadData(): WorkloadData {
  if (data === undefined) {
    data = JSON.parse(readFileSync(new URL('./data/workloads.json', import.meta.url), 'utf8')) as WorkloadData;
  }
  return data;
}

/** cp_node's clamp applied to every drawn length. */
export function clampLength(bytes: number): number {
  return bytes < CP_NODE_HEADER_BYTES ? CP_NODE_HEADER_BYTES
    : bytes > HOMA_MAX_MESSAGE_LENGTH ? HOMA_MAX_MESSAGE_LENGTH : bytes;
}

/**
 * One length distribution. `lengths`/`cumFrac` are the table points in increasing length,
 * without cp_node's (0, 0) origin point (which only a draw of exactly u = 0 could return);
 * `cumFrac` is non-decreasing and ends at 1.
 */
export class Workload {
  /** sum(length_i * (F_i - F_{i-1})) over the table: cp_node's mean (before the 12-byte floor). */
  readonly meanBytes: number;
  /** Mean of what `sample` returns (after the clamp to [12, 1,000,000]). */
  readonly meanSampledBytes: number;
  /** Median message length as sent (the first point with cumFrac >= 0.5, clamped). */
  readonly medianBytes: number;
  /** Largest length `sample` can return. */
  readonly maxBytes: number;
  /** guide[k] = first point with cumFrac >= k/GUIDE_CELLS: where a draw u in cell k starts scanning. */
  private readonly guide = new Int32Array(GUIDE_CELLS);

  constructor(
    readonly name: string,
    readonly lengths: Int32Array,
    readonly cumFrac: Float64Array,
    readonly description = '',
    /** cperf's default -b for this workload, if it has one. */
    readonly cperfDefaultGbps: number | null = null,
  ) {
    const n = lengths.length;
    if (n === 0 || cumFrac.length !== n) throw new RangeError(`workload ${name}: empty table or column lengths differ`);
    let prevLen = 0;
    let prevFrac = 0;
    let mean = 0;
    let meanSampled = 0;
    for (let i = 0; i < n; i++) {
      const len = lengths[i];
      const f = cumFrac[i];
      if (!(len > prevLen) || !(f >= prevFrac) || f > 1) {
        throw new RangeError(`workload ${name}: point ${i} (${len}, ${f}) breaks the table's order`);
      }
      mean += len * (f - prevFrac);
      meanSampled += clampLength(len) * (f - prevFrac);
      prevLen = len;
      prevFrac = f;
    }
    if (prevFrac !== 1) throw new RangeError(`workload ${name}: the last cumulative fraction is ${prevFrac}, not 1`);
    this.meanBytes = mean;
    this.meanSampledBytes = meanSampled;
    this.medianBytes = clampLength(lengths[this.indexFor(0.5)]);
    this.maxBytes = clampLength(lengths[n - 1]);
    for (let k = 0; k < GUIDE_CELLS; k++) this.guide[k] = this.indexFor(k / GUIDE_CELLS);
  }

  /** Every message exactly `bytes` long (`--workload N`). */
  static fixed(bytes: number): Workload {
    return new Workload(String(bytes), Int32Array.of(bytes), Float64Array.of(1),
      `fixed length: every message is ${bytes} bytes`);
  }

  /** One message length as cp_node draws it: step inverse CDF, then clamp to [12, 1,000,000]. */
  sample(rng: UniformSource): number {
    const u = rng.nextFloat();
    // guide[k] is at or before the answer because k/GUIDE_CELLS <= u; scan forward to it.
    const f = this.cumFrac;
    let i = this.guide[(u * GUIDE_CELLS) | 0];
    while (f[i] < u) i++;
    return clampLength(this.lengths[i]);
  }

  /** Index of the first point whose cumulative fraction is >= u (u in [0, 1]). */
  indexFor(u: number): number {
    const f = this.cumFrac;
    let lo = 0;
    let hi = f.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (f[mid] >= u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Fraction of messages (as sent, after the clamp) strictly shorter than `bytes`. */
  fracUnder(bytes: number): number {
    // Clamped lengths are non-decreasing, so find the last point whose clamped length < bytes.
    let lo = 0;
    let hi = this.lengths.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (clampLength(this.lengths[mid]) < bytes) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? 0 : this.cumFrac[lo - 1];
  }

  /** Fraction of messages (as sent) of at most `bytes` bytes. */
  fracAtMost(bytes: number): number {
    return this.fracUnder(bytes + 1);
  }
}

const ACCEPTED = `w1..w5, starve, or a message length 1..${HOMA_MAX_MESSAGE_LENGTH} bytes`;

/** Builds a table workload from the project's data copy. */
function tableWorkload(name: WorkloadName): Workload {
  const entry = workloadData().workloads[name];
  const points = entry.cp_node_cdf;
  // Skip cp_node's origin point (0, 0).
  const first = points[0][0] === 0 && points[0][1] === 0 ? 1 : 0;
  const n = points.length - first;
  const lengths = new Int32Array(n);
  const cumFrac = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    lengths[i] = points[first + i][0];
    cumFrac[i] = points[first + i][1];
  }
  return new Workload(name, lengths, cumFrac, entry.description, entry.cperf_default_gbps);
}

/**
 * Parses cp_node's `--workload`: w1..w5 or starve (any case), or an integer length. Anything else
 * is a ConfigError (code EINVALIDOPT) naming `--workload`, what is accepted and the value given.
 */
export function parseWorkload(spec: string): Workload {
  const s = String(spec).trim().toLowerCase();
  if ((WORKLOAD_NAMES as readonly string[]).includes(s)) return tableWorkload(s as WorkloadName);
  if (/^[0-9]+$/.test(s)) {
    const bytes = Number(s);
    if (bytes >= 1 && bytes <= HOMA_MAX_MESSAGE_LENGTH) return Workload.fixed(bytes);
  }
  throw new ConfigError('workload', ACCEPTED, spec);
}

/** One row of `homa-emu workloads`. */
export interface WorkloadInfo {
  name: string;
  description: string;
  /** cp_node's mean (what converts Gbps into messages/s). */
  meanBytes: number;
  medianBytes: number;
  /** Share of messages shorter than 1,000 bytes. */
  fracUnder1KB: number;
  maxBytes: number;
  /** cperf's default -b for the workload (null for fixed lengths and starve). */
  cperfDefaultGbps: number | null;
}

/** Rows for `homa-emu workloads` (default: w1..w5); names are parsed like `--workload`. */
export function workloadInfo(names: readonly string[] = ['w1', 'w2', 'w3', 'w4', 'w5']): WorkloadInfo[] {
  return names.map((spec) => {
    const w = parseWorkload(spec);
    return {
      name: w.name,
      description: w.description,
      meanBytes: w.meanBytes,
      medianBytes: w.medianBytes,
      fracUnder1KB: w.fracUnder(1000),
      maxBytes: w.maxBytes,
      cperfDefaultGbps: w.cperfDefaultGbps,
    };
  });
}
