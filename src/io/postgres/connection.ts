import pg from './pg.ts';
import { IoProfile } from '../../config/io-profile.ts';
import { ConnectionError, isPipekitError } from '../../errors.ts';
import { postgresSettings, type PostgresSettings } from '../settings/postgres.ts';
import { postgresTls } from './tls.ts';

/** Where a profile's Postgres is, for messages and connections: its parsed POSTGRES_* settings. */
export type PostgresTarget = PostgresSettings;

/** The profile's POSTGRES_* settings (see settings/postgres.ts for the defaults). */
export function postgresTarget(profile: IoProfile): PostgresTarget {
  return postgresSettings(profile);
}

/**
 * A `pg` pool for a profile's Postgres. A host starting with `/` is a Unix socket folder
 * (Cloud SQL mounts `/cloudsql/project:region:instance` in Cloud Run).
 * POSTGRES_SSLMODE: `disable` (default), `require` (encrypted, certificate not
 * checked — what libpq's `require` means), `verify-ca`/`verify-full` against
 * POSTGRES_SSL_CA (see tls.ts).
 */
export function createPool(source: IoProfile | PostgresSettings, options: { max?: number } = {}): pg.Pool {
  const target = source instanceof IoProfile ? postgresSettings(source) : source;
  const pool = new pg.Pool({ ...clientConfig(target), max: options.max ?? 4, keepAlive: true });
  // An idle client losing its server (restart, failover) must not crash the
  // process; the next checkout reconnects and reports any lasting problem.
  pool.on('error', () => {});
  // Nor may a checked-out one (see quietOnLoss): every client of the pool, also
  // those the run store checks out itself or pool.query() uses.
  pool.on('connect', (client) => quietOnLoss(client as pg.PoolClient));
  return pool;
}

/** How one connection to the target is made (server, credentials, TLS, connect timeout); the pool adds its own options. */
export function clientConfig(target: PostgresTarget): pg.ClientConfig {
  return {
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    database: target.database,
    connectionTimeoutMillis: target.connectTimeoutMs,
    ssl: postgresTls(target.sslmode, target.sslCa, { file: target.file, profile: target.profile }),
    application_name: 'pipekit',
  };
}

/**
 * SQLSTATEs of a connection that went away: class 08 (connection exception) and the
 * server's admin shutdown, crash shutdown and "not accepting connections yet" — not
 * 57014, a cancelled statement, which is the caller's own doing.
 */
const LOST_STATES = /^(08...|57P0[123])$/;
const LOST_NODE_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);
const LOST_MESSAGES =
  /Connection terminated|terminating connection|server closed the connection|connection error and is not queryable|Client was closed and is not queryable|socket hang up/i;

/** Whether `error` means the connection to the server is gone (not that the SQL or the data is wrong). */
export function isConnectionLoss(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null | undefined;
  if (!e || isPipekitError(error)) return false;
  if (typeof e.code === 'string' && (LOST_STATES.test(e.code) || LOST_NODE_CODES.has(e.code))) return true;
  return typeof e.message === 'string' && LOST_MESSAGES.test(e.message);
}

/** A ConnectionError for a connection lost mid-work, saying what to do; other errors pass through. */
export function connectionLost(error: unknown, target: PostgresTarget): unknown {
  if (!isConnectionLoss(error)) return error;
  const e = error as { code?: string; message?: string };
  const recovering = e.code === '57P03';
  return new ConnectionError({
    target: `postgres://${target.label}`,
    message: recovering
      ? `the server is starting up or recovering from a crash: ${e.message}`
      : `the connection to PostgreSQL was lost: ${e.message ?? e.code}`,
    hint: target.embedded
      ? "the project's PostgreSQL stopped or crashed; the next pipekit command starts it again and waits for its recovery (`pipekit dev status` shows it). The block is retried if it has retries."
      : `the server went away (restart, failover, network): the block is retried if it has retries; if it persists, check the server and the POSTGRES_* keys of the ${target.profile} profile in ${target.file}`,
    cause: error,
  });
}

