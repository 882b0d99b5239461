/**
 * The validated configuration of one emulation. `resolveConfig` takes a partial object (from
 * `--config FILE`, CLI flags, or library callers), fills kernel defaults from the option table,
 * checks every value against its range (and the forms of structured strings such as
 * --unsched-cutoffs), resolves the policy choices once into `cfg.policies` (config/policies.ts:
 * --gro-policy, the steering in force, --thread-choice, --pacer, --wakeup-placement), and returns
 * a frozen `EmuConfig`. Everything else in homa-emu (sizing of shared memory, workers, policies,
 * reports) is derived from this one object; nothing downstream parses a policy option again.
 */
import { ConfigError } from './errors.js';
import { OPTIONS, OPTION_BY_KEY, type IdleMode, type OptionSpec } from './options.js';
import { resolvePolicies, type PolicyChoices } from './policies.js';
import type { WaitMode } from './policy-names.js';
import { loadCostProfile } from './cost-profile.js';
import { parseStalls } from './stalls.js';

/** Plain decimal notation (optional sign, digits, fraction, exponent): no hex, octal, binary, Infinity or blanks. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Every option's value (the option table's keys). */
export interface EmuOptions {
  hosts: number; cores: number; channels: number; coreLayout: 'default' | 'gen3' | 'gen3-alt'; gen3SoftirqCores: string;
  pacerCore: number; timerCore: number;
  idleMode: IdleMode; idleSpinUsecs: number; parkTimeoutUsecs: number; appSliceUsecs: number;
  stolenThresholdUsecs: number; cpuKhz: number; ringSlots: number;
  ttEvents: number; ttWindowUs: number; ttTrigger: 'end' | 'slowest-short';
  clock: 'virtual' | 'wall'; costProfile: string; costScale: number; syncWindowNs: number; deterministic: boolean; maxWallS: number;
  durationMs: number; warmupMs: number; dilation: number; seed: number; watchdogMs: number;
  linkMbps: number; mtu: number; propDelayUsecs: number; rss: 'ip' | 'ip-ports'; lossRate: number;
  switchQueuePkts: number; packetSlots: number;
  unschedBytes: number; window: number; maxIncoming: number; maxOvercommit: number;
  grantFifoFraction: number; fifoGrantIncrement: number; numPriorities: number; unschedCutoffs: string;
  maxNicEstBacklogUsecs: number; deferMinBytes: number; pacerFifoFraction: number; maxGsoSize: number;
  maxGroSkbs: number; groPolicy: string; busyUsecs: number; groBusyUsecs: number; pollUsecs: number;
  napiBudget: number; tickUsecs: number; resendTicks: number; resendInterval: number; timeoutTicks: number;
  requestAckTicks: number; reapLimit: number; deadBuffsLimit: number; flags: number;
  maxRpcsPerHost: number; bpagesPerHost: number;
  steering: string; threadChoice: string; waiterQueue: 'lifo' | 'fifo';
  waitMode: WaitMode; pacer: string; throttleInsert: 'front' | 'back' | 'heap';
  sockLockOnArrival: 'twice' | 'once'; wakeupPlacement: string;
  workload: string; gbps: number; clientMax: number; ports: number; portReceivers: number;
  serverPorts: number; portThreads: number; oneWay: boolean; serviceUsecs: number; roles: 'both' | 'split' | 'incast';
  baseRttUsecs: number;
  stall: string;
}

/** The resolved configuration: every option, and the policy choices derived from them once. */
export interface EmuConfig extends EmuOptions {
  /** Derived by `resolveConfig` from the policy options (never an input: a `policies` key in a partial is ignored). */
  readonly policies: PolicyChoices;
}

export type PartialConfig = { [K in keyof EmuOptions]?: EmuOptions[K] | string };

/** Key of the derived field; `resolveConfig` recomputes it, so a resolved config can be spread into a partial. */
const DERIVED_KEY = 'policies';

function describe(o: OptionSpec): string {
  switch (o.kind) {
    case 'int': return `a whole number in [${o.min}, ${o.max}]${o.pow2 ? ' that is a power of two' : ''}`;
    case 'number': return `a number in [${o.min}, ${o.max}]${o.unit ? ` ${o.unit}` : ''}`;
    case 'enum': return `one of ${o.values!.join(', ')}`;
    case 'bool': return 'true or false';
    case 'string': return 'a string';
  }
}

