import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import {
  Binary,
  Bool,
  DateDay,
  Decimal,
  Float32,
  Float64,
  Int8,
  Int16,
  Int32,
  Int64,
  List,
  Field,
  Table,
  TimestampMicrosecond,
  TimestampMillisecond,
  TimestampNanosecond,
  TimestampSecond,
  Uint8,
  Uint64,
  Utf8,
  makeData,
  makeVector,
  tableFromArrays,
  vectorFromArray,
  RecordBatch,
  Schema,
  Struct,
} from 'apache-arrow';
import { canScan, scanArrow } from '../../src/io/duckdb/arrow-scan.ts';
import { concatTables } from '../../src/table/index.ts';
import { take } from '../../src/table/take.ts';

let instance: DuckDBInstance;
let connection: DuckDBConnection;
beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:');
  connection = await instance.connect();
});
afterAll(() => {
  connection.closeSync();
  instance.closeSync();
});

const read = async (sql: string) => (await connection.runAndReadAll(sql)).getRowsJS();

/** Scans `table` (or its rows `only`) with `select` (use `t` for the scan) and releases it. */
async function scan(table: Table, select = 'SELECT * FROM t', only?: Int32Array) {
  const { sql, release } = scanArrow(connection, table, only);
  try {
    return await read(`WITH t AS (SELECT * FROM ${sql}) ${select}`);
  } finally {
    release();
  }
}

