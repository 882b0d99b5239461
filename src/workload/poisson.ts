/**
 * cp_node's open-loop request schedule, one per client port. Each port sends at
 * gbps*1e9/8 / (mean * ports) messages/s (mean = cp_node's table mean), so the host as a whole
 * offers `--gbps` of request payload. The sender waits until the clock reaches `nextStartNs`
 * (and the outstanding-RPC cap allows, which the caller checks), sends, records the lag
 * (now - nextStartNs), and adds an exponential gap to the *scheduled* time, not to `now`: a
 * port that falls behind sends back to back until it catches up, and the lag shows how far
 * behind it is. Rate 0 (`--gbps 0`) is closed loop: always due, no lag. `now` is passed in, so
 * tests drive the schedule with a manual clock. "Lag due to overload" is cp_node's per-second
 * overload signal: the increase of the summed per-port lag over an interval, per elapsed time
 * and per port.
 */

import type { Rng } from '../util/rng.js';

const NS_PER_SEC = 1e9;

/** Messages/s for one client port: gbps*1e9/8 / (meanBytes * ports). `gbps` 0 gives 0. */
export function portRate(gbps: number, meanBytes: number, ports: number): number {
  if (!(gbps >= 0) || !(meanBytes > 0) || !(ports >= 1)) {
    throw new RangeError(`portRate: need gbps >= 0, meanBytes > 0, ports >= 1; got ${gbps}, ${meanBytes}, ${ports}`);
  }
  return (gbps * 1e9 / 8) / (meanBytes * ports);
}

export class PoissonSchedule {
  /** Scheduled start of the next request (ns); advances by Exp gaps, never jumps to `now`. */
  nextStartNs: number;
  /** Lag of the most recent start: start time minus its scheduled time (ns). */
  lagNs = 0;
  /** Largest lag seen. */
  maxLagNs = 0;
  /** Requests started. */
  startedCount = 0;
  /** True when ratePerSec is 0: closed loop, only the outstanding-RPC cap gates requests. */
  readonly closedLoop: boolean;

  constructor(readonly ratePerSec: number, private readonly rng: Rng, startNs: number) {
    if (!(ratePerSec >= 0) || ratePerSec === Infinity) {
      throw new RangeError(`PoissonSchedule: ratePerSec must be finite and >= 0, got ${ratePerSec}`);
    }
    this.closedLoop = ratePerSec === 0;
    this.nextStartNs = startNs;
  }

  /** Mean gap between scheduled starts (ns); Infinity in closed loop. */
  get meanGapNs(): number {
    return this.closedLoop ? Infinity : NS_PER_SEC / this.ratePerSec;
  }

  /** True if a request may start at `now` (the time gate; the caller also checks the cap). */
  due(now: number): boolean {
    return this.closedLoop || now >= this.nextStartNs;
  }

  /**
   * A request actually started at `now`: records lag = now - scheduled time and schedules the
   * next request one Exp(rate) gap after the scheduled (not the actual) time.
   */
  started(now: number): void {
    this.startedCount++;
    if (this.closedLoop) return;
    const lag = now - this.nextStartNs;
    this.lagNs = lag;
    if (lag > this.maxLagNs) this.maxLagNs = lag;
    this.nextStartNs += this.rng.nextExp(this.ratePerSec) * NS_PER_SEC;
  }
}

/**
 * cp_node's "Lag due to overload" for one stats interval: (sum over ports of the latest lag now
 * minus the same sum at the previous report) / elapsed / ports. A fraction (1 = the ports fell
 * behind by the whole interval); cp_node prints it when it is at least 0.01. May be negative.
 */
export function overloadLagFraction(lagSumNs: number, lastLagSumNs: number, elapsedNs: number, ports: number): number {
  if (!(elapsedNs > 0) || !(ports >= 1)) return 0;
  return (lagSumNs - lastLagSumNs) / elapsedNs / ports;
}

/** cp_node's threshold for printing the overload lag. */
export const OVERLOAD_LAG_REPORT_FRACTION = 0.01;