/**
 * `target`'s methods with connection losses turned into ConnectionErrors
 * (see {@link connectionLost}): for objects such as the run store that talk
 * to PostgreSQL in many places.
 */
export function withConnectionErrors<T extends object>(object: T, target: PostgresTarget): T {
  return new Proxy(object, {
    get(obj, key, receiver) {
      const value = Reflect.get(obj, key, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const result = value.apply(obj, args);
        return result instanceof Promise ? result.catch((error: unknown) => Promise.reject(connectionLost(error, target))) : result;
      };
    },
  });
}

/** Checks a client out of the pool, turning connection failures into an actionable ConnectionError. */
export async function connect(pool: pg.Pool, target: PostgresTarget): Promise<pg.PoolClient> {
  try {
    return quietOnLoss(await pool.connect());
  } catch (error) {
    throw connectionError(error, target);
  }
}

const QUIET = Symbol.for('pipekit.pg.quiet');

/**
 * A checked-out client whose connection drops (server restart, Cloud Run
 * maintenance) rejects its query *and* emits 'error'; the pool listens only
 * while the client is idle, so unheard the event would crash the process.
 * The query's rejection is what reports it.
 */
export function quietOnLoss(client: pg.PoolClient): pg.PoolClient {
  const marked = client as pg.PoolClient & { [QUIET]?: true };
  if (!marked[QUIET]) {
    marked[QUIET] = true;
    client.on('error', () => {});
  }
  return client;
}

/** Explains why connecting failed and what to do; passes PipekitErrors through. */
export function connectionError(error: unknown, target: PostgresTarget): Error {
  if (isPipekitError(error)) return error;
  const e = error as { code?: string; message?: string };
  const where = `${target.profile} profile in ${target.file}`;
  const base = { target: `postgres://${target.label}`, cause: error };
  switch (e.code) {
    case 'ECONNREFUSED':
      return new ConnectionError({
        ...base,
        message: `connection refused at ${target.host}:${target.port}`,
        hint:
          target.embedded || /^(localhost|127\.0\.0\.1|::1)$/.test(target.host)
            ? 'is PostgreSQL running? For the local profile run `pipekit dev start`.'
            : `is PostgreSQL running there and reachable? Check POSTGRES_HOST/POSTGRES_PORT in the ${where}.`,
      });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ConnectionError({ ...base, message: `unknown host ${target.host}`, hint: `check POSTGRES_HOST in the ${where}` });
    case 'ENOENT':
      return new ConnectionError({
        ...base,
        message: `no PostgreSQL socket in ${target.host}`,
        hint: 'for Cloud SQL, mount the instance on the Cloud Run service/job (--add-cloudsql-instances) and use /cloudsql/PROJECT:REGION:INSTANCE',
      });
    case '28P01':
    case '28000':
      return new ConnectionError({
        ...base,
        retriable: false,
        message: `authentication failed for user ${target.user}: ${e.message}`,
        hint: `check POSTGRES_USER and POSTGRES_PASSWORD in the ${where}`,
      });
    case '57P03':
      return connectionLost(error, target) as ConnectionError;
    case '3D000':
      return new ConnectionError({
        ...base,
        retriable: false,
        message: `database ${target.database} does not exist`,
        hint: `create it (CREATE DATABASE "${target.database}") or fix POSTGRES_DBNAME in the ${where}`,
      });
  }
  if (/timeout/i.test(e.message ?? '') || e.code === 'ETIMEDOUT') {
    return new ConnectionError({
      ...base,
      message: `timed out connecting to ${target.host}:${target.port}`,
      hint: `is the host reachable (firewall, VPC, authorized networks)? Raise POSTGRES_CONNECT_TIMEOUT in the ${where} if the server is just slow.`,
    });
  }
  return new ConnectionError({ ...base, message: e.message ?? String(error), hint: `check the POSTGRES_* keys of the ${where}` });
}
