// The one error hierarchy of tripcal. Every error a user can cause names the field at fault and
// what was expected, so a tool result or a CLI message can tell them how to fix it.

export type ErrorCode = 'invalid_input' | 'not_found' | 'conflict' | 'config' | 'unavailable' | 'internal';

export class TripcalError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(field ? `${field}: ${message}` : message);
    this.name = 'TripcalError';
  }
}

/** Bad input from a user or a client: the field path and what was wrong with it. */
export class InputError extends TripcalError {
  constructor(field: string, message: string) {
    super('invalid_input', message, field);
    this.name = 'InputError';
  }
}

/** A referenced thing (trip, item, user) does not exist. */
export class NotFoundError extends TripcalError {
  constructor(field: string, message: string) {
    super('not_found', message, field);
    this.name = 'NotFoundError';
  }
}

/** The thing changed under the caller (e.g. an expected version no longer matches). */
export class ConflictError extends TripcalError {
  constructor(field: string, message: string) {
    super('conflict', message, field);
    this.name = 'ConflictError';
  }
}

/** A calendar (or another service tripcal needs) could not answer: what failed and what to do. */
export class UnavailableError extends TripcalError {
  constructor(message: string) {
    super('unavailable', message);
    this.name = 'UnavailableError';
  }
}

/** A configuration file or environment problem; `problems` holds one line per issue. */
export class ConfigError extends TripcalError {
  constructor(readonly problems: string[]) {
    super('config', problems.join('\n'));
    this.name = 'ConfigError';
  }
}

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
