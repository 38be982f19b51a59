import { describe, expect, it } from 'vitest';
import { nextRetryDelay } from '../../src/engine/retry.ts';
import { ConfigError, ConnectionError, DataError, NonRetriableError, RetryAfterError } from '../../src/errors.ts';

const policy = { attempts: 4, delayMs: 1000, backoff: 'exponential' as const, maxDelayMs: 3000 };

describe('retry delays', () => {
  it('doubles from the delay and caps each wait at max_delay', () => {
    const e = new Error('flaky');
    expect([1, 2, 3].map((a) => nextRetryDelay(policy, a, e))).toEqual([1000, 2000, 3000]);
    expect(nextRetryDelay(policy, 4, e)).toBeNull();
    expect(nextRetryDelay({ ...policy, backoff: 'fixed' }, 3, e)).toBe(1000);
  });

  it('does not retry what fails the same way every time', () => {
    expect(nextRetryDelay(policy, 1, new NonRetriableError('no'))).toBeNull();
    expect(nextRetryDelay(policy, 1, new ConfigError({ file: 'f', message: 'bad' }))).toBeNull();
    expect(nextRetryDelay(policy, 1, new DataError({ source: 's', row: 3, message: 'bad row' }))).toBeNull();
    expect(nextRetryDelay(policy, 1, new ConnectionError({ target: 'gs://b', message: 'permission denied', retriable: false }))).toBeNull();
    expect(nextRetryDelay(policy, 1, new ConnectionError({ target: 'pg', message: 'connection reset' }))).toBe(1000);
  });

  it('does not retry a write refused for repeated column names, nor a rename that makes two equal', async () => {
    const { tableFromArrays } = await import('apache-arrow');
    const { renameColumns } = await import('../../src/table/columns.ts');
    const rename = (() => {
      try {
        renameColumns(tableFromArrays({ VendorID: Int32Array.of(1), vendor_id: Int32Array.of(2) }), (n) =>
          n.toLowerCase().replace('_', ''),
        );
      } catch (e) {
        return e;
      }
    })();
    expect(rename).toBeInstanceOf(DataError);
    expect(nextRetryDelay(policy, 1, rename)).toBeNull();
  });

  it('honours RetryAfterError', () => {
    expect(nextRetryDelay(policy, 1, new RetryAfterError('rate limited', 42_000))).toBe(42_000);
  });
});
