/**
 * The one place where a run's raw times become emulated time. Every output that shows a time
 * (homa_metrics cycles, cperf files, plots, the JSON) takes emulated nanoseconds and gets them
 * from here. With --clock wall the runtime's clocks are wall clocks and every emulated duration is
 * stretched `dilation` times, so emulated ns = raw ns / dilation; with --clock virtual (the
 * default) raw ns are already emulated and `rawNsPerEmulatedNs` is 1.
 * Cycle counts (HomaModule's `*_cycles`) are emulated ns at a stated clock rate in kHz.
 */

/** How raw (runtime clock) ns map to emulated ns. */
export interface TimeBase {
  /** Raw ns per emulated ns (the dilation while the runtime runs on wall clocks). */
  readonly rawNsPerEmulatedNs: number;
}

/** The time base of a run: 1 on virtual clocks (raw ns are emulated), the dilation on wall clocks. */
export function timeBaseOf(cfg: { readonly dilation: number; readonly clock?: string }): TimeBase {
  return { rawNsPerEmulatedNs: cfg.clock === 'wall' ? cfg.dilation : 1 };
}

/** Emulated ns of a raw-clock duration. */
export function toEmulatedNs(rawNs: number, tb: TimeBase): number {
  return rawNs / tb.rawNsPerEmulatedNs;
}

/** Cycles of a core clocked at `cpuKhz` in `emulatedNs` (rounded down, never negative). */
export function nsToCycles(emulatedNs: number, cpuKhz: number): number {
  return Math.max(0, Math.floor((emulatedNs * cpuKhz) / 1e6));
}

/** Emulated ns of `cycles` at `cpuKhz`. */
export function cyclesToNs(cycles: number, cpuKhz: number): number {
  return (cycles * 1e6) / cpuKhz;
}
