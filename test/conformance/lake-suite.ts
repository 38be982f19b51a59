/**
 * One set of rules for every lake: the local folder and GCS (through its
 * fake). Called by lake-local.test.ts and lake-gcs.test.ts.
 */
import { RecordBatch, Schema, Struct, Table, makeData } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { DataError, NotFoundError } from '../../src/errors.ts';
import type { Lake } from '../../src/io/types.ts';
import { dayRows, rowsTable } from './table-writer-suite.ts';

export interface LakeAdapter {
  readonly lake: Lake;
  /** The URI `lake.store.url('')` starts with, e.g. `gs://bucket/prefix/` or `file:///…/`. */
  readonly uri: string;
}

let unique = 0;
/** A fresh prefix per test, so cases never see each other's objects. */
const fresh = (stem: string) => `conformance/${stem}-${++unique}`;
const ids = (table: Table) => [...table.getChild('id')!].map(Number).sort((a, b) => a - b);

/** `table` with its first column a second time, under the same name: what a bad header or a careless schema makes. */
function withRepeatedColumn(table: Table): Table {
  const schema = new Schema([...table.schema.fields, table.schema.fields[0]]);
  const children = table.batches[0].data.children;
  return new Table(schema, [
    new RecordBatch(
      schema,
      makeData({ type: new Struct(schema.fields), length: table.numRows, nullCount: 0, children: [...children, children[0]] }),
    ),
  ]);
}

export function lakeSuite(name: string, adapter: () => LakeAdapter): void {
  describe(`${name}: lake rules`, () => {
    it.each(['parquet', 'csv', 'csv.gz', 'json'])('writes and reads .%s with every column under its own name', async (extension) => {
      const { lake, uri } = adapter();
      const key = `${fresh('single')}/trips.${extension}`;
      const result = await lake.write(rowsTable(dayRows('2021-01-01', 3, 0)), key);
      expect(result.rows).toBe(3);
      expect(result.target.startsWith(uri)).toBe(true);
      const back = await lake.read(key);
      expect(back.schema.fields.map((f) => f.name)).toEqual(['id', 'day', 'amount']);
      expect(ids(back)).toEqual([0, 1, 2]);
      expect([...back.getChild('amount')!].map(Number)).toEqual([1, 2, 3]);
    });

    it('a missing object is a NotFoundError, never an empty table', async () => {
      await expect(adapter().lake.read(`${fresh('missing')}/nothing.parquet`)).rejects.toBeInstanceOf(NotFoundError);
    });

    it('refuses a table with a repeated column name, single or partitioned, and writes nothing', async () => {
      const { lake } = adapter();
      const prefix = fresh('repeated');
      const bad = withRepeatedColumn(rowsTable(dayRows('2021-01-01', 2, 0)));
      const single = await lake.write(bad, `${prefix}/trips.parquet`).catch((e) => e);
      expect(single).toBeInstanceOf(DataError);
      expect(single.message).toContain('"id" (column 1, column 4)');
      const partitioned = await lake.writePartitioned(bad, `${prefix}/by_day`, { partitionBy: 'day' }).catch((e) => e);
      expect(partitioned).toBeInstanceOf(DataError);
      expect(await lake.store.list(`${prefix}/`)).toEqual([]);
    });

    it('a partitioned write replaces the partitions it writes and keeps the others; append adds', async () => {
      const { lake } = adapter();
      const prefix = fresh('partitioned');
      const first = await lake.writePartitioned(rowsTable([...dayRows('2021-01-01', 2, 0), ...dayRows('2021-01-02', 2, 10)]), prefix, {
        partitionBy: 'day',
      });
      expect(first.partitions.map((p) => [p.value, p.rows])).toEqual([
        ['2021-01-01', 2],
        ['2021-01-02', 2],
      ]);
      for (let run = 0; run < 2; run++)
        await lake.writePartitioned(rowsTable(dayRows('2021-01-02', 3, 20)), prefix, { partitionBy: 'day' });
      expect(ids(await lake.readPartitioned(prefix))).toEqual([0, 1, 20, 21, 22]);
      await lake.writePartitioned(rowsTable(dayRows('2021-01-01', 1, 30)), prefix, { partitionBy: 'day', mode: 'append' });
      expect(ids(await lake.readPartitioned(prefix))).toEqual([0, 1, 20, 21, 22, 30]);
      expect(ids(await lake.readPartitioned(prefix, { filter: { day: ['2021-01-02'] } }))).toEqual([20, 21, 22]);
    });
  });
}
