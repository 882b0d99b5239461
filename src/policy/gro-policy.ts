/**
 * The per-packet decisions of homa_gro_receive that the kernel's `gro_policy` flags drive:
 * `groBusy`, `shouldBypassData` (SHORT_BYPASS) and `shouldBypassGrant` (FAST_GRANTS). The mask
 * itself, its bits and presets and the steering it selects are parsed once, by config
 * resolution (src/config/gro-policy.ts, re-exported here); the NAPI core keeps the parsed
 * `GroPolicy` (cfg.policies.gro).
 */

import type { GroPolicy } from '../config/gro-policy.js';

export {
  GRO_POLICY_PRESETS, HOMA_GRO_FAST_GRANTS, HOMA_GRO_GEN2, HOMA_GRO_GEN3, HOMA_GRO_GEN3_PRESET, HOMA_GRO_IDLE,
  HOMA_GRO_KNOWN_BITS, HOMA_GRO_NEXT, HOMA_GRO_NORMAL, HOMA_GRO_SAME_CORE, HOMA_GRO_SHORT_BYPASS, groSteering,
  parseGroPolicy, type GroPolicy,
} from '../config/gro-policy.js';

/**
 * homa_gro_receive's "busy": GRO on this core returned less than gro_busy_usecs ago. With
 * groBusyNs = 0 (CloudLab's Gen2 setting) the core is never busy.
 */
export function groBusy(now: number, lastGroNs: number, groBusyNs: number): boolean {
  return now - lastGroNs < groBusyNs;
}

/**
 * SHORT_BYPASS: process a DATA packet inline on the GRO core when it carries a whole message
 * (its payload is the whole message length) and the core is not busy. Counted as
 * gro_data_bypasses by the caller.
 */
export function shouldBypassData(policy: GroPolicy, busy: boolean, payloadBytes: number, messageLength: number): boolean {
  return policy.shortBypass && !busy && payloadBytes === messageLength;
}

/** FAST_GRANTS: process a GRANT inline on the GRO core when it is not busy (gro_grant_bypasses). */
export function shouldBypassGrant(policy: GroPolicy, busy: boolean): boolean {
  return policy.fastGrants && !busy;
}
