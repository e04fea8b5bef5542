// The one retry helper: rate limits, server errors and network failures are retried with
// exponential backoff and full jitter, honouring Retry-After, within a bounded budget. Past the
// budget the error goes up, and the work stays pending for the next sync.
import { isRetryable, RateLimitedError } from '../../providers/types.js';

export interface RetryOptions {
  attempts: number;
  /** The longest single wait; a Retry-After beyond it is not waited for. */
  maxWaitMs: number;
  baseMs?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  onRetry?: (error: Error, waitMs: number, attempt: number) => void;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function withRetry<T>(fn: () => Promise<T>, options: RetryOptions): Promise<T> {
  const base = options.baseMs ?? 500;
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!isRetryable(error) || attempt >= options.attempts) throw error;
      const told = error instanceof RateLimitedError ? error.retryAfterMs : null;
      const wait = told ?? Math.min(options.maxWaitMs, base * 2 ** (attempt - 1)) * (0.5 + random() / 2);
      if (wait > options.maxWaitMs) throw error;
      options.onRetry?.(error as Error, wait, attempt);
      await (options.sleep ?? sleep)(wait);
    }
  }
}
