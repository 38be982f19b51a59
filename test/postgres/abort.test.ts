import pg from 'pg';
import { tableFromArrays } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportTable } from '../../src/io/postgres/export.ts';
import { createTestDatabase, type TestDatabase } from '../support/postgres.ts';

let db: TestDatabase;
let pool: pg.Pool;
beforeAll(async () => {
  db = await createTestDatabase('abort');
  pool = new pg.Pool({ connectionString: db.url });
});
afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

describe('cancelling an export', () => {
  it('stops the COPY, rolls back, and leaves the previous rows', async () => {
    await exportTable(pool, tableFromArrays({ n: Float64Array.from([1, 2, 3]) }), { schema: 'public', table: 't', ifExists: 'replace' });
    const big = tableFromArrays({
      n: Float64Array.from({ length: 400_000 }, (_, i) => i),
      m: Float64Array.from({ length: 400_000 }, (_, i) => -i),
    });
    const controller = new AbortController();
    const pending = exportTable(pool, big, {
      schema: 'public',
      table: 't',
      ifExists: 'replace',
      chunkBytes: 16 * 1024,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toThrow();
    const { rows } = await pool.query('SELECT count(*)::int AS n FROM public.t');
    expect(rows[0].n).toBe(3);
  });
});
