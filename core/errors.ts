// The one error hierarchy of tripcal, below everything else: the model's errors (bad input, not
// found, a version conflict, configuration) and, as a branch of it, what a remote calendar
// answered (providers/types.ts). Every error a user can cause names the field at fault and what
// was expected, so a tool result or a CLI message can tell them how to fix it.

export type ErrorCode = 'invalid_input' | 'not_found' | 'conflict' | 'config' | 'unavailable' | 'provider' | 'internal';

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

/** A sign-in that cannot go on (a state that is unknown, used or expired; a code refused): the field and what to do. */
export class OAuthError extends TripcalError {
  constructor(field: string, message: string) {
    super('invalid_input', message, field);
    this.name = 'OAuthError';
  }
}
