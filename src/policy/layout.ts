/**
 * Where things run on one host's cores: which core owns each NIC RX channel (and so runs
 * NAPI/GRO for it), the Gen3 layout that CloudLab's `config` script sets up (a quarter of the
 * cores do NAPI, each with three SoftIRQ candidates no other group uses, so GRO and SoftIRQ
 * never share a core), and which cores host the pacer and timer kernel threads. The answers
 * are plain objects computed once by the orchestrator; `gen3SoftirqCores` feeds `initOffload`.
 * Bad values throw a ConfigError (EINVALIDOPT) naming the option, the range and the value.
 */

import { ConfigError } from '../config/errors.js';
import { defaultGen3Candidate } from './offload.js';

/** Most RX channels a host may have (the --channels option's range). */
export const MAX_CHANNELS = 64;

export const CORE_LAYOUTS = ['default', 'gen3', 'gen3-alt'] as const;
export type CoreLayoutKind = (typeof CORE_LAYOUTS)[number];

export interface CoreLayoutOptions {
  /** Cores of the host (>= 1). */
  readonly cores: number;
  /** NIC RX channels; 0 or absent = the layout's default (one per core, or one per Gen3 group). */
  readonly channels?: number;
  /** 'default': channel c on core c % cores; 'gen3' / 'gen3-alt': CloudLab's Gen3 layouts. */
  readonly layout?: CoreLayoutKind;
  /** Core of the pacer thread (default: the last core). */
  readonly pacerCore?: number;
  /** Core of the timer thread (default: the last core). */
  readonly timerCore?: number;
}

export interface Gen3Layout {
  /** Cores that run NAPI/GRO, ascending (one Gen3 group each). */
  readonly napiCores: number[];
  /** SoftIRQ candidates of each group, in napiCores order (1..3 cores, never a NAPI core unless cores = 1). */
  readonly softirqCandidates: number[][];
  /** Gen3 candidate list of every core (index = core), for `initOffload`; cores outside the groups keep the default. */
  readonly gen3SoftirqCores: number[][];
}

export interface CoreLayout {
  readonly cores: number;
  readonly layout: CoreLayoutKind;
  readonly channels: number;
  /** channelOwners[c] = the core that runs NAPI for RX channel c. */
  readonly channelOwners: number[];
  /** Distinct channel owners, ascending. */
  readonly napiCores: number[];
  /** Gen3 candidate list of every core (index = core). */
  readonly gen3SoftirqCores: number[][];
  readonly pacerCore: number;
  readonly timerCore: number;
}

function checkCores(cores: number): void {
  if (!Number.isInteger(cores) || cores < 1) throw new ConfigError('cores', 'an integer >= 1', cores);
}

function checkChannels(channels: number): void {
  if (!Number.isInteger(channels) || channels < 0 || channels > MAX_CHANNELS) {
    throw new ConfigError('channels', `an integer 0..${MAX_CHANNELS} (0 = default)`, channels);
  }
}

/** Default ownership: `channels` RX channels (0 = one per core), channel c owned by core c % cores. */
export function rxChannelOwners(cores: number, channels = 0): number[] {
  checkCores(cores);
  checkChannels(channels);
  const n = channels === 0 ? Math.min(cores, MAX_CHANNELS) : channels;
  const owners: number[] = [];
  for (let c = 0; c < n; c++) owners.push(c % cores);
  return owners;
}

/**
 * CloudLab's Gen3 layout for a host of N cores. 'gen3': K = N/4 groups; group i does NAPI on
 * core 2i with SoftIRQ candidates {2i+1, N/2+2i, N/2+2i+1}; e.g. 16 cores: 0 -> {1,8,9},
 * 2 -> {3,10,11}, 4 -> {5,12,13}, 6 -> {7,14,15}. 'gen3-alt': K = N/2 groups, core 2i with the
 * single candidate 2i+1. For N not a multiple of 4 (or 2), K and N/2 are rounded down and the
 * leftover cores run only app threads. Small hosts get the closest layout: at least one group
 * (K >= 1); candidates that fall outside the host, repeat, or are NAPI cores are dropped; so
 * 4 cores -> 0 -> {1,2,3}; 3 cores -> 0 -> {1,2}; 2 cores -> 0 -> {1}; 1 core -> 0 -> {0} (GRO
 * and SoftIRQ share the only core).
 */
