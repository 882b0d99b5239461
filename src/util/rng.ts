/**
 * Seeded pseudo-random numbers for everything a run draws at random (message lengths, Poisson
 * gaps, destinations). cp_node shares one wall-clock-seeded std::mt19937 between all its
 * threads, so its runs cannot be repeated; here every (host, port) stream is derived from the
 * run's `--seed`, so a run is reproducible and streams never share state across worker threads.
 * The generator is xoshiro128** (Blackman and Vigna) over four uint32 words in a typed array:
 * integer-only arithmetic (`Math.imul`, shifts), so the sequence is the same on every platform,
 * and no allocation per draw. Seeds and stream ids are hashed into the 128-bit state with a
 * murmur3-style finalizer on four independent lanes.
 */

const TWO_POW_32 = 4294967296;
/** 2^-53: scales a 53-bit integer into [0, 1). */
const TWO_POW_MINUS_53 = 1 / 9007199254740992;

/** Initial values of the four hashing lanes (arbitrary odd constants). */
const LANE_INIT_0 = 0x243f6a88;
const LANE_INIT_1 = 0x85a308d3;
const LANE_INIT_2 = 0x13198a2e;
const LANE_INIT_3 = 0x03707344;
const GOLDEN_32 = 0x9e3779b9;
/** Outputs discarded after seeding, so nearby seeds have no visible relation at the start. */
const WARMUP_DRAWS = 8;

/** murmur3's 32-bit finalizer: a bijection on uint32 with full avalanche. */
function fmix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Mixes one key word into a lane; `salt` makes the four lanes different functions. */
function absorb(lane: number, word: number, salt: number): number {
  return fmix32((lane ^ Math.imul((word + salt) | 0, GOLDEN_32)) + salt);
}

/** Low and high 32-bit halves of a non-negative or negative safe integer, as key words. */
function pushWords(key: number[], value: number, what: string): void {
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`Rng: ${what} must be a safe integer, got ${value}`);
  }
  key.push(value >>> 0, Math.floor(value / TWO_POW_32) >>> 0);
}

export class Rng {
  /** xoshiro128** state s0..s3 (never all zero). */
  private readonly s = new Uint32Array(4);

  /** A stream for `seed` (any safe integer; 0 is fine). */
  constructor(seed: number) {
    const key: number[] = [];
    pushWords(key, seed, 'seed');
    this.seedFromKey(key);
  }

  /**
   * An independent stream for one user of the run seed, e.g. `Rng.derive(seed, hostId, portId)`
   * for a client port's Poisson gaps. Different id lists give unrelated streams; the same list
   * always gives the same stream. Call it at set-up (it allocates), not per packet.
   */
  static derive(seed: number, ...ids: number[]): Rng {
    const rng = new Rng(0);
    const key: number[] = [];
    pushWords(key, seed, 'seed');
    for (let i = 0; i < ids.length; i++) pushWords(key, ids[i], 'stream id');
    rng.seedFromKey(key);
    return rng;
  }

  /** A generator with an exact xoshiro128** state (for reference vectors in tests). */
  static fromState(s0: number, s1: number, s2: number, s3: number): Rng {
    const rng = new Rng(0);
    rng.s[0] = s0;
    rng.s[1] = s1;
    rng.s[2] = s2;
    rng.s[3] = s3;
    if ((s0 | s1 | s2 | s3) === 0) throw new RangeError('Rng.fromState: the state must not be all zero');
    return rng;
  }

  /** Next uniform uint32 in [0, 2^32). */
  nextU32(): number {
    const s = this.s;
    const s0 = s[0];
    const s1 = s[1];
    const s2 = s[2];
    const s3 = s[3];
    // result = rotl(s1 * 5, 7) * 9
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = s1 << 9;
    const n2 = s2 ^ s0;
    const n3 = s3 ^ s1;
    s[1] = s1 ^ n2;
    s[0] = s0 ^ n3;
    s[2] = n2 ^ t;
    s[3] = (n3 << 11) | (n3 >>> 21);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits (two draws). */
  nextFloat(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) * TWO_POW_MINUS_53;
  }

  /**
   * Exponential variate with the given rate (mean 1/rate, in the reciprocal of the rate's
   * unit). Rate 0 gives +Infinity, as std::exponential_distribution(0) does in cp_node.
   */
  nextExp(rate: number): number {
    if (rate === 0) return Infinity;
    // 1 - u lies in (0, 1], so the logarithm is finite.
    return -Math.log(1 - this.nextFloat()) / rate;
  }

  /** Uniform integer in [0, n) for an integer 1 <= n <= 2^32, without modulo bias. */
  nextBelow(n: number): number {
    if (!(n >= 1 && n <= TWO_POW_32) || Math.floor(n) !== n) {
      throw new RangeError(`Rng.nextBelow: n must be an integer in 1..2^32, got ${n}`);
    }
    // Largest multiple of n not above 2^32: draws at or above it are rejected.
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    let u = this.nextU32();
    while (u >= limit) u = this.nextU32();
    return u % n;
  }

  private seedFromKey(key: number[]): void {
    let l0 = LANE_INIT_0;
    let l1 = LANE_INIT_1;
    let l2 = LANE_INIT_2;
    let l3 = LANE_INIT_3;
    for (let i = 0; i < key.length; i++) {
      const w = key[i];
      l0 = absorb(l0, w, 0x1b873593);
      l1 = absorb(l1, w, 0x7fb5d329);
      l2 = absorb(l2, w, 0x5bd1e995);
      l3 = absorb(l3, w, 0x27d4eb2f);
    }
    // The key length is absorbed last, so derive(s) and derive(s, 0) differ.
    const len = key.length;
    this.s[0] = absorb(l0, len, 0x68e31da4);
    this.s[1] = absorb(l1, len, 0x165667b1);
    this.s[2] = absorb(l2, len, 0x61c88647);
    this.s[3] = absorb(l3, len, 0x3c6ef372);
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
    for (let i = 0; i < WARMUP_DRAWS; i++) this.nextU32();
  }
}
