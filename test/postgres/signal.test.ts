import { tableFromArrays } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IoProfile } from '../../src/config/io-profile.ts';
import { CancelledError } from '../../src/errors.ts';
import { openConnectors, withSignal } from '../../src/io/connectors.ts';
import { createTestDatabase, type TestDatabase } from '../support/postgres.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('signal');
});
afterAll(async () => {
  await db?.drop();
});

describe('one way to cancel: ctx.io binds each connector with withSignal', () => {
  it("a block's aborted signal stops its Postgres export (rolled back) and its queries, while the run's connector goes on", async () => {
    const io = openConnectors(new IoProfile({ name: 'test', file: 'io_config.yaml', root: '.', values: db.profileValues }));
    try {
      const pg = await io.postgres();
      await pg.export(tableFromArrays({ n: Float64Array.from([1, 2, 3]) }), { table: 't' });

      const controller = new AbortController();
      const block = withSignal(io, controller.signal);
      const big = tableFromArrays({ n: Float64Array.from({ length: 400_000 }, (_, i) => i) });
      const pending = (await block.postgres()).export(big, { table: 't' });
      setTimeout(() => controller.abort(), 20);
      await expect(pending).rejects.toThrow();
      await expect((await block.postgres()).query('SELECT 1')).rejects.toBeInstanceOf(CancelledError);
      await expect((await block.postgres()).execute('DROP TABLE t')).rejects.toBeInstanceOf(CancelledError);

      const left = await pg.query('SELECT count(*)::int AS n FROM public.t');
      expect(left.getChild('n')!.get(0)).toBe(3);
    } finally {
      await io.close();
    }
  });
});
