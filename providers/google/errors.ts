// Google's answers mapped to the provider errors (reference: docs/reference/google-calendar-v3.md §1, §3, §9).
// Calendar errors are `{error: {code, message, errors: [{domain, reason, message}]}}`; the OAuth
// token endpoint answers RFC 6749 §5.2 `{error: "invalid_grant", error_description}`.
import { networkCause, retryAfterMs } from '../http.js';
import {
  AuthExpiredError, RemoteConflictError, InvalidError, RemoteNotFoundError, ProviderError, RateLimitedError, TransientError,
} from '../types.js';

interface CalendarErrorBody {
  error?: { code?: number; message?: string; errors?: Array<{ domain?: string; reason?: string; message?: string }> } | string;
  error_description?: string;
}

/** 403 reasons that mean "slow down", not "you may not" (§9: rateLimitExceeded may come as 403 or 429). */
const RATE_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'quotaExceeded']);

export function reasonOf(body: unknown): string | undefined {
  const error = (body as CalendarErrorBody | undefined)?.error;
  return typeof error === 'object' ? error?.errors?.[0]?.reason : undefined;
}

/** A thrown ProviderError for a Calendar API answer that was not a success. */
export function errorForAnswer(status: number, body: unknown, retryAfter: string | null | undefined, what: string): ProviderError {
  const parsed = body as CalendarErrorBody | undefined;
  if (typeof parsed?.error === 'string') return oauthError(status, parsed.error, parsed.error_description);
  const reason = reasonOf(body);
  const detail = (typeof parsed?.error === 'object' && parsed.error?.message) || `HTTP ${status}`;
  const message = `${what}: ${detail}${reason ? ` (${reason})` : ''}`;
  if (status === 401) return new AuthExpiredError(`${message}; Google refused the access token`, status);
  if ((status === 403 && reason && RATE_REASONS.has(reason)) || status === 429) return new RateLimitedError(message, retryAfterMs(retryAfter), status);
  // The token lacks a scope this needs (unticked at consent, or the account's calendar changed): reconnect.
  if (status === 403 && (reason === 'insufficientPermissions' || /ACCESS_TOKEN_SCOPE_INSUFFICIENT|insufficient authentication scopes/i.test(detail))) {
    return new AuthExpiredError(`${message}; Google did not grant tripcal the access this needs`, status);
  }
  if (status === 403) return new InvalidError(message, status);
  if (status === 404 || status === 410) return new RemoteNotFoundError(message, status);
  if (status === 409 || status === 412) return new RemoteConflictError(message, status);
  if (status === 503 && retryAfter) return new RateLimitedError(message, retryAfterMs(retryAfter), status);
  if (status >= 500 || status === 408) return new TransientError(message, status);
  return new InvalidError(message, status);
}

/** The token endpoint refused: a dead refresh token or bad client credentials need a person. */
export function oauthError(status: number, code: string, description?: string): ProviderError {
  if (code === 'invalid_grant') {
    return new AuthExpiredError(`Google refused the stored authorization (invalid_grant: ${description ?? 'token expired or revoked'})`, status);
  }
  if (code === 'invalid_client' || code === 'unauthorized_client') {
    return new AuthExpiredError(`Google refused the OAuth client (${code}); check google.client_id and google.client_secret`, status);
  }
  if (status >= 500) return new TransientError(`Google's token endpoint failed (${code})`, status);
  return new AuthExpiredError(`Google's token endpoint refused the request (${code}${description ? `: ${description}` : ''})`, status);
}

/** Anything googleapis / gaxios / google-auth-library threw, as a ProviderError. */
export function errorFromThrown(error: unknown, what: string): ProviderError {
  if (error instanceof ProviderError) return error;
  const e = error as { status?: number; response?: { status?: number; data?: unknown; headers?: unknown }; message?: string };
  const status = e.response?.status ?? e.status;
  if (!status) return new TransientError(`${what}: cannot reach Google (${networkCause(error)})`);
  return errorForAnswer(status, e.response?.data, headerOf(e.response?.headers, 'retry-after'), what);
}

function headerOf(headers: unknown, name: string): string | null {
  if (!headers) return null;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name);
  const value = (headers as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(value) ? value[0] ?? null : value ?? null;
}
