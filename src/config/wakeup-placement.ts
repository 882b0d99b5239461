/**
 * Parsing `--wakeup-placement` (the wake-up placement policy of src/policy/placement.ts): a
 * config value, parsed when the config is resolved so a bad one fails on the main thread with
 * exit code 2, before any worker starts (config/policies.ts keeps the result in cfg.policies).
 * Forms: `stay`, `move:P`, `least-busy`, `idle`; `formatWakeupPlacement` writes the canonical one.
 */
import { ConfigError } from './errors.js';

export const PlacementMode = { STAY: 0, MOVE: 1, LEAST_BUSY: 2, IDLE: 3 } as const;
export type PlacementModeId = (typeof PlacementMode)[keyof typeof PlacementMode];

/** A parsed --wakeup-placement value. */
export interface WakeupPlacement {
  readonly mode: PlacementModeId;
  /** move:P only: probability of moving (0..1); 0 otherwise. */
  readonly moveProb: number;
}

/** What --wakeup-placement accepts (for errors and help). */
export const WAKEUP_PLACEMENT_FORMS = 'stay, move:P with P in [0, 1] (e.g. move:0.5), least-busy, or idle';

/** Parses a --wakeup-placement value; a bad one throws a ConfigError (EINVALIDOPT) naming the option, the forms and the value. */
export function parseWakeupPlacement(text: string): WakeupPlacement {
  const v = typeof text === 'string' ? text.trim() : '';
  if (v === 'stay') return { mode: PlacementMode.STAY, moveProb: 0 };
  if (v === 'least-busy') return { mode: PlacementMode.LEAST_BUSY, moveProb: 0 };
  if (v === 'idle') return { mode: PlacementMode.IDLE, moveProb: 0 };
  if (v.startsWith('move:')) {
    const p = v.slice(5).trim();
    const x = p === '' ? NaN : Number(p);
    if (Number.isFinite(x) && x >= 0 && x <= 1) return { mode: PlacementMode.MOVE, moveProb: x };
  }
  throw new ConfigError('wakeup-placement', WAKEUP_PLACEMENT_FORMS, text);
}

/** The canonical text of a parsed --wakeup-placement (what reports print): `stay`, `move:0.5`, `least-busy`, `idle`. */
export function formatWakeupPlacement(p: WakeupPlacement): string {
  switch (p.mode) {
    case PlacementMode.MOVE: return `move:${p.moveProb}`;
    case PlacementMode.LEAST_BUSY: return 'least-busy';
    case PlacementMode.IDLE: return 'idle';
    default: return 'stay';
  }
}
