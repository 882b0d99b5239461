/**
 * The one-line progress display of long commands: elapsed / total, phase, and whatever counts
 * the caller supplies (RPCs done, current rate). It rewrites one line of stderr on a TTY and is
 * silent otherwise, so logs and pipes stay clean; HOMA_EMU_PROGRESS=1 prints every update as a
 * line of its own even when stderr is not a TTY (for logs, and for tests that act on a phase).
 */

export class ProgressLine {
  private lastLen = 0;
  readonly enabled: boolean;
  private readonly lines: boolean;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.enabled = stream.isTTY === true;
    this.lines = !this.enabled && process.env['HOMA_EMU_PROGRESS'] === '1';
  }

  update(text: string): void {
    if (this.lines) { this.stream.write(`${text}\n`); return; }
    if (!this.enabled) return;
    const cols = this.stream.columns ?? 100;
    const line = text.length > cols - 1 ? text.slice(0, cols - 1) : text;
    this.stream.write(`\r${line}${' '.repeat(Math.max(0, this.lastLen - line.length))}`);
    this.lastLen = line.length;
  }

  done(): void {
    if (!this.enabled || this.lastLen === 0) return;
    this.stream.write(`\r${' '.repeat(this.lastLen)}\r`);
    this.lastLen = 0;
  }
}

export function phaseName(phase: number): string {
  return ['starting', 'warm-up', 'measuring', 'stopping'][phase] ?? '?';
}
