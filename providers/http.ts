// HTTP pieces every provider shares: how long to wait for an answer, Retry-After, and the
// useful part of a network failure.

export const REQUEST_TIMEOUT_MS = 30_000;

/** Retry-After as milliseconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function retryAfterMs(header: string | null | undefined, now = Date.now()): number | null {
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** The useful part of a fetch failure: ECONNREFUSED, ECONNRESET, a timeout… */
export function networkCause(error: unknown): string {
  const cause = (error as { cause?: { code?: string; errors?: Array<{ code?: string }>; message?: string } }).cause;
  if ((error as Error).name === 'TimeoutError') return `no answer in ${REQUEST_TIMEOUT_MS / 1000} s`;
  return (error as { code?: string }).code ?? cause?.code ?? cause?.errors?.[0]?.code ?? cause?.message ?? (error as Error).message;
}
