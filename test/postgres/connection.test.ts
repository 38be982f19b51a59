import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IoProfile } from '../../src/config/io-profile.ts';
import { ConnectionError } from '../../src/errors.ts';
import { createPostgresConnector } from '../../src/io/postgres/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/postgres.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('connection');
});
afterAll(async () => {
  await db?.drop();
});

const profile = (values: Record<string, string>) =>
  new IoProfile({ name: 'dev', file: '/project/io_config.yaml', root: '/project', values: { ...db.profileValues, ...values } });

async function failure(values: Record<string, string>): Promise<ConnectionError> {
  const connector = createPostgresConnector(profile(values));
  try {
    const error = await connector.query('SELECT 1').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConnectionError);
    return error as ConnectionError;
  } finally {
    await connector.close();
  }
}

function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

describe('connection errors say where and what to do', () => {
  it('refused: names user@host:port/db and suggests `pipekit dev start`', async () => {
    const port = await freePort();
    const error = await failure({ POSTGRES_PORT: String(port) });
    expect(error.message).toContain(`postgres://${db.user}@127.0.0.1:${port}/${db.database}`);
    expect(error.message).toContain(`connection refused at 127.0.0.1:${port}`);
    expect(error.hint).toMatch(/is PostgreSQL running\? For the local profile run `pipekit dev start`/);
  });

  it('wrong password: points at the profile keys', async () => {
    const error = await failure({ POSTGRES_PASSWORD: 'wrong' });
    expect(error.message).toMatch(/authentication failed for user/);
    expect(error.hint).toBe('check POSTGRES_USER and POSTGRES_PASSWORD in the dev profile in /project/io_config.yaml');
  });

  it('unknown database: says how to create it', async () => {
    const error = await failure({ POSTGRES_DBNAME: 'no_such_db' });
    expect(error.message).toMatch(/database no_such_db does not exist/);
    expect(error.hint).toMatch(/CREATE DATABASE "no_such_db"/);
  });

  it('missing Unix socket folder (Cloud SQL): explains the mount', async () => {
    const error = await failure({ POSTGRES_HOST: '/cloudsql/p:r:missing' });
    expect(error.message).toContain(`postgres://${db.user}@/cloudsql/p:r:missing/${db.database}`);
    expect(error.hint).toMatch(/add-cloudsql-instances/);
  });

  it('works with the right settings', async () => {
    const connector = createPostgresConnector(profile({}));
    expect((await connector.query('SELECT 41 + 1 AS answer')).getChild('answer')!.get(0)).toBe(42);
    await connector.close();
  });
});
