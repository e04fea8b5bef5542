// The one error hierarchy of tripcal lives in core/errors.ts (providers' errors are a branch of
// it); here is how any error, ours or not, is described to a person.
export { ConfigError, ConflictError, InputError, NotFoundError, TripcalError, UnavailableError, type ErrorCode } from '../core/errors.js';
import { TripcalError, type ErrorCode } from '../core/errors.js';

export function describeError(error: unknown): { code: ErrorCode; message: string; field?: string } {
  if (error instanceof TripcalError) return { code: error.code, message: error.message, field: error.field };
  const sqlite = (error as { code?: unknown } | null)?.code;
  if (typeof sqlite === 'string' && /^SQLITE_(CORRUPT|NOTADB)/.test(sqlite)) {
    // Found while running, not at start-up: the file was damaged under a running process.
    return { code: 'config', message: `the database is damaged (${sqlite}); nothing was changed. Stop tripcal and run \`tripcal doctor\`, then restore a backup` };
  }
  if (sqlite === 'SQLITE_FULL') return { code: 'config', message: 'the disk is full; nothing was changed. Free some space and try again' };
  return { code: 'internal', message: error instanceof Error ? error.message : String(error) };
}
