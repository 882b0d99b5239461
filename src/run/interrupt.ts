/**
 * The error a run throws when a signal (SIGINT, SIGTERM) stops it before anything was measured:
 * during start-up (workers still being created or announcing themselves ready) or during the
 * base-RTT probe. The CLI turns it into the shell's exit code for the signal (130, 143) and a
 * line saying that nothing was measured; a run interrupted while measuring returns its result
 * instead, marked interrupted, and the report says what it covers.
 */
export class RunInterrupted extends Error {
  constructor(readonly during: 'start-up' | 'base-RTT probe') {
    super(`interrupted during ${during}: nothing was measured`);
    this.name = 'RunInterrupted';
  }
}
