// Exit codes and how an error is told to the person: light enough for the command line to load
// before it knows which command runs (`tripcal --version` loads nothing else).
import { ConfigError, TripcalError } from '../errors.js';

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Prints an error the way a user can act on it and returns the exit code it deserves. */
export function reportError(error: unknown): number {
  if (error instanceof ConfigError) {
    process.stderr.write(`tripcal: configuration problem${error.problems.length > 1 ? 's' : ''}:\n`);
    for (const p of error.problems) process.stderr.write(`  - ${p}\n`);
    return EXIT.usage;
  }
  if (error instanceof TripcalError) {
    process.stderr.write(`tripcal: ${error.message}\n`);
    return error.code === 'invalid_input' ? EXIT.usage : EXIT.failed;
  }
  process.stderr.write(`tripcal: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  return EXIT.failed;
}
