/**
 * Connection resets the run store rides out. Cloud Run live-migrates job
 * tasks during maintenance and their outbound VPC connections (Cloud SQL
 * over private IP) break; a server restart or failover does the same. The
 * statement in flight fails, the pool drops that client, and a retry on a
 * fresh connection succeeds — so a run is never left half-recorded.
 */

/** SQLSTATEs of a connection the server ended (class 08, admin/crash shutdown, not accepting yet). */
const LOST_SQLSTATES = new Set(['08000', '08003', '08006', '08001', '08004', '57P01', '57P02', '57P03']);
const LOST_NODE_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);
const LOST_MESSAGES =
  /Connection terminated|connection error and is not queryable|Client was closed and is not queryable|server closed the connection/i;

/** True when `error` means the connection broke, not that the statement was wrong. */
export function isConnectionLoss(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  if (!e) return false;
  if (typeof e.code === 'string' && (LOST_SQLSTATES.has(e.code) || LOST_NODE_CODES.has(e.code))) return true;
  return typeof e.message === 'string' && LOST_MESSAGES.test(e.message);
}

export interface ReconnectPolicy {
  /** Waits before each retry; their count is the number of retries. */
  readonly delaysMs: readonly number[];
}

/** ~10 s in all: a maintenance migration pauses the task for a few seconds. */
export const DEFAULT_RECONNECT: ReconnectPolicy = { delaysMs: [100, 500, 1500, 3000, 5000] };

/**
 * Runs `work` (which must be safe to repeat: one statement, or one
 * transaction that rolled back with its connection) again on a connection
 * loss, after each delay in turn; any other error, or the last loss, is thrown.
 */
export async function withReconnect<T>(work: () => Promise<T>, policy: ReconnectPolicy = DEFAULT_RECONNECT): Promise<T> {
  for (let retry = 0; ; retry++) {
    try {
      return await work();
    } catch (error) {
      const delay = policy.delaysMs[retry];
      if (delay === undefined || !isConnectionLoss(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
