/**
 * Two first runs at once (issue 14 item 6): creating the schema, the table
 * and the database races no more.
 */
import { tableFromArrays } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IoProfile } from '../../src/config/io-profile.ts';
import { createPostgresConnector } from '../../src/io/postgres/connector.ts';
import { createTestDatabase, type TestDatabase } from '../support/postgres.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('first_runs');
});
afterAll(async () => db?.drop());

describe('first exports started at once', () => {
  it('into a schema and tables that do not exist yet: every one succeeds, each table holds one load', async () => {
    const profile = new IoProfile({ name: 'test', file: 'io_config.yaml', root: '.', values: db.profileValues });
    const connectors = Array.from({ length: 6 }, () => createPostgresConnector(profile));
    const table = tableFromArrays({ id: Int32Array.from({ length: 5000 }, (_, i) => i) });
    try {
      for (let round = 0; round < 3; round++) {
        const results = await Promise.allSettled(
          connectors.map((pg, i) => pg.export(table, { schema: `fresh_${round}`, table: i % 2 ? 'odd' : 'even' })),
        );
        expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
        const counts = await connectors[0].query(
          `SELECT (SELECT count(*) FROM fresh_${round}.odd)::int AS odd, (SELECT count(*) FROM fresh_${round}.even)::int AS even`,
        );
        expect(counts.toArray().map((r) => r.toJSON())).toEqual([{ odd: 5000, even: 5000 }]);
      }
    } finally {
      await Promise.all(connectors.map((c) => c.close()));
    }
  });
});

describe('processes starting at once on one run store', () => {
  it('open the store while others record runs: no deadlock, every run recorded', async () => {
    const { default: pg } = await import('pg');
    const { createPostgresRunStore } = await import('../../src/runs/postgres-store.ts');
    const pools = Array.from({ length: 5 }, () => new pg.Pool({ connectionString: db.url, max: 2 }));
    try {
      await createPostgresRunStore(pools[0]); // the schema exists, as after a first run
      const day = new Date('2021-01-01T00:00:00Z');
      const results = await Promise.allSettled(
        pools.flatMap((pool, p) =>
          Array.from({ length: 4 }, async (_, i) => {
            const store = await createPostgresRunStore(pool);
            const id = `run-${p}-${i}`;
            await store.createRun(
              {
                id,
                pipeline: 'p',
                trigger: 'manual',
                executionDate: day,
                intervalStart: day,
                intervalEnd: day,
                profile: 'test',
                variables: {},
                backfillId: null,
                resumedFrom: null,
                dedupeKey: null,
              },
              ['a', 'b'],
            );
            await store.updateRun(id, { status: 'succeeded' });
          }),
        ),
      );
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      const { rows } = await pools[0].query(`SELECT count(*)::int AS n FROM pipekit.runs WHERE id LIKE 'run-%'`);
      expect(rows[0].n).toBe(20);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });
});
