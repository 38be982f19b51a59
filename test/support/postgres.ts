import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** A database of its own in the suite's PostgreSQL (see test/setup/global-postgres.ts). */
export interface TestDatabase {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** `postgres://user:password@host:port/database` */
  readonly url: string;
  /** POSTGRES_* keys for an `IoProfile`'s values (schema `public`, timeout 10 s). */
  readonly profileValues: Record<string, string>;
  /** Drops the database, closing any connection still open to it. */
  drop(): Promise<void>;
}

/** The suite server's coordinates; throws when globalSetup did not run. */
export function testServer(): { host: string; port: number; user: string; password: string } {
  const host = process.env.PIPEKIT_TEST_PG_HOST;
  if (!host) {
    throw new Error(
      'PIPEKIT_TEST_PG_HOST is not set: run tests through vitest (globalSetup test/setup/global-postgres.ts starts the server), ' +
        'or set PIPEKIT_TEST_PG_HOST/PORT/USER/PASSWORD to a server you have.',
    );
  }
  return {
    host,
    port: Number(process.env.PIPEKIT_TEST_PG_PORT ?? 5432),
    user: process.env.PIPEKIT_TEST_PG_USER ?? 'postgres',
    password: process.env.PIPEKIT_TEST_PG_PASSWORD ?? '',
  };
}

/**
 * Creates a fresh, empty database for one test file, so files can run in
 * parallel without seeing each other's tables.
 *
 * @param name readable prefix (lowercased, non-alphanumerics become `_`); a random suffix is added.
 *
 * @example
 * ```ts
 * import { IoProfile } from '../../src/config/io-profile.ts';
 * import { createTestDatabase, type TestDatabase } from '../support/postgres.ts';
 *
 * let db: TestDatabase;
 * beforeAll(async () => { db = await createTestDatabase('exporter'); });
 * afterAll(async () => { await db?.drop(); });
 *
 * it('exports', async () => {
 *   const profile = new IoProfile({ name: 'test', file: 'io_config.yaml', root: '.', values: db.profileValues });
 *   const pg = createPostgresConnector(profile);
 *   // … or: new pg.Client({ connectionString: db.url })
 * });
 * ```
 */
export async function createTestDatabase(name = 'test'): Promise<TestDatabase> {
  const server = testServer();
  const prefix = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .slice(0, 40);
  const database = `pk_${prefix}_${randomBytes(4).toString('hex')}`;
  await admin(server, `CREATE DATABASE "${database}"`);
  const url = `postgres://${encodeURIComponent(server.user)}:${encodeURIComponent(server.password)}@${server.host}:${server.port}/${database}`;
  return {
    ...server,
    database,
    url,
    profileValues: {
      POSTGRES_HOST: server.host,
      POSTGRES_PORT: String(server.port),
      POSTGRES_USER: server.user,
      POSTGRES_PASSWORD: server.password,
      POSTGRES_DBNAME: database,
      POSTGRES_SCHEMA: 'public',
      POSTGRES_CONNECT_TIMEOUT: '10',
    },
    // FORCE (PostgreSQL 13+) ends sessions a test forgot to close instead of failing the drop.
    drop: () => admin(server, `DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`),
  };
}

async function admin(server: ReturnType<typeof testServer>, sql: string): Promise<void> {
  const client = new pg.Client({ ...server, database: 'postgres' });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
