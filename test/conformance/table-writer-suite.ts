/**
 * One set of write rules for every table writer: the DuckDB and BigQuery
 * warehouses' `export` and the Postgres connector's `export`. Each adapter
 * file (duckdb.test.ts, bigquery.test.ts, postgres.test.ts) calls
 * `tableWriterSuite` with a few lines of glue, so every implementation is held
 * to the same cases.
 */
import { RecordBatch, Schema, Struct, Table, makeData, vectorFromArray } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { ConfigError, DataError, isPipekitError } from '../../src/errors.ts';
import type { IfExists, PartitionScope } from '../../src/io/types.ts';
import { dateVector, float64Vector, int64Vector } from '../../src/table/index.ts';

export interface WriteTarget {
  readonly table: string;
  readonly ifExists?: IfExists;
  readonly partition?: PartitionScope;
}

export interface TableWriterAdapter {
  /** Writes to the table `target.table` of the adapter's test schema / dataset. */
  write(table: Table, target: WriteTarget): Promise<{ rows: number }>;
  /** Runs a query; `t(name)` is how the query names a table of the test schema. */
  query(sql: string): Promise<Table>;
  t(name: string): string;
}

export interface Row {
  id: number;
  day: string;
  amount: number | string | null;
}

const DAY_MS = 86_400_000;
const dayNumber = (day: string) => Date.parse(`${day}T00:00:00Z`) / DAY_MS;
const DAYS = ['2021-01-01', '2021-01-02', '2021-01-03'];

/** Rows with an id, a DATE `day` and an `amount` (a string column when any amount is a string). */
export function rowsTable(rows: readonly Row[]): Table {
  const textual = rows.some((r) => typeof r.amount === 'string');
  return new Table({
    id: int64Vector(BigInt64Array.from(rows.map((r) => BigInt(r.id)))),
    day: dateVector(Int32Array.from(rows.map((r) => dayNumber(r.day)))),
    amount: textual
      ? vectorFromArray(rows.map((r) => (r.amount === null ? null : String(r.amount))))
      : float64Vector(Float64Array.from(rows.map((r) => Number(r.amount ?? Number.NaN)))),
  });
}

/** A day's rows: ids `base + 0..n-1`, all on `day`. */
export function dayRows(day: string, n: number, base: number, amount = 1): Row[] {
  return Array.from({ length: n }, (_, i) => ({ id: base + i, day, amount: amount + i }));
}

/** The table's rows as plain values, sorted by id. */
export async function readRows(adapter: TableWriterAdapter, name: string): Promise<Row[]> {
  const table = await adapter.query(`SELECT * FROM ${adapter.t(name)}`);
  const out: Row[] = [];
  const [id, day, amount] = ['id', 'day', 'amount'].map((c) => table.getChild(c)!);
  for (let i = 0; i < table.numRows; i++) {
    const d = day.get(i) as number | Date | string;
    out.push({
      id: Number(id.get(i)),
      day: typeof d === 'string' ? d.slice(0, 10) : new Date(typeof d === 'number' ? d : d.getTime()).toISOString().slice(0, 10),
      amount: amount.get(i) === null ? null : Number(amount.get(i)),
    });
  }
  return out.sort((a, b) => a.id - b.id);
}

const scopeOf = (day: string): PartitionScope => ({
  column: 'day',
  start: new Date(`${day}T00:00:00Z`),
  end: new Date(Date.parse(`${day}T00:00:00Z`) + DAY_MS),
});

