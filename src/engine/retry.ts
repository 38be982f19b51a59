import { CancelledError, ConfigError, ConnectionError, DataError, NonRetriableError, NotFoundError, RetryAfterError } from '../errors.ts';
import type { RetryPolicy } from '../project/model.ts';

/**
 * The wait before attempt `attempt + 1`, or null when no attempt is left or
 * the error says not to retry. Exponential backoff doubles from `delayMs` and
 * is capped per wait at `maxDelayMs` (Mage caps the *total* delay, so long
 * retry chains stop early without saying why).
 */
export function nextRetryDelay(policy: RetryPolicy, attempt: number, error: unknown): number | null {
  if (attempt >= policy.attempts) return null;
  if (error instanceof NonRetriableError || error instanceof CancelledError) return null;
  // Bad configuration and malformed data fail the same way every time: retrying only delays the message.
  if (error instanceof ConfigError || error instanceof DataError || error instanceof NotFoundError) return null;
  if (error instanceof ConnectionError && !error.retriable) return null;
  if (error instanceof RetryAfterError) return error.retryAfterMs;
  // Timeouts and failed tests are retried like any other failure (Mage does the same for tests).
  const base = policy.backoff === 'exponential' ? policy.delayMs * 2 ** (attempt - 1) : policy.delayMs;
  return Math.min(base, policy.maxDelayMs);
}

/** Resolves after `ms`, or rejects with CancelledError when `signal` aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new CancelledError('cancelled'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new CancelledError('cancelled'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
