// HTTP for the CalDAV provider: one request function on node:http / node:https (keep-alive,
// counted, timed out, network failures as TransientError, redirects left to the caller), and the
// mapping of HTTP statuses to the provider errors.
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
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

export interface DavAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A response header as one string (the first of repeated ones), or null. */
export function header(answer: DavAnswer, name: string): string | null {
  const value = answer.headers[name.toLowerCase()];
  return (Array.isArray(value) ? value[0] : value) ?? null;
}

export interface DavRequest {
  headers?: Record<string, string>;
  body?: string;
}

/** Sends requests with the account's basic auth and counts them. */
export class DavHttp {
  count = 0;
  private readonly agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

  constructor(private readonly authorization: string) {}

  request(method: string, url: string, options: DavRequest = {}): Promise<DavAnswer> {
    this.count += 1;
    const target = new URL(url);
    const secure = target.protocol === 'https:';
    const body = options.body === undefined ? undefined : Buffer.from(options.body, 'utf8');
    const headers: Record<string, string> = { authorization: this.authorization, ...options.headers };
    if (body) headers['content-length'] = String(body.length);
    return new Promise((resolve, reject) => {
      const req = (secure ? httpsRequest : httpRequest)(target, { method, headers, agent: secure ? this.agents.https : this.agents.http }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', fail);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      });
      function fail(error: unknown) {
        reject(new TransientError(`cannot reach ${target.origin} (${networkCause(error)})`));
      }
      req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(Object.assign(new Error('timed out'), { name: 'TimeoutError' })));
      req.on('error', fail);
      req.end(body);
    });
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}