export function tableWriterSuite(name: string, adapter: () => TableWriterAdapter): void {
  describe(`${name}: table write rules`, () => {
    it('creates the table; replace swaps the rows, append adds, fail refuses an existing table and keeps its rows', async () => {
      const a = adapter();
      expect((await a.write(rowsTable(dayRows(DAYS[0], 3, 0)), { table: 'rules' })).rows).toBe(3);
      await a.write(rowsTable(dayRows(DAYS[1], 2, 10)), { table: 'rules', ifExists: 'replace' });
      expect((await readRows(a, 'rules')).map((r) => r.id)).toEqual([10, 11]);
      await a.write(rowsTable(dayRows(DAYS[2], 1, 20)), { table: 'rules', ifExists: 'append' });
      expect((await readRows(a, 'rules')).map((r) => r.id)).toEqual([10, 11, 20]);
      const refused = await a.write(rowsTable(dayRows(DAYS[0], 1, 30)), { table: 'rules', ifExists: 'fail' }).catch((e) => e);
      expect(isPipekitError(refused)).toBe(true);
      expect((await readRows(a, 'rules')).map((r) => r.id)).toEqual([10, 11, 20]);
    });

    it('refuses a table with a repeated column name, naming it, and writes nothing', async () => {
      const a = adapter();
      await a.write(rowsTable(dayRows(DAYS[0], 2, 0)), { table: 'repeated' });
      const err = await a.write(duplicateAmount(rowsTable(dayRows(DAYS[0], 2, 5))), { table: 'repeated' }).catch((e) => e);
      expect(err).toBeInstanceOf(DataError);
      expect(err.message).toContain('"amount" (column 3, column 4)');
      expect((await readRows(a, 'repeated')).map((r) => r.id)).toEqual([0, 1]);
    });

    it("partition replace: a re-run of one day replaces exactly that day's rows; the first write creates the table", async () => {
      const a = adapter();
      for (const [i, day] of DAYS.entries()) await a.write(rowsTable(dayRows(day, 3, i * 10)), { table: 'daily', partition: scopeOf(day) });
      for (let run = 0; run < 2; run++) {
        const result = await a.write(rowsTable(dayRows(DAYS[1], 2, 100, 50)), { table: 'daily', partition: scopeOf(DAYS[1]) });
        expect(result.rows).toBe(2);
      }
      const rows = await readRows(a, 'daily');
      expect(rows.map((r) => r.id)).toEqual([0, 1, 2, 20, 21, 22, 100, 101]);
      expect(rows.filter((r) => r.day === DAYS[1])).toEqual([
        { id: 100, day: DAYS[1], amount: 50 },
        { id: 101, day: DAYS[1], amount: 51 },
      ]);
    });

    it('partition replace by named values', async () => {
      const a = adapter();
      await a.write(rowsTable([...dayRows(DAYS[0], 2, 0), ...dayRows(DAYS[1], 2, 10), ...dayRows(DAYS[2], 2, 20)]), { table: 'by_values' });
      await a.write(rowsTable([...dayRows(DAYS[0], 1, 50), ...dayRows(DAYS[2], 1, 60)]), {
        table: 'by_values',
        partition: { column: 'day', values: [DAYS[0], DAYS[2]] },
      });
      expect((await readRows(a, 'by_values')).map((r) => r.id)).toEqual([10, 11, 50, 60]);
    });

    it('refuses new rows outside the partition, naming the value, and writes nothing', async () => {
      const a = adapter();
      await a.write(rowsTable(dayRows(DAYS[0], 2, 0)), { table: 'outside', partition: scopeOf(DAYS[0]) });
      const err = await a
        .write(rowsTable([...dayRows(DAYS[0], 1, 5), ...dayRows(DAYS[1], 1, 6)]), { table: 'outside', partition: scopeOf(DAYS[0]) })
        .catch((e) => e);
      expect(err).toBeInstanceOf(DataError);
      expect(err.message).toContain('outside the partition');
      expect(err.message).toContain(DAYS[1]);
      expect((await readRows(a, 'outside')).map((r) => r.id)).toEqual([0, 1]);
    });

    it('a partition scope with append or fail is a configuration error', async () => {
      const err = await adapter()
        .write(rowsTable(dayRows(DAYS[0], 1, 0)), { table: 'bad_scope', ifExists: 'append', partition: scopeOf(DAYS[0]) })
        .catch((e) => e);
      expect(err).toBeInstanceOf(ConfigError);
    });

    it('a failure half-way through a partition replace leaves the previous rows', async () => {
      const a = adapter();
      for (const day of DAYS) await a.write(rowsTable(dayRows(day, 2, dayNumber(day))), { table: 'atomic', partition: scopeOf(day) });
      const before = await readRows(a, 'atomic');
      // The day's old rows are deleted first; then a value the table's DOUBLE column cannot take stops the insert.
      const poisoned = rowsTable([
        { id: 1, day: DAYS[1], amount: '1.5' },
        { id: 2, day: DAYS[1], amount: 'oops' },
      ]);
      await expect(a.write(poisoned, { table: 'atomic', partition: scopeOf(DAYS[1]) })).rejects.toThrow();
      expect(await readRows(a, 'atomic')).toEqual(before);
    });
  });
}

/** `table` with its `amount` column a second time, under the same name: the shape a bad header or a careless schema makes. */
function duplicateAmount(table: Table): Table {
  const amount = table.getChild('amount')!;
  const field = table.schema.fields.find((f) => f.name === 'amount')!;
  const schema = new Schema([...table.schema.fields, field]);
  const data = makeData({
    type: new Struct(schema.fields),
    length: table.numRows,
    nullCount: 0,
    children: [...table.batches[0].data.children, amount.data[0]],
  });
  return new Table(schema, [new RecordBatch(schema, data)]);
}
