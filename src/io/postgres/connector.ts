import type { Table } from 'apache-arrow';
import type pg from 'pg';
import type { IoProfile } from '../../config/io-profile.ts';
import type { ExportResult, PostgresConnector, PostgresExportOptions } from '../types.ts';
import { connect, connectionLost, createPool, postgresTarget } from './connection.ts';
import { exportTable } from './export.ts';
import { qualified } from './identifiers.ts';
import { queryToTable } from './load.ts';
import { ensurePostgresRunning } from '../../services/postgres-server.ts';

export interface PostgresConnectorOptions {
  /**
   * Called once before the first connection. Defaults, for a profile with
   * `POSTGRES_EMBEDDED: true`, to starting the project's own server
   * (`ensurePostgresRunning`) so the local profile needs no setup.
   */
  readonly beforeConnect?: () => Promise<void>;
}

/**
 * The Postgres connector for a profile's POSTGRES_* keys. Connections are
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
export function createPostgresConnector(profile: IoProfile, options: PostgresConnectorOptions = {}): PostgresConnector {
  const target = postgresTarget(profile);
  const pool = createPool(profile);
  const defaultSchema = profile.get('POSTGRES_SCHEMA') ?? 'public';
  let ready: Promise<void> | undefined;
  const beforeConnect =
    options.beforeConnect ??
    (target.embedded
      ? async () => {
          await ensurePostgresRunning({
            root: profile.root,
            port: target.port,
            user: target.user,
            password: profile.get('POSTGRES_PASSWORD') ?? '',
            database: target.database,
          });
        }
      : undefined);

  const withClient = async <T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> => {
    if (beforeConnect) {
      ready ??= beforeConnect();
      await ready;
    }
    const client = await connect(pool, target);
    let broken: Error | undefined;
    try {
      return await work(client);
    } catch (error) {
      const lost = connectionLost(error, target);
      // A dropped connection must not go back to the pool.
      if (lost !== error) broken = error as Error;
      throw lost;
    } finally {
      client.release(broken);
    }
  };

  return {
    query: (sql: string, params: readonly unknown[] = []): Promise<Table> => withClient((client) => queryToTable(client, sql, params)),

    async execute(sql: string, params: readonly unknown[] = []): Promise<void> {
      await withClient((client) => client.query(sql, params as unknown[]));
    },

    async export(table: Table, exportOptions: PostgresExportOptions): Promise<ExportResult> {
      const schema = exportOptions.schema ?? defaultSchema;
      const result = await withClient((client) =>
        exportTable(client, table, { schema, table: exportOptions.table, ifExists: exportOptions.ifExists ?? 'replace', signal: exportOptions.signal }),
      );
      return { rows: result.rows, target: `postgres://${target.label} ${qualified(schema, exportOptions.table)}` };
    },

    close: () => pool.end(),
  };
}
