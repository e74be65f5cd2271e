/**
 * Errors a person can act on. A `UserError` is printed as one line (no stack trace) and the
 * process exits with its `exitCode`. Anything else that escapes a command is a bug: it is
 * still printed as one line, with a hint to re-run with XSPOT_DEBUG=1 for the stack.
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = 1,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** Prints `err` the way the CLI reports failures and returns the exit code to use. */
export function reportError(
  err: unknown,
  write: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): number {
  if (err instanceof UserError) {
    write(`error: ${err.message}`);
    return err.exitCode;
  }
  const message = err instanceof Error ? err.message : String(err);
  write(`error: ${message}`);
  if (process.env.XSPOT_DEBUG && err instanceof Error && err.stack) {
    write(err.stack);
  } else {
    write('(set XSPOT_DEBUG=1 to see the stack trace)');
  }
  return 1;
}
