/**
 * Parsing the kernel's `gro_policy` sysctl (homa_offload.c, homa_impl.h; --gro-policy): a bit
 * mask that picks the SoftIRQ steering mechanism (GEN3 > GEN2 > IDLE > NEXT, then SAME_CORE,
 * else Linux RPS) and turns on GRO's two bypasses (whole one-packet messages and grants
 * processed inline on the GRO core when it is not busy). `parseGroPolicy` turns a CLI/config
 * value (a number, hex or decimal text, or a preset name) into a plain object; config
 * resolution (config/policies.ts) does it once and every core keeps the result. Pure parsing,
 * here in config/ so the config validates it; the per-packet decisions that read the flags are
 * in src/policy/gro-policy.ts.
 */

import { ConfigError } from './errors.js';
import type { SteeringName } from './policy-names.js';

/**
 * Bit values. SAME_CORE, FAST_GRANTS and SHORT_BYPASS are given by the reference; GEN2 (0x10)
 * and GEN3 (0x80) follow from its sums HOMA_GRO_NORMAL = 0x72 and CloudLab Gen3 = 0xE2. The
 * reference does not give IDLE and NEXT: 0x04 and 0x08 are the values of HomaModule's
 * homa_impl.h. Bit 0x01 (HOMA_GRO_BYPASS in old versions) is unused in the emulated snapshot
 * and rejected.
 */
export const HOMA_GRO_SAME_CORE = 0x02;
export const HOMA_GRO_IDLE = 0x04;
export const HOMA_GRO_NEXT = 0x08;
export const HOMA_GRO_GEN2 = 0x10;
export const HOMA_GRO_FAST_GRANTS = 0x20;
export const HOMA_GRO_SHORT_BYPASS = 0x40;
export const HOMA_GRO_GEN3 = 0x80;
/** The kernel default: SAME_CORE | GEN2 | FAST_GRANTS | SHORT_BYPASS = 0x72 (114). */
export const HOMA_GRO_NORMAL = HOMA_GRO_SAME_CORE | HOMA_GRO_GEN2 | HOMA_GRO_FAST_GRANTS | HOMA_GRO_SHORT_BYPASS;
/** CloudLab's Gen3 setting: SAME_CORE | FAST_GRANTS | SHORT_BYPASS | GEN3 = 0xE2 (226). */
export const HOMA_GRO_GEN3_PRESET = HOMA_GRO_SAME_CORE | HOMA_GRO_FAST_GRANTS | HOMA_GRO_SHORT_BYPASS | HOMA_GRO_GEN3;
/** Every bit the emulated snapshot knows. */
export const HOMA_GRO_KNOWN_BITS = HOMA_GRO_SAME_CORE | HOMA_GRO_IDLE | HOMA_GRO_NEXT | HOMA_GRO_GEN2
  | HOMA_GRO_FAST_GRANTS | HOMA_GRO_SHORT_BYPASS | HOMA_GRO_GEN3;

/** Preset names accepted by --gro-policy. */
export const GRO_POLICY_PRESETS: Readonly<Record<string, number>> = {
  normal: HOMA_GRO_NORMAL,
  gen2: HOMA_GRO_NORMAL,
  gen3: HOMA_GRO_GEN3_PRESET,
};

export interface GroPolicy {
  /** The bit mask. */
  readonly mask: number;
  /** Steering for multi-packet batches: GEN3 > GEN2 > IDLE > NEXT > SAME_CORE > 'rps-ip' (mask 0: Linux RPS). */
  readonly steering: SteeringName;
  /** SHORT_BYPASS: a DATA packet holding a whole message is processed inline when GRO is not busy. */
  readonly shortBypass: boolean;
  /** FAST_GRANTS: GRANT packets are processed inline when GRO is not busy. */
  readonly fastGrants: boolean;
  /** SAME_CORE: a batch's SoftIRQ target starts as the GRO core, which single-packet batches keep. */
  readonly sameCoreForSingle: boolean;
}

const EXPECTED = `a mask 0..0xff of bits 0x02 SAME_CORE, 0x04 IDLE, 0x08 NEXT, 0x10 GEN2, 0x20 FAST_GRANTS, `
  + `0x40 SHORT_BYPASS, 0x80 GEN3 (e.g. 0x72, 114) or a preset (${Object.keys(GRO_POLICY_PRESETS).join(', ')})`;

/** The steering a mask selects (see `GroPolicy.steering`). */
export function groSteering(mask: number): SteeringName {
  if (mask & HOMA_GRO_GEN3) return 'gen3';
  if (mask & HOMA_GRO_GEN2) return 'gen2';
  if (mask & HOMA_GRO_IDLE) return 'idle';
  if (mask & HOMA_GRO_NEXT) return 'next';
  if (mask & HOMA_GRO_SAME_CORE) return 'same-core';
  // Policy 0: Linux RPS; without TCP hijacking the flow hash of a Homa packet covers the IPs only.
  return 'rps-ip';
}

/**
 * Parses --gro-policy: a number, hex text ("0x72"), decimal text ("114") or a preset
 * ("normal" = 0x72, "gen2" = 0x72, "gen3" = 0xE2; case-insensitive). Anything else, a value
 * outside 0..0xff or a bit the snapshot does not know throws a ConfigError (EINVALIDOPT).
 */
export function parseGroPolicy(value: string | number): GroPolicy {
  let mask: number;
  if (typeof value === 'number') {
    mask = value;
  } else {
    const text = value.trim().toLowerCase();
    const preset = Object.prototype.hasOwnProperty.call(GRO_POLICY_PRESETS, text) ? GRO_POLICY_PRESETS[text] : undefined;
    if (preset !== undefined) mask = preset;
    else if (/^0x[0-9a-f]+$/.test(text)) mask = parseInt(text.slice(2), 16);
    else if (/^[0-9]+$/.test(text)) mask = parseInt(text, 10);
    else throw new ConfigError('gro-policy', EXPECTED, value);
  }
  if (!Number.isInteger(mask) || mask < 0 || mask > 0xff || (mask & ~HOMA_GRO_KNOWN_BITS) !== 0) {
    throw new ConfigError('gro-policy', EXPECTED, value);
  }
  return {
    mask,
    steering: groSteering(mask),
    shortBypass: (mask & HOMA_GRO_SHORT_BYPASS) !== 0,
    fastGrants: (mask & HOMA_GRO_FAST_GRANTS) !== 0,
    sameCoreForSingle: (mask & HOMA_GRO_SAME_CORE) !== 0,
  };
}
