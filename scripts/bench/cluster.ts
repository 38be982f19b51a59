/**
 * The bench's own throwaway PostgreSQL: never the demo's server on 54329, which
 * may be running. Debian's PostgreSQL 15 when installed (what the anchors were
 * measured on), stock settings — fsync on — so COPY costs what it costs a user.
 * Same helpers as test/setup/global-postgres.ts.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { findPostgresBinaries } from '../../src/services/postgres-binaries.ts';
import { type ClusterSpec, initCluster, startCluster, stopCluster } from '../../src/services/postgres-cluster.ts';
import { freePort } from '../../src/services/free-port.ts';

export interface BenchPostgres {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** e.g. `PostgreSQL 15.x (system)` for the report. */
  readonly version: string;
  /** Runs SQL in a database of this server (created by `createDatabase`). */
  query(database: string, sql: string): Promise<pg.QueryResult>;
  createDatabase(name: string): Promise<void>;
  /** PGHOST/PGPORT/… for psql and psycopg2 children. */
  env(database: string): Record<string, string>;
  stop(): Promise<void>;
}

export async function startBenchPostgres(): Promise<BenchPostgres> {
  // Under /tmp (mode 1777) so the `postgres` OS account can reach it when we run as root.
  const root = mkdtempSync(join(tmpdir(), 'pipekit-bench-pg-'));
  chmodSync(root, 0o711);
  const binaries = await findPostgresBinaries({ preferSystem: true });
  const spec: ClusterSpec = { binaries, dataDir: join(root, 'data'), port: await freePort(), user: 'postgres', password: 'bench' };
  try {
    await initCluster(spec);
    await startCluster(spec);
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
  const connection = { host: '127.0.0.1', port: spec.port, user: spec.user, password: spec.password };
  const query = async (database: string, sql: string) => {
    const client = new pg.Client({ ...connection, database });
    await client.connect();
    try {
      return await client.query(sql);
    } finally {
      await client.end();
    }
  };
  const version = String((await query('postgres', 'SHOW server_version')).rows[0].server_version);
  return {
    ...connection,
    version: `PostgreSQL ${version.split(' ')[0]} (${binaries.source})`,
    query,
    createDatabase: async (name) => void (await query('postgres', `CREATE DATABASE "${name}"`)),
    env: (database) => ({
      PGHOST: connection.host,
      PGPORT: String(spec.port),
      PGUSER: spec.user,
      PGPASSWORD: spec.password,
      PGDATABASE: database,
    }),
    stop: async () => {
      try {
        await stopCluster(binaries, spec.dataDir);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
  };
}
