import type { Table } from 'apache-arrow';
import type pg from './pg.ts';
import { IoProfile } from '../../config/io-profile.ts';
import { CancelledError } from '../../errors.ts';
import type { ExportResult, PostgresConnector, PostgresExportOptions } from '../types.ts';
import { postgresSettings, type PostgresSettings } from '../settings/postgres.ts';
import { cancelOnAbort } from './cancel.ts';
import { connect, connectionLost, createPool } from './connection.ts';
import { ensureEmbeddedServer } from './embedded.ts';
import { exportTable } from './export.ts';
import { qualified } from './identifiers.ts';
import { queryToTable } from './load.ts';
import { runSqlOnPostgres, writeSqlOnPostgres } from './sql-block.ts';

export interface PostgresConnectorOptions {
  /**
   * Called once before the first connection. Defaults, for a profile with
   * `POSTGRES_EMBEDDED: true`, to starting the project's own server
   * (`ensurePostgresRunning`) so the local profile needs no setup.
   */
  readonly beforeConnect?: () => Promise<void>;
}

/**
 * The Postgres connector for a profile's POSTGRES_* keys (or settings parsed from them). Connections are
 * pooled and opened on first use; `close()` ends them.
 *
 * @example
 * ```ts
 * const pg = createPostgresConnector(profile);
 * await pg.export(trips, { schema: 'ny_taxi', table: 'yellow_taxi_data' });
 * const counts = await pg.query('SELECT count(*) AS n FROM ny_taxi.yellow_taxi_data');
 * await pg.close();
 * ```
 */
export function createPostgresConnector(source: IoProfile | PostgresSettings, options: PostgresConnectorOptions = {}): PostgresConnector {
  const target = source instanceof IoProfile ? postgresSettings(source) : source;
  const pool = createPool(target);
  const defaultSchema = target.schema;
  let ready: Promise<void> | undefined;
  const beforeConnect = options.beforeConnect ?? (target.embedded ? () => ensureEmbeddedServer(target) : undefined);

  /** Runs `work` on a pooled client; when `signal` aborts meanwhile, its statement is cancelled on the server too. */
  const withClient = async <T>(work: (client: pg.PoolClient) => Promise<T>, signal?: AbortSignal): Promise<T> => {
    if (beforeConnect) {
      ready ??= beforeConnect();
      await ready;
    }
    const client = await connect(pool, target);
    const guard = cancelOnAbort(client, target, signal);
    let broken: Error | undefined;
    try {
      return await work(client);
    } catch (error) {
      if (guard.cancelled)
        throw new CancelledError(`postgres://${target.label}: cancelled; the statement running was stopped on the server`, {
          cause: error,
        });
      const lost = connectionLost(error, target);
      // A dropped connection must not go back to the pool.
      if (lost !== error) broken = error as Error;
      throw lost;
    } finally {
      await guard.done();
      // Nor one whose statement was cancelled: it may be left inside an aborted transaction.
      client.release(guard.cancelled ? new Error('statement cancelled') : broken);
    }
  };

  const stopIfAborted = (signal: AbortSignal | undefined) => {
    if (signal?.aborted) throw new CancelledError(`postgres://${target.label}: cancelled`);
  };

  const dropTable = async (qualifiedName: string) => {
    await withClient((client) => client.query(`DROP TABLE IF EXISTS ${qualifiedName}`));
  };

  const view = (signal?: AbortSignal): PostgresConnector => {
    const connector: PostgresConnector = {
      async query(sql: string, params: readonly unknown[] = []): Promise<Table> {
        stopIfAborted(signal);
        return withClient((client) => queryToTable(client, sql, params), signal);
      },

      async execute(sql: string, params: readonly unknown[] = []): Promise<void> {
        stopIfAborted(signal);
        await withClient((client) => client.query(sql, params as unknown[]), signal);
      },

      async export(table: Table, exportOptions: PostgresExportOptions): Promise<ExportResult> {
        const schema = exportOptions.schema ?? defaultSchema;
        const result = await withClient(
          (client) =>
            exportTable(client, table, {
              schema,
              table: exportOptions.table,
              ifExists: exportOptions.ifExists ?? 'replace',
              signal,
              columnNames: exportOptions.columnNames,
              partition: exportOptions.partition,
            }),
          signal,
        );
        return { rows: result.rows, target: `postgres://${target.label} ${qualified(schema, exportOptions.table)}` };
      },

      defaultDataset: defaultSchema,
      runSql: (sql, inputs, into) => runSqlOnPostgres({ ...connector, dropTable }, sql, inputs, into),
      writeSql: (sql, inputs, into) => writeSqlOnPostgres({ ...connector, dropTable }, sql, inputs, into),

      withSignal: (next) => view(next),

      // A view made for one block attempt leaves the pool open for the rest of the run.
      close: signal ? async () => undefined : () => pool.end(),
    };
    return connector;
  };
  return view();
}
