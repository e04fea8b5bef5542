// HTTP for the CalDAV provider: one fetch that counts requests, times out, and turns network
// failures into TransientError; and the mapping of HTTP statuses to the provider errors.
import {
  AuthExpiredError, RemoteConflictError, InvalidError, RemoteNotFoundError, ProviderError, RateLimitedError, TransientError,
} from '../types.js';
import { networkCause, REQUEST_TIMEOUT_MS, retryAfterMs } from '../http.js';


/**
 * The provider error for an HTTP status. A 403 on a write is the server refusing that one event
 * (a CalDAV precondition, a size limit, a rights rule), not the account's credentials.
 */
export function errorForStatus(status: number, what: string, retryAfter: string | null = null, write = false): ProviderError {
  const message = `${what}: HTTP ${status}`;
  if (status === 403 && write) return new InvalidError(`${message} (the server refused this event)`, status);
  if (status === 401 || status === 403) return new AuthExpiredError(`${message} (the server refused the username or password)`, status);
  if (status === 404 || status === 410) return new RemoteNotFoundError(message, status);
  if (status === 409 || status === 412) return new RemoteConflictError(message, status);
  if (status === 429) return new RateLimitedError(message, retryAfterMs(retryAfter), status);
  if (status === 503 && retryAfter) return new RateLimitedError(message, retryAfterMs(retryAfter), status);
  if (status >= 500) return new TransientError(message, status);
  return new InvalidError(message, status);
}

export class CountingFetch {
  count = 0;

  readonly fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    this.count += 1;
    try {
      return await fetch(input, { ...init, signal: init?.signal ?? AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    } catch (error) {
      throw new TransientError(`cannot reach ${new URL(String(input instanceof Request ? input.url : input)).origin} (${networkCause(error)})`);
    }
  };
}