export function gen3Layout(cores: number, variant: 'gen3' | 'gen3-alt' = 'gen3'): Gen3Layout {
  checkCores(cores);
  const half = Math.floor(cores / 2);
  const groups = Math.max(1, variant === 'gen3' ? Math.floor(cores / 4) : half);
  const napiCores: number[] = [];
  for (let i = 0; i < groups; i++) napiCores.push(2 * i);
  const softirqCandidates: number[][] = [];
  for (let i = 0; i < groups; i++) {
    const raw = variant === 'gen3' ? [2 * i + 1, half + 2 * i, half + 2 * i + 1] : [2 * i + 1];
    const list: number[] = [];
    for (const c of raw) {
      if (c < cores && !list.includes(c) && !napiCores.includes(c)) list.push(c);
    }
    if (list.length === 0) list.push(2 * i);
    softirqCandidates.push(list);
  }
  const gen3SoftirqCores: number[][] = [];
  for (let c = 0; c < cores; c++) {
    const g = napiCores.indexOf(c);
    gen3SoftirqCores.push(g >= 0 ? softirqCandidates[g]! : [defaultGen3Candidate(c, cores)]);
  }
  return { napiCores, softirqCandidates, gen3SoftirqCores };
}

/** Core of a kernel thread: `value` if given (0..cores-1), else the last core. */
export function kernelThreadCore(option: 'pacer-core' | 'timer-core', cores: number, value?: number): number {
  checkCores(cores);
  if (value === undefined) return cores - 1;
  if (!Number.isInteger(value) || value < 0 || value >= cores) {
    throw new ConfigError(option, `a core 0..${cores - 1}`, value);
  }
  return value;
}

/**
 * The whole layout of one host. With 'default', channel c is owned by core c % cores. With a
 * Gen3 layout, the default channel count is the number of groups and channel c is owned by
 * NAPI core napiCores[c % groups]; an explicit `channels` keeps that mapping.
 */
export function hostCoreLayout(opts: CoreLayoutOptions): CoreLayout {
  const { cores } = opts;
  checkCores(cores);
  const channelsOpt = opts.channels ?? 0;
  checkChannels(channelsOpt);
  const kind = opts.layout ?? 'default';
  if (!(CORE_LAYOUTS as readonly string[]).includes(kind)) {
    throw new ConfigError('core-layout', `one of ${CORE_LAYOUTS.join(', ')}`, kind);
  }
  let channelOwners: number[];
  let gen3SoftirqCores: number[][];
  if (kind === 'default') {
    channelOwners = rxChannelOwners(cores, channelsOpt);
    gen3SoftirqCores = [];
    for (let c = 0; c < cores; c++) gen3SoftirqCores.push([defaultGen3Candidate(c, cores)]);
  } else {
    const g = gen3Layout(cores, kind);
    const n = channelsOpt === 0 ? g.napiCores.length : channelsOpt;
    channelOwners = [];
    for (let c = 0; c < n; c++) channelOwners.push(g.napiCores[c % g.napiCores.length]!);
    gen3SoftirqCores = g.gen3SoftirqCores;
  }
  const napiCores = [...new Set(channelOwners)].sort((a, b) => a - b);
  return {
    cores,
    layout: kind,
    channels: channelOwners.length,
    channelOwners,
    napiCores,
    gen3SoftirqCores,
    pacerCore: kernelThreadCore('pacer-core', cores, opts.pacerCore),
    timerCore: kernelThreadCore('timer-core', cores, opts.timerCore),
  };
}
