import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IoProfile } from '../../src/config/io-profile.ts';
import { createBigQueryWarehouse, type BigQueryWarehouse } from '../../src/io/bigquery/warehouse.ts';
import { startBigQueryFake, type BigQueryFake } from '../support/bigquery-fake.ts';
import { dayRows, readRows, rowsTable, tableWriterSuite } from './table-writer-suite.ts';
import { warehouseSuite } from './warehouse-suite.ts';

const PROJECT = 'pipekit-test-123';
let bq: BigQueryFake;
let warehouse: BigQueryWarehouse;
beforeAll(async () => {
  bq = await startBigQueryFake({ projectId: PROJECT });
  const profile = new IoProfile({
    name: 'cloud',
    file: '/p/io_config.yaml',
    root: '/p',
    values: { GOOGLE_PROJECT_ID: PROJECT, BIGQUERY_DATASET: 'conformance', WAREHOUSE: 'bigquery' },
  });
  warehouse = await createBigQueryWarehouse({ profile, client: bq.client(), jobs: { pollMs: 2 } });
});
afterAll(() => bq?.close());

const adapter = () => ({
  write: (table: Parameters<BigQueryWarehouse['export']>[0], target: { table: string }) =>
    warehouse.export(table, { dataset: 'conformance', ...target }),
  query: (sql: string) => warehouse.query(sql),
  t: (name: string) => `conformance.${name}`,
});
tableWriterSuite('BigQuery warehouse', adapter);
warehouseSuite('BigQuery warehouse', () => ({
  warehouse,
  dataset: 'conformance_sql',
  read: (sql) => warehouse.query(sql),
  export: (table, target) => warehouse.export(table, target),
  exportedNames: ['VendorID', 'PULocationID'],
}));

describe('BigQuery partition replace, on the wire', () => {
  it('creates a day-partitioned table, then swaps rows in one DELETE + INSERT transaction from an expiring stage table', async () => {
    const scope = { column: 'day', start: new Date('2021-01-05T00:00:00Z'), end: new Date('2021-01-06T00:00:00Z') };
    await warehouse.export(rowsTable(dayRows('2021-01-05', 2, 0)), { dataset: 'conformance', table: 'wire', partition: scope });
    expect(bq.table('conformance', 'wire')!.timePartitioning).toEqual({ type: 'DAY', field: 'day' });
    const scripts = bq
      .jobs()
      .map((j) => j.configuration.query?.query as string | undefined)
      .filter((q) => q?.startsWith('BEGIN TRANSACTION'));
    expect(scripts.at(-1)).toMatch(
      /^BEGIN TRANSACTION;\nDELETE FROM `pipekit-test-123\.conformance\.wire` WHERE `day` >= DATE '2021-01-05' AND `day` < DATE '2021-01-06';\nINSERT INTO `pipekit-test-123\.conformance\.wire` \(`id`, `day`, `amount`\) SELECT `id`, `day`, `amount` FROM `pipekit-test-123\.conformance\._pipekit_stage_[0-9a-f]{8}_wire`;\nCOMMIT TRANSACTION;$/,
    );
    // The stage table is gone after the write; one a query made got an expiration while it lived.
    const sqlStart = bq.requests.length;
    await warehouse.writeSql(
      'SELECT * FROM {{ df_1 }}',
      { df_1: rowsTable(dayRows('2021-01-05', 1, 7)) },
      { dataset: 'conformance', table: 'wire', partition: scope },
    );
    const patched = bq.requests.slice(sqlStart).find((c) => c.method === 'PATCH' && /_pipekit_stage_[0-9a-f]{8}_wire$/.test(c.path));
    expect(Number(patched?.body.expirationTime)).toBeGreaterThan(Date.now());
    expect((await bq.sql(`SELECT count(*) FROM information_schema.tables WHERE table_name LIKE '_pipekit_stage%'`))[0][0]).toBe('0');
  });

  it('tries the transaction again when a concurrent writer of the table made BigQuery cancel it', async () => {
    const scope = { column: 'day', start: new Date('2021-01-09T00:00:00Z'), end: new Date('2021-01-10T00:00:00Z') };
    await warehouse.export(rowsTable(dayRows('2021-01-09', 3, 0)), { dataset: 'conformance', table: 'contended', partition: scope });
    let cancelled = 0;
    bq.failStatements((s) =>
      s.startsWith('DELETE') && cancelled++ < 2
        ? 'Transaction is aborted due to concurrent update against table pipekit-test-123:conformance.contended'
        : undefined,
    );
    try {
      await warehouse.export(rowsTable(dayRows('2021-01-09', 2, 50)), { dataset: 'conformance', table: 'contended', partition: scope });
    } finally {
      bq.failStatements(undefined);
    }
    expect(cancelled).toBe(3);
    expect((await readRows(adapter(), 'contended')).map((r) => r.id)).toEqual([50, 51]);
  });

  it('a statement failing inside the transaction rolls it back: the day keeps its rows', async () => {
    const scope = { column: 'day', start: new Date('2021-01-07T00:00:00Z'), end: new Date('2021-01-08T00:00:00Z') };
    await warehouse.export(rowsTable(dayRows('2021-01-07', 3, 0)), { dataset: 'conformance', table: 'injected', partition: scope });
    bq.failStatements((s) => (s.startsWith('INSERT INTO') ? 'Resources exceeded during query execution' : undefined));
    try {
      const err = await warehouse
        .export(rowsTable(dayRows('2021-01-07', 1, 9)), { dataset: 'conformance', table: 'injected', partition: scope })
        .catch((e) => e);
      expect(String(err.message)).toContain('Resources exceeded');
    } finally {
      bq.failStatements(undefined);
    }
    expect((await readRows(adapter(), 'injected')).map((r) => r.id)).toEqual([0, 1, 2]);
  });
});
