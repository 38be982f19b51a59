/**
 * Stopping a block's statement on the server when the block is cancelled (SIGINT, `pipekit runs
 * cancel`, a timeout). Rejecting the block's promise does not stop PostgreSQL: a long query or
 * UPDATE would go on holding its locks and its connection. So on abort the client's backend gets
 * `pg_cancel_backend` over a connection of its own — the pool may be full of the very statements
 * being cancelled.
 */
import { setTimeout as delay } from 'node:timers/promises';
import pg from './pg.ts';
import { clientConfig, type PostgresTarget } from './connection.ts';

/** A cancel sent before the statement reaches the server finds the backend idle and is lost: sent again until the work is over. */
const RESEND_MS = 250;

export interface StatementGuard {
  /** Whether a cancel was sent: the session may be mid-transaction, so the client must not go back to the pool. */
  readonly cancelled: boolean;
  /** Stops watching the signal and waits for a cancel in flight, so none can reach the client after it is released. */
  done(): Promise<void>;
}

/** Watches `signal` while `client` works: on abort, cancels whatever its backend is running. */
export function cancelOnAbort(client: pg.PoolClient, target: PostgresTarget, signal: AbortSignal | undefined): StatementGuard {
  const pid = (client as pg.PoolClient & { processID?: number | null }).processID;
  let cancelled = false;
  let sending: Promise<void> = Promise.resolve();
  let finish!: () => void;
  const over = new Promise<void>((resolve) => (finish = resolve));
  let finished = false;
  const cancel = () => {
    if (!pid) return;
    cancelled = true;
    sending = (async () => {
      while (!finished) {
        // Best effort: if the server cannot be reached the statement ends with the connection, which is then destroyed.
        await cancelBackend(target, pid).catch(() => {});
        await Promise.race([delay(RESEND_MS), over]);
      }
    })();
  };
  if (signal?.aborted) cancel();
  else signal?.addEventListener('abort', cancel, { once: true });
  return {
    get cancelled() {
      return cancelled;
    },
    async done() {
      finished = true;
      finish();
      signal?.removeEventListener('abort', cancel);
      await sending;
    },
  };
}

async function cancelBackend(target: PostgresTarget, pid: number): Promise<void> {
  const client = new pg.Client({ ...clientConfig(target), application_name: 'pipekit cancel' });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT pg_cancel_backend($1)', [pid]);
  } finally {
    await client.end().catch(() => {});
  }
}
