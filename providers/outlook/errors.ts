// Graph's answers mapped to the provider errors (reference docs/reference/microsoft-graph-calendar.md
// §3.6, §5, §6, §8): branch on error.code, never on the message.
import { networkCause, retryAfterMs } from '../http.js';
import {
  AuthExpiredError, RemoteConflictError, InvalidError, RemoteNotFoundError, ProviderError, RateLimitedError, TransientError,
} from '../types.js';

export interface GraphErrorLike {
  statusCode?: number;
  code?: string | null;
  message?: string;
  headers?: Headers;
  body?: unknown;
}

/** Graph's answer as a provider error (§8: branch on error.code, never on the message). */
export function graphErrorFor(status: number, code: string | null | undefined, message: string, retryAfter: string | null | undefined, what: string): ProviderError {
  const text = `${what}: ${message || `HTTP ${status}`}${code ? ` (${code})` : ''}`;
  if (status === 401) return new AuthExpiredError(`${text}; Microsoft refused the access token`, status);
  if (status === 403 && /ErrorAccessDenied|Authorization_RequestDenied|AccessDenied/i.test(code ?? '')) {
    return new AuthExpiredError(`${text}; tripcal lacks the Calendars.ReadWrite permission for this mailbox`, status);
  }
  if (status === 429 || ((status === 503 || status === 504) && retryAfter)) return new RateLimitedError(text, retryAfterMs(retryAfter), status);
  if (/ApplicationThrottled|activityLimitReached/i.test(code ?? '')) return new RateLimitedError(text, retryAfterMs(retryAfter), status);
  if (status === 404 || status === 410) return new RemoteNotFoundError(text, status);
  if (status === 412 || (status === 409 && /IrresolvableConflict|resourceModified/i.test(code ?? ''))) return new RemoteConflictError(text, status);
  if (status >= 500 || status === 408) return new TransientError(text, status);
  return new InvalidError(text, status);
}

export function errorFromThrown(error: unknown, what: string): ProviderError {
  if (error instanceof ProviderError) return error;
  const e = error as GraphErrorLike;
  // The SDK turns a fetch failure into GraphError -1 with code = the error's name ("TypeError"): the message says more.
  if (!e.statusCode || e.statusCode < 0) return new TransientError(`${what}: cannot reach Microsoft Graph (${e.code === 'TypeError' && e.message ? e.message : networkCause(error)})`);
  return graphErrorFor(e.statusCode, e.code, e.message ?? '', e.headers?.get?.('retry-after'), what);
}

/** A delta link that no longer works (§3.6): drop it and list everything. */
export function deltaExpired(error: unknown): boolean {
  if (!(error instanceof ProviderError) || error instanceof AuthExpiredError || error instanceof RateLimitedError) return false;
  return error.status === 410 || (error.status !== undefined && error.status >= 400 && error.status < 500 && /syncstate|resync/i.test(error.message));
}