/** Converts one raw value (a string from the CLI, or a JSON value) for option `o`. */
export function coerceOption(o: OptionSpec, raw: unknown): number | string | boolean {
  switch (o.kind) {
    case 'int':
    case 'number': {
      if (typeof raw === 'string' && !DECIMAL.test(raw.trim())) throw new ConfigError(o.flag, `${describe(o)} in decimal notation`, raw);
      const v = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw) : NaN;
      // '1e-400' parses to 0: a value written as non-zero must not silently become 0 (for --gbps, closed loop).
      if (v === 0 && typeof raw === 'string' && /[1-9]/.test(raw.trim().split(/[eE]/)[0]!)) {
        throw new ConfigError(o.flag, `${describe(o)} (a non-zero value this small underflows to 0)`, raw);
      }
      if (!Number.isFinite(v) || (o.kind === 'int' && !Number.isInteger(v)) || v < o.min! || v > o.max!
        || (o.pow2 === true && (v & (v - 1)) !== 0)) {
        throw new ConfigError(o.flag, describe(o), raw);
      }
      return v;
    }
    case 'enum': {
      if (typeof raw !== 'string' || !o.values!.includes(raw)) throw new ConfigError(o.flag, describe(o), raw);
      return raw;
    }
    case 'bool': {
      if (raw === true || raw === 'true' || raw === '1' || raw === '') return true;
      if (raw === false || raw === 'false' || raw === '0') return false;
      throw new ConfigError(o.flag, describe(o), raw);
    }
    case 'string': {
      if (typeof raw !== 'string') throw new ConfigError(o.flag, describe(o), raw);
      return raw;
    }
  }
}

/** The option table's defaults (options only; `resolveConfig()` adds the policy choices). */
function defaultOptions(): Record<string, unknown> {
  const c: Record<string, unknown> = {};
  for (const o of OPTIONS) c[o.key] = o.def;
  return c;
}

/** The default configuration (every option at its default, policies resolved), frozen. */
export function defaultConfig(): EmuConfig {
  return resolveConfig();
}

/** The option values of `cfg` without the derived fields (what a --config file holds; the JSON report's `config`). */
export function optionValues(cfg: EmuConfig): EmuOptions {
  const out: Record<string, unknown> = {};
  for (const o of OPTIONS) out[o.key] = (cfg as unknown as Record<string, unknown>)[o.key];
  return out as unknown as EmuOptions;
}

/**
 * Fills defaults and validates. Unknown keys are errors (a typo must not be silently ignored).
 * Cross-option checks (sizing limits) are done by `sizeWorld`.
 */
export function resolveConfig(partial: Record<string, unknown> = {}): EmuConfig {
  const c = defaultOptions();
  for (const [k, v] of Object.entries(partial)) {
    if (v === undefined || k === DERIVED_KEY) continue;
    const o = OPTION_BY_KEY.get(k);
    if (o === undefined) {
      throw new ConfigError(k, `a known option (see 'homa-emu run --help')`, k);
    }
    c[k] = coerceOption(o, v);
  }
  if (c['clock'] === 'virtual') {
    for (const o of OPTIONS) if (o.virtualDef !== undefined && partial[o.key] === undefined) c[o.key] = o.virtualDef;
  }
  const opts = c as unknown as EmuOptions;
  checkCutoffs(opts);
  const cfg: EmuConfig = { ...opts, policies: resolvePolicies(opts) };
  if (cfg.clock === 'virtual' && cfg.dilation !== 1) {
    throw new ConfigError('dilation', '1 with --clock virtual (dilation stretches wall time; use --clock wall)', cfg.dilation);
  }
  if (cfg.clock === 'virtual') loadCostProfile(cfg.costProfile);
  // Parsed again by every core worker: a bad spec must fail here, on the main thread, with exit 2.
  parseStalls(cfg.stall, cfg.hosts, cfg.cores);
  return Object.freeze(cfg);
}

/** Parses `unschedCutoffs` into 8 numbers (P0..P7). */
export function parseCutoffs(s: string): number[] {
  const parts = s.split(',').map((x) => Number(x.trim()));
  if (parts.length !== 8 || parts.some((x) => !Number.isInteger(x) || x < 0)) {
    throw new ConfigError('unsched-cutoffs', '8 comma-separated whole numbers >= 0 (P0..P7)', s);
  }
  return parts;
}

function checkCutoffs(cfg: EmuOptions): void {
  parseCutoffs(cfg.unschedCutoffs);
}

/** An option's default under `clock` (see `OptionSpec.virtualDef`). */
export function defaultOf(o: OptionSpec, clock: string): number | string | boolean {
  return clock === 'virtual' && o.virtualDef !== undefined ? o.virtualDef : o.def;
}

/** Options whose value differs from the default (for report headers). */
export function nonDefaults(cfg: EmuConfig): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  for (const o of OPTIONS) {
    const v = (cfg as unknown as Record<string, unknown>)[o.key];
    if (v !== defaultOf(o, cfg.clock)) out.push([o.flag, v]);
  }
  return out;
}

/** Wall-clock ns of an emulated duration in µs (time dilation stretches every emulated duration). */
export function usToWallNs(cfg: EmuConfig, usecs: number): number {
  return usecs * 1000 * cfg.dilation;
}
