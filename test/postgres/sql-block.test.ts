import { tableFromArrays } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IoProfile } from '../../src/config/io-profile.ts';
import { ConfigError, DataError } from '../../src/errors.ts';
import { createPostgresConnector } from '../../src/io/postgres/connector.ts';
import type { PostgresConnector } from '../../src/io/types.ts';
import { createTestDatabase, type TestDatabase } from '../support/postgres.ts';

let db: TestDatabase;
let pg: PostgresConnector;
beforeAll(async () => {
  db = await createTestDatabase('sql_block');
  pg = createPostgresConnector(
    new IoProfile({ name: 'test', file: 'io_config.yaml', root: '.', values: { ...db.profileValues, POSTGRES_SCHEMA: 'ny_taxi' } }),
  );
});
afterAll(async () => {
  await pg?.close();
  await db?.drop();
});

const trips = tableFromArrays({ day: ['2021-01-01', '2021-01-01', '2021-01-02'], passengers: Float64Array.from([1, 2, 3]) });
const stagingLeft = async () =>
  Number((await pg.query("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'pipekit_staging'")).getChild('n')!.get(0));

describe('SQL blocks on Postgres: the runSql / writeSql seam', () => {
  it('runSql stages the inputs it names under quoted names, writes the target, returns the result and drops the stage', async () => {
    const result = await pg.runSql(
      'SELECT day, sum(passengers)::int AS riders FROM {{df_1}} GROUP BY day ORDER BY day',
      { df_1: trips, 'load-trips': trips },
      { dataset: pg.defaultDataset!, table: 'Daily Counts' },
    );
    expect(result.toArray().map((r) => ({ ...r }))).toEqual([
      { day: '2021-01-01', riders: 3 },
      { day: '2021-01-02', riders: 3 },
    ]);
    expect(pg.defaultDataset).toBe('ny_taxi');
    const written = await pg.query('SELECT count(*)::int AS n FROM ny_taxi."Daily Counts"');
    expect(written.getChild('n')!.get(0)).toBe(2);
    expect(await stagingLeft()).toBe(0);
  });

  it('writeSql reports the rows written, with the write policy', async () => {
    const target = { dataset: 'ny_taxi', table: 'riders', ifExists: 'append' } as const;
    expect(await pg.writeSql('SELECT * FROM {{ load-trips }}', { 'load-trips': trips }, target)).toEqual({
      rows: 3,
      target: expect.stringContaining('"ny_taxi"."riders"'),
    });
    expect((await pg.writeSql('SELECT * FROM {{ load-trips }}', { 'load-trips': trips }, target)).rows).toBe(3);
    expect((await pg.query('SELECT count(*)::int AS n FROM ny_taxi.riders')).getChild('n')!.get(0)).toBe(6);
  });

  it("quoting is the connector's, NUL check included; an unknown placeholder names the inputs; a failed query leaves no stage", async () => {
    await expect(pg.writeSql('SELECT 1 AS x', {}, { dataset: 'ny_taxi', table: 'a\0b' })).rejects.toBeInstanceOf(DataError);
    const unknown = await pg.runSql('SELECT * FROM {{ df_2 }}', { df_1: trips }).catch((e) => e);
    expect(unknown).toBeInstanceOf(ConfigError);
    expect(unknown.hint).toContain('{{ df_1 }}');
    await expect(pg.runSql('SELECT no_such_column FROM {{ df_1 }}', { df_1: trips })).rejects.toThrow();
    expect(await stagingLeft()).toBe(0);
  });

  it("a partition-scoped target replaces only the run's interval, through the same seam", async () => {
    const days = tableFromArrays({
      day: [new Date('2021-01-01T00:00:00Z'), new Date('2021-01-02T00:00:00Z')].map((d) => d.getTime()),
      n: Float64Array.from([1, 2]),
    });
    await pg.execute('CREATE TABLE ny_taxi.by_day (day timestamptz, n double precision)');
    await pg.execute("INSERT INTO ny_taxi.by_day VALUES ('2021-01-01T00:00:00Z', 10), ('2021-01-02T00:00:00Z', 20)");
    const partition = { column: 'day', start: new Date('2021-01-02T00:00:00Z'), end: new Date('2021-01-03T00:00:00Z') };
    const written = await pg.writeSql(
      'SELECT to_timestamp(day / 1000.0) AS day, n * 100 AS n FROM {{ df_1 }} WHERE day >= 1609545600000',
      { df_1: days },
      { dataset: 'ny_taxi', table: 'by_day', partition },
    );
    expect(written.rows).toBe(1);
    const rows = await pg.query('SELECT n FROM ny_taxi.by_day ORDER BY day');
    expect([...rows.getChild('n')!]).toEqual([10, 200]);
  });
});
