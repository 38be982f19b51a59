import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/postgres.ts';

describe('the suite PostgreSQL', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('smoke');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('gives each file its own empty database, reachable by url', async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query(
        'SELECT current_database() AS name, count(*)::int AS tables FROM pg_tables WHERE schemaname = $1',
        ['public'],
      );
      expect(rows[0]).toEqual({ name: db.database, tables: 0 });
    } finally {
      await client.end();
    }
  });
});
