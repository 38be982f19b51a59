import { isConnectionLoss } from '../io/postgres/connection.ts';

/**
 * Connection resets the run store rides out. Cloud Run live-migrates job
 * tasks during maintenance and their outbound VPC connections (Cloud SQL
 * over private IP) break; a server restart or failover does the same. The
 * statement in flight fails, the pool drops that client, and a retry on a
 * fresh connection succeeds — so a run is never left half-recorded.
 */

// One definition of a lost connection for connectors and the run store alike.
export { isConnectionLoss };

export interface ReconnectPolicy {
  /** Waits before each retry; their count is the number of retries. */
  readonly delaysMs: readonly number[];
  /**
   * A refused connection ends the retries: the project's embedded server refuses only when
   * its postmaster is gone (in crash recovery it answers 57P03), and nothing restarts it
   * during a run, so waiting it out only delays the error.
   */
  readonly refusedIsFinal?: boolean;
}

/** ~10 s in all: a maintenance migration pauses the task for a few seconds. */
export const DEFAULT_RECONNECT: ReconnectPolicy = { delaysMs: [100, 500, 1500, 3000, 5000] };

/** For the embedded server: resets are ridden out as for any server, a refusal is not. */
export const EMBEDDED_RECONNECT: ReconnectPolicy = { ...DEFAULT_RECONNECT, refusedIsFinal: true };

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
      if (policy.refusedIsFinal && (error as { code?: unknown }).code === 'ECONNREFUSED') throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