describe('pipekit_arrow: Arrow tables as DuckDB relations', () => {
  it('copies every supported type with its nulls, across vectors and record batches', async () => {
    const n = 5000; // more than two 2,048-row vectors
    const at = (i: number) => i % 7 !== 3; // a null every 7 rows
    const col = <T>(type: any, f: (i: number) => T) =>
      vectorFromArray(
        Array.from({ length: n }, (_, i) => (at(i) ? f(i) : null)),
        type,
      );
    const table = new Table({
      i8: col(new Int8(), (i) => (i % 200) - 100),
      i16: col(new Int16(), (i) => i - 2500),
      i32: col(new Int32(), (i) => i * 1000),
      i64: col(new Int64(), (i) => BigInt(i) * 10_000_000_000n),
      u8: col(new Uint8(), (i) => i % 256),
      u64: col(new Uint64(), (i) => BigInt(i)),
      f32: col(new Float32(), (i) => i / 4),
      f64: col(new Float64(), (i) => i / 3),
      flag: col(new Bool(), (i) => i % 3 === 0),
      day: col(new DateDay(), (i) => new Date(Date.UTC(2021, 0, 1 + (i % 31)))),
      ts_s: col(new TimestampSecond(), (i) => 1_609_459_200_000 + i * 1000),
      ts_ms: col(new TimestampMillisecond(), (i) => 1_609_459_200_000 + i),
      ts_us: col(new TimestampMicrosecond(), (i) => 1_609_459_200_000 + i),
      ts_ns: col(new TimestampNanosecond(), (i) => 1_609_459_200_000 + i),
      // Around DuckDB's 12-byte inline limit, empty, and multi-byte UTF-8.
      s: col(
        new Utf8(),
        (i) => ['', 'N', 'Y', 'twelve bytes', 'thirteen byte', 'Zürich — 東京 and a long tail', 'x'.repeat(i % 40)][i % 7],
      ),
      bin: col(new Binary(), (i) => new Uint8Array([i & 255, 0, 255].slice(0, i % 4))),
    });
    const twoBatches = concatTables([table.slice(0, 1234), table.slice(1234)]);
    expect(twoBatches.batches.length).toBe(2);

    const rows = await scan(twoBatches, 'SELECT * FROM t');
    expect(rows).toHaveLength(n);
    for (const i of [0, 1, 2, 3, 4, 5, 6, 2047, 2048, 2049, 4999]) {
      const row = rows[i];
      if (!at(i)) {
        expect(
          row.every((v) => v === null),
          `row ${i} is all null`,
        ).toBe(true);
        continue;
      }
      const expected = table.get(i)!.toJSON();
      expect(row[0]).toBe(expected.i8);
      expect(row[1]).toBe(expected.i16);
      expect(row[2]).toBe(expected.i32);
      expect(row[3]).toBe(expected.i64);
      expect(row[4]).toBe(expected.u8);
      expect(row[5]).toBe(expected.u64);
      expect(row[6]).toBe(expected.f32);
      expect(row[7]).toBe(expected.f64);
      expect(row[8]).toBe(expected.flag);
      expect((row[9] as Date).getTime()).toBe(expected.day);
      expect((row[10] as Date).getTime()).toBe(1_609_459_200_000 + i * 1000);
      expect((row[11] as Date).getTime()).toBe(1_609_459_200_000 + i);
      expect(row[14]).toBe(expected.s);
      expect(Array.from(row[15] as Uint8Array)).toEqual(Array.from(expected.bin as Uint8Array));
    }
    // Exact sub-millisecond values (vectorFromArray takes milliseconds, so these are built from raw counts).
    const ticks = (type: TimestampMicrosecond | TimestampNanosecond, values: bigint[]) =>
      makeVector(makeData({ type, length: values.length, data: BigInt64Array.from(values) }));
    const exact = new Table({
      us: ticks(new TimestampMicrosecond(), [1_609_459_200_000_001n]),
      ns: ticks(new TimestampNanosecond(), [1_609_459_200_000_000_001n]),
    });
    expect(await scan(exact, 'SELECT us::VARCHAR, ns::VARCHAR FROM t')).toEqual([
      ['2021-01-01 00:00:00.000001', '2021-01-01 00:00:00.000000001'],
    ]);
    expect(await scan(twoBatches, 'SELECT count(*), count(s), count(DISTINCT s), sum(i64) FROM t')).toEqual([
      [
        BigInt(n),
        BigInt(rows.filter((r) => r[14] !== null).length),
        BigInt(new Set(rows.map((r) => r[14]).filter((v) => v !== null)).size),
        rows.reduce((a, r) => a + ((r[3] as bigint | null) ?? 0n), 0n),
      ],
    ]);
  });

  it('reads sliced Arrow data (offsets not on a byte) the same as the whole', async () => {
    const values = Array.from({ length: 3000 }, (_, i) => (i % 5 === 0 ? null : i));
    const table = new Table({
      n: vectorFromArray(values, new Int32()),
      b: vectorFromArray(
        values.map((v) => (v === null ? null : v % 2 === 0)),
        new Bool(),
      ),
    });
    const sliced = table.slice(3, 2900);
    const rows = await scan(sliced, 'SELECT n, b FROM t');
    expect(rows.map((r) => r[0])).toEqual(values.slice(3, 2900));
    expect(rows.map((r) => r[1])).toEqual(values.slice(3, 2900).map((v) => (v === null ? null : v % 2 === 0)));
  });

  it('reads only the columns a query asks for, and serves two scans of one table in one query', async () => {
    const table = tableFromArrays({ a: Int32Array.from([1, 2, 3]), b: Float64Array.from([0.5, 1.5, 2.5]) });
    expect(await scan(table, 'SELECT b FROM t ORDER BY b DESC')).toEqual([[2.5], [1.5], [0.5]]);
    expect(await scan(table, 'SELECT x.a, y.b FROM t x JOIN t y ON x.a = y.a ORDER BY 1')).toEqual([
      [1, 0.5],
      [2, 1.5],
      [3, 2.5],
    ]);
  });

  it('decodes dictionary-encoded strings (what tableFromArrays makes of string arrays)', async () => {
    const table = tableFromArrays({ zone: ['Midtown', null as unknown as string, 'JFK Airport and its long name', 'Midtown'] });
    expect(String(table.schema.fields[0].type)).toMatch(/^Dictionary/);
    expect(await scan(table, 'SELECT zone FROM t')).toEqual([['Midtown'], [null], ['JFK Airport and its long name'], ['Midtown']]);
  });

  it('scans an empty table', async () => {
    const empty = tableFromArrays({ a: Int32Array.from([]) });
    expect(await scan(empty, 'SELECT count(*) FROM t')).toEqual([[0n]]);
  });

  it('leaves types it does not copy, and duplicate column names, to Parquet staging', () => {
    expect(canScan(tableFromArrays({ a: Int32Array.from([1]), s: ['x'] }))).toBe(true); // s is Dictionary<Int32, Utf8>
    expect(canScan(new Table({ d: makeVector(makeData({ type: new Decimal(2, 10, 128), length: 1, data: new Uint32Array(4) })) }))).toBe(
      false,
    );
    expect(canScan(new Table({ l: vectorFromArray([[1]], new List(new Field('item', new Int32()))) }))).toBe(false);
    const a = vectorFromArray([1], new Int32());
    expect(
      canScan(
        new Table([
          new RecordBatch(
            new Schema([new Field('x', new Int32()), new Field('x', new Int32())]),
            makeData({
              type: new Struct([new Field('x', new Int32()), new Field('x', new Int32())]),
              length: 1,
              children: [a.data[0], a.data[0]],
            }),
          ),
        ]),
      ),
    ).toBe(false);
  });

  it('a selection scan reads the rows it is given, across record batches and slices, as the gathered table', async () => {
    const n = 6000;
    const at = (i: number) => i % 7 !== 3;
    const col = <T>(type: any, f: (i: number) => T) =>
      vectorFromArray(
        Array.from({ length: n }, (_, i) => (at(i) ? f(i) : null)),
        type,
      );
    const whole = new Table({
      i32: col(new Int32(), (i) => i * 3),
      i64: col(new Int64(), (i) => BigInt(i) * 10_000_000_000n),
      i16: col(new Int16(), (i) => i - 3000),
      u8: col(new Uint8(), (i) => i % 256),
      f64: col(new Float64(), (i) => i / 3),
      flag: col(new Bool(), (i) => i % 3 === 0),
      day: col(new DateDay(), (i) => new Date(Date.UTC(2021, 0, 1 + (i % 31)))),
      ts: col(new TimestampMicrosecond(), (i) => 1_609_459_200_000 + i),
      s: col(new Utf8(), (i) => ['', 'N', 'twelve bytes', 'thirteen byte', 'Zürich — 東京 and a long tail'][i % 5]),
    });
    // Three batches, the middle one a slice whose bitmaps start mid-byte.
    const table = concatTables([whole.slice(0, 1501), whole.slice(1501, 4003), whole.slice(4003)]);
    expect(table.batches.length).toBe(3);
    const rows = Int32Array.from({ length: n }, (_, i) => i).filter((i) => i % 3 === 0 || (i > 1400 && i < 1600) || i > 5990);
    const expected = await scan(take(table, rows));
    expect(await scan(table, 'SELECT * FROM t', rows)).toEqual(expected);
    expect(expected).toHaveLength(rows.length);
    expect(await scan(tableFromArrays({ zone: ['a', 'b', 'c', 'a'] }), 'SELECT zone FROM t', Int32Array.from([1, 3]))).toEqual([
      ['b'],
      ['a'],
    ]);
    expect(await scan(table, 'SELECT count(*) FROM t', new Int32Array(0))).toEqual([[0n]]);
    expect(() => scanArrow(connection, table, Int32Array.from([2, 1]))).toThrow(
      /rows must be ascending row numbers below 6000; row 1 is 1/,
    );
    expect(() => scanArrow(connection, table, Int32Array.from([6000]))).toThrow(RangeError);
  });

  it('fails a query over a released table with a message naming the function', async () => {
    const { sql, release } = scanArrow(connection, tableFromArrays({ a: Int32Array.from([1]) }));
    release();
    await expect(read(`SELECT * FROM ${sql}`)).rejects.toThrow(/pipekit_arrow: no table with this id/);
  });
});
