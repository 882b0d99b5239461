/**
 * The one-line progress display of long commands: elapsed / total, phase, and whatever counts
 * the caller supplies (RPCs done, current rate). It rewrites one line of stderr on a TTY and is
 * silent otherwise, so logs and pipes stay clean.
 */

export class ProgressLine {
  private lastLen = 0;
  readonly enabled: boolean;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.enabled = stream.isTTY === true;
  }

  update(text: string): void {
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
