/**
 * SQL blocks on every connection that runs them (DuckDB, BigQuery, Postgres):
 * `writeSql` / `runSql` with the same write rules, partition scopes and name
 * handling. Called by duckdb.test.ts, bigquery.test.ts and postgres.test.ts.
 */
import { RecordBatch, Schema, Struct, Table, makeData } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/errors.ts';
import type { ExportResult, SqlRunner } from '../../src/io/types.ts';
import { int64Vector } from '../../src/table/index.ts';
import { dayRows, rowsTable } from './table-writer-suite.ts';

export interface WarehouseAdapter {
  readonly warehouse: SqlRunner;
  /** The dataset / schema the suite writes to. */
  readonly dataset: string;
  read(sql: string): Promise<Table>;
  /** The connection's own export of an Arrow table (replace). */
  export(table: Table, target: { dataset: string; table: string }): Promise<ExportResult>;
  /** How the export names `VendorID` and `PULocationID`: as written (warehouses) or Mage-cleaned (Postgres). */
  readonly exportedNames: readonly string[];
}

const SELECT_ALL = 'SELECT * FROM {{ df_1 }}';
const count = async (a: WarehouseAdapter, table: string) =>
  Number((await a.read(`SELECT count(*) AS n FROM ${a.dataset}.${table}`)).getChild('n')!.get(0));
const day = (d: string) => ({ column: 'day', start: new Date(`${d}T00:00:00Z`), end: new Date(Date.parse(`${d}T00:00:00Z`) + 86_400_000) });

export function warehouseSuite(name: string, adapter: () => WarehouseAdapter): void {
  describe(`${name}: SQL blocks`, () => {
    it("writeSql appends by default (Mage's SQL block policy), replace swaps, and reports the rows written", async () => {
      const a = adapter();
      const target = { dataset: a.dataset, table: 'appended' };
      const input = { df_1: rowsTable(dayRows('2021-01-01', 3, 0)) };
      expect((await a.warehouse.writeSql(SELECT_ALL, input, target)).rows).toBe(3);
      await a.warehouse.writeSql(SELECT_ALL, input, target);
      expect(await count(a, 'appended')).toBe(6);
      await a.warehouse.writeSql(SELECT_ALL, input, { ...target, ifExists: 'replace' });
      expect(await count(a, 'appended')).toBe(3);
    });

    it('runSql returns the query result and writes it to the target', async () => {
      const a = adapter();
      const result = await a.warehouse.runSql(
        'SELECT id, amount FROM {{ df_1 }} WHERE id > 0',
        { df_1: rowsTable(dayRows('2021-01-01', 3, 0)) },
        { dataset: a.dataset, table: 'returned', ifExists: 'replace' },
      );
      expect(result.numRows).toBe(2);
      expect(await count(a, 'returned')).toBe(2);
    });

    it("writeSql with a partition scope replaces only the run's day; re-runs converge", async () => {
      const a = adapter();
      const target = (d: string) => ({ dataset: a.dataset, table: 'sql_daily', partition: day(d) });
      for (const [i, d] of ['2021-01-01', '2021-01-02', '2021-01-03'].entries()) {
        await a.warehouse.writeSql(SELECT_ALL, { df_1: rowsTable(dayRows(d, 2, i * 10)) }, target(d));
      }
      for (let run = 0; run < 2; run++) {
        const written = await a.warehouse.writeSql(SELECT_ALL, { df_1: rowsTable(dayRows('2021-01-02', 3, 100)) }, target('2021-01-02'));
        expect(written.rows).toBe(3);
      }
      const ids = await a.read(`SELECT id FROM ${a.dataset}.sql_daily ORDER BY id`);
      expect([...ids.getChild('id')!].map(Number)).toEqual([0, 1, 20, 21, 100, 101, 102]);
      const outside = await a.warehouse
        .writeSql(SELECT_ALL, { df_1: rowsTable(dayRows('2021-01-04', 1, 7)) }, target('2021-01-02'))
        .catch((e) => e);
      expect(outside).toBeInstanceOf(DataError);
      expect(await count(a, 'sql_daily')).toBe(7);
    });

    it("lower-case SQL (the Zoomcamp's) finds VendorID and PULocationID after an export", async () => {
      const a = adapter();
      const trips = new Table({
        VendorID: int64Vector(BigInt64Array.of(1n, 2n, 2n)),
        PULocationID: int64Vector(BigInt64Array.of(7n, 8n, 9n)),
      });
      await a.export(trips, { dataset: a.dataset, table: 'mixed_case' });
      const names = (await a.read(`SELECT * FROM ${a.dataset}.mixed_case`)).schema.fields.map((f) => f.name);
      expect(names).toEqual(a.exportedNames);
      const byVendor = await a.read(
        `SELECT vendorid, count(pulocationid) AS n FROM ${a.dataset}.mixed_case GROUP BY vendorid ORDER BY vendorid`,
      );
      expect([...byVendor.getChild('n')!].map(Number)).toEqual([1, 2]);
    });

    it('refuses an input with a repeated column name, naming it', async () => {
      const a = adapter();
      const bad = withRepeatedId(rowsTable(dayRows('2021-01-01', 1, 0)));
      const err = await a.warehouse.writeSql(SELECT_ALL, { df_1: bad }, { dataset: a.dataset, table: 'never' }).catch((e) => e);
      expect(err).toBeInstanceOf(DataError);
      expect(err.message).toContain('"id"');
    });
  });
}

/** `table` with its first column a second time, under the same name. */
function withRepeatedId(table: Table): Table {
  const schema = new Schema([...table.schema.fields, table.schema.fields[0]]);
  const data = makeData({
    type: new Struct(schema.fields),
    length: table.numRows,
    nullCount: 0,
    children: [...table.batches[0].data.children, table.batches[0].data.children[0]],
  });
  return new Table(schema, [new RecordBatch(schema, data)]);
}
