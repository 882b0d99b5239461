/**
 * Errors a user can cause. Every one has a code and a single-line message naming the option,
 * what is accepted and the value given; the CLI prints the message alone and exits 2. Anything
 * else that escapes is a bug or a crash (exit 1, with the core that failed).
 */

export class UserError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/** An option with a bad value: `--flag: expected ..., got ...`. */
export class ConfigError extends UserError {
  constructor(readonly option: string, expected: string, got: unknown) {
    super('EINVALIDOPT', `--${option}: expected ${expected}, got ${JSON.stringify(got)}`);
    this.name = 'ConfigError';
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError || (typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string'
    && ['EINVALIDOPT', 'EPOLICY', 'ECONFIGFILE', 'EUSAGE', 'ESIZING'].includes((e as { code: string }).code));
}
