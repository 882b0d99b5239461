/**
 * Injected core stalls (`--stall`). Homa's notes saw cores vanish for 10–12 ms; a stall makes
 * one core (or every core) do nothing for `ms` every `every` ms, so its NAPI, SoftIRQ and app
 * work wait exactly as they would behind a real hiccup. Stall time is charged to its own role,
 * separate from stolen time (which is the host OS not running the worker).
 * The `--stall` syntax and its parser are in src/config/stalls.ts.
 */
import type { StallSpec } from '../config/stalls.js';

export { parseStalls, type StallSpec } from '../config/stalls.js';

/** The stalls that apply to one core, as a schedule the core loop checks once per pass. */
export class StallSchedule {
  private readonly starts: Float64Array;
  private readonly durations: Float64Array;
  private readonly periods: Float64Array;

  constructor(stalls: readonly StallSpec[], globalCore: number, originNs: number, dilation: number) {
    const mine = stalls.filter((s) => s.globalCore === -1 || s.globalCore === globalCore);
    this.starts = new Float64Array(mine.map((s) => originNs + s.offsetMs * 1e6 * dilation));
    this.durations = new Float64Array(mine.map((s) => s.durationMs * 1e6 * dilation));
    this.periods = new Float64Array(mine.map((s) => s.everyMs * 1e6 * dilation));
  }

  get active(): boolean {
    return this.starts.length > 0;
  }

  /** Start of the next stall (Infinity if none): virtual time treats it as an event. */
  nextStartNs(): number {
    let t = Infinity;
    for (let i = 0; i < this.starts.length; i++) if (this.starts[i]! < t) t = this.starts[i]!;
    return t;
  }

  /** If a stall is due at `now`, returns its duration in ns and schedules the next; else 0. */
  due(now: number): number {
    for (let i = 0; i < this.starts.length; i++) {
      if (now >= this.starts[i]!) {
        // Skip periods missed entirely (e.g. while the worker was descheduled).
        while (this.starts[i]! + this.periods[i]! <= now) this.starts[i]! += this.periods[i]!;
        this.starts[i]! += this.periods[i]!;
        return this.durations[i]!;
      }
    }
    return 0;
  }
}
