/**
 * One use of a DuckDB database file: open, work, close. A DuckDB file can be
 * open for writing in one process only, so pipekit never holds it between
 * operations: the CLI, a notebook or the DuckDB shell can use it in between.
 */
import { rm } from 'node:fs/promises';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { duckdbApi } from './node-api.ts';
import { CancelledError, ConnectionError, NonRetriableError, PipekitError } from '../../errors.ts';
import { trackNativeWork } from '../../process/in-flight.ts';
import { makeTempFolder } from './temp-folders.ts';
import { DUCKDB_THREADS_ENV } from './threads.ts';
import { scanFailure } from './arrow-scan.ts';

export interface DuckDbSession {
  readonly connection: DuckDBConnection;
  /** A fresh folder for staging files, removed when the session ends. */
  readonly tempDir: string;
  /** The database file, for messages. */
  readonly path: string;
  /** Runs SQL, mapping DuckDB errors to a ConnectionError that names the file and quotes the SQL. */
  run(sql: string, values?: Record<string, string | number | boolean | null>): Promise<void>;
  /** Runs `release` when the session ends (after the connection is closed). */
  onClose(release: () => void): void;
  /** The first column of the first row, or undefined. */
  scalar(sql: string, values?: Record<string, string | number | boolean | null>): Promise<unknown>;
}

export interface SessionConfig {
  /** Database file, or `:memory:`. */
  readonly path: string;
  /** Parent folder of the staging folders; default the OS temp folder. */
  readonly tempDir?: string;
  /** DuckDB settings applied when the database is opened, e.g. `memory_limit`. */
  readonly settings?: Readonly<Record<string, string>>;
}

/**
 * Opens the database, runs `work`, and closes everything, also on failure.
 * When `signal` aborts, the statement running is interrupted (DuckDB rolls
 * its transaction back) and the session ends with a CancelledError.
 */
export async function withSession<T>(
  config: SessionConfig,
  instance: DuckDBInstance | undefined,
  work: (session: DuckDbSession) => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  if (signal?.aborted) throw cancelled(config.path);
  const db = instance ?? (await openInstance(config.path, config.settings));
  const connection = await db.connect().catch((error) => {
    if (!instance) db.closeSync();
    throw error;
  });
  const tempDir = await makeTempFolder('pipekit-duckdb-', config.tempDir);
  const releases: (() => void)[] = [];
  const session: DuckDbSession = {
    connection,
    tempDir,
    path: config.path,
    onClose: (release) => void releases.push(release),
    async run(sql, values) {
      try {
        await connection.run(sql, values);
      } catch (error) {
        throw sqlError(config.path, sql, error);
      }
    },
    async scalar(sql, values) {
      try {
        const reader = await connection.runAndReadAll(sql, values);
        return reader.getRows()[0]?.[0];
      } catch (error) {
        throw sqlError(config.path, sql, error);
      }
    },
  };
  const interrupt = () => connection.interrupt();
  signal?.addEventListener('abort', interrupt, { once: true });
  try {
    // Interrupted before the process exits, too (see process/in-flight.ts): an Arrow scan calls back into JavaScript.
    return await trackNativeWork(work(session), interrupt);
  } catch (error) {
    throw signal?.aborted ? cancelled(config.path, error) : error;
  } finally {
    signal?.removeEventListener('abort', interrupt);
    connection.closeSync();
    if (!instance) db.closeSync();
    for (const release of releases) release();
    await rm(tempDir, { recursive: true, force: true });
  }
}

/** Opens a database file; a file locked by another process gets an actionable error. */
export async function openInstance(path: string, settings: Readonly<Record<string, string>> = {}): Promise<DuckDBInstance> {
  // Set by `backfill --parallel N` for itself and its workers: N processes share the cores.
  const threads = process.env[DUCKDB_THREADS_ENV];
  try {
    return await duckdbApi.DuckDBInstance.create(path, { ...(threads ? { threads } : {}), ...settings });
  } catch (error) {
    const message = (error as Error).message ?? String(error);
    const pid = /PID (\d+)/.exec(message)?.[1];
    throw new ConnectionError({
      target: path,
      message: /lock/i.test(message)
        ? `the DuckDB file is in use by another process${pid ? ` (PID ${pid})` : ''}`
        : `could not open the DuckDB database: ${message}`,
      hint: /lock/i.test(message)
        ? 'DuckDB allows one writing process per file: close the DuckDB shell, notebook or other pipekit run that has it open, then retry'
        : 'check DUCKDB_PATH in io_config.yaml and that its folder exists and is writable',
      cause: error,
    });
  }
}

function cancelled(path: string, cause?: unknown): CancelledError {
  return new CancelledError(`${path}: the statement was interrupted (block cancelled or timed out); its transaction rolled back`, {
    cause,
  });
}

/** DuckDB error classes that a retry cannot fix: the SQL or the data is wrong. */
const DETERMINISTIC = /^(Parser|Binder|Catalog|Conversion|Constraint|Invalid Input|Not implemented|Dependency) Error/i;

function sqlError(path: string, sql: string, error: unknown): PipekitError {
  if (error instanceof PipekitError) return error;
  const message = (error as Error).message ?? String(error);
  const shown = sql.length > 300 ? `${sql.slice(0, 300)}…` : sql;
  if (DETERMINISTIC.test(message)) {
    return new NonRetriableError(`${path}: ${message}\n  in: ${shown}`, {
      hint: /Catalog Error/i.test(message)
        ? 'check the table and column names (quoted identifiers are case-sensitive)'
        : scanFailure(message)
          ? 'an input table of the block is at fault, not the SQL: fix the column upstream (text columns must be UTF-8)'
          : 'fix the SQL of the block',
      cause: error,
    });
  }
  return new ConnectionError({ target: path, message: `${message}\n  in: ${shown}`, cause: error });
}
