import { describe, expect, it } from 'vitest';
import {
  Bool,
  DateDay,
  DateMillisecond,
  Field,
  Float64,
  Int32,
  Int64,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimeUnit,
  Timestamp,
  Utf8,
  tableFromArrays,
  vectorFromArray,
} from 'apache-arrow';
import type { Data, DataType } from 'apache-arrow';
import { readParquet, writeParquet } from '../../src/io/parquet/index.ts';
import { DataError } from '../../src/errors.ts';
import { taxiLikeTable } from './taxi-like.ts';

function tableOf(columns: Record<string, { type: DataType; values: unknown[] }>): Table {
  const fields: Field[] = [];
  const children: Data[] = [];
  for (const [name, { type, values }] of Object.entries(columns)) {
    fields.push(new Field(name, type, true));
    children.push(
      type instanceof Timestamp ? timestampData(type, values as (bigint | null)[]) : vectorFromArray(values as never, type).data[0],
    );
  }
  const length = children[0].length;
  return new Table([new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length, nullCount: 0, children }))]);
}

/** Arrow's builders take timestamps as JS numbers; build exact 64-bit values directly. */
function timestampData(type: Timestamp, values: (bigint | null)[]): Data {
  const bitmap = new Uint8Array(1);
  values.forEach((v, i) => {
    if (v !== null) bitmap[0] |= 1 << i;
  });
  const nullCount = values.filter((v) => v === null).length;
  return makeData({ type, length: values.length, nullCount, nullBitmap: bitmap, data: BigInt64Array.from(values, (v) => v ?? 0n) });
}

const rowsOf = (t: Table) => t.toArray().map((r) => r.toJSON());

describe('writeParquet / readParquet', () => {
  it('round-trips ints, floats, bools, strings, dates and timestamps with nulls', () => {
    const t = tableOf({
      i32: { type: new Int32(), values: [1, null, -3] },
      i64: { type: new Int64(), values: [2n ** 40n, -1n, null] },
      f64: { type: new Float64(), values: [1.5, null, Number.NaN] },
      ok: { type: new Bool(), values: [true, false, null] },
      s: { type: new Utf8(), values: ['héllo', null, ''] },
      day: { type: new DateDay(), values: [new Date('2021-01-01'), null, new Date('1969-12-31')] },
      ts: { type: new Timestamp(TimeUnit.MICROSECOND), values: [1_609_459_200_123_456n, null, -1n] as never },
    });
    const back = readParquet(writeParquet(t));
    expect(back.schema.fields.map((f) => [f.name, String(f.type)])).toEqual(t.schema.fields.map((f) => [f.name, String(f.type)]));
    expect(back.numRows).toBe(3);
    expect([...back.getChild('i32')!]).toEqual([1, null, -3]);
    expect([...back.getChild('i64')!]).toEqual([2n ** 40n, -1n, null]);
    const f = [...back.getChild('f64')!];
    expect(f[0]).toBe(1.5);
    expect(f[1]).toBeNull();
    expect(Number.isNaN(f[2])).toBe(true);
    expect([...back.getChild('ok')!]).toEqual([true, false, null]);
    expect([...back.getChild('s')!]).toEqual(['héllo', null, '']);
    const days = back.getChild('day')!;
    expect(days.get(0)).toBe(Date.UTC(2021, 0, 1));
    expect(days.get(1)).toBeNull();
    expect(days.get(2)).toBe(Date.UTC(1969, 11, 31));
    const ts = back.getChild('ts')!;
    expect((ts.data[0].values as BigInt64Array)[0]).toBe(1_609_459_200_123_456n);
    expect(ts.get(1)).toBeNull();
    expect((ts.data[0].values as BigInt64Array)[2]).toBe(-1n);
  });

  it('writes timestamps of any unit as microseconds (BigQuery reads NANOS as INT64)', () => {
    const ns = new Timestamp(TimeUnit.NANOSECOND);
    const ms = new Timestamp(TimeUnit.MILLISECOND, 'UTC');
    const t = tableOf({
      ns: { type: ns, values: [1_609_459_200_123_456_789n, null, -1_500n] as never },
      ms: { type: ms, values: [1_609_459_200_123n, -1n, null] as never },
      d64: { type: new DateMillisecond(), values: [new Date('2021-01-02'), null, new Date('1969-12-31')] },
    });
    const back = readParquet(writeParquet(t));
    const nsType = back.getChild('ns')!.type as Timestamp;
    expect(nsType.unit).toBe(TimeUnit.MICROSECOND);
    expect(nsType.timezone ?? null).toBeNull();
    const msType = back.getChild('ms')!.type as Timestamp;
    expect(msType.unit).toBe(TimeUnit.MICROSECOND);
    expect(msType.timezone).toBe('UTC');
    const nsValues = back.getChild('ns')!.data[0].values as BigInt64Array;
    expect(nsValues[0]).toBe(1_609_459_200_123_456n);
    expect(nsValues[2]).toBe(-2n); // floor, as pyarrow
    expect(back.getChild('ns')!.get(1)).toBeNull();
    expect((back.getChild('ms')!.data[0].values as BigInt64Array).slice(0, 2)).toEqual(
      BigInt64Array.from([1_609_459_200_123_000n, -1000n]),
    );
    expect(String(back.getChild('d64')!.type)).toBe(String(new DateDay()));
    expect([...back.getChild('d64')!]).toEqual([Date.UTC(2021, 0, 2), null, Date.UTC(1969, 11, 31)]);
  });

  it('round-trips sliced (offset) and multi-batch tables, and empty ones', () => {
    const t = taxiLikeTable({ rows: 5000, stragglers: 3 });
    const sliced = t.slice(1234, 4321);
    const back = readParquet(writeParquet(sliced, { compression: 'zstd', rowGroupSize: 1000 }));
    expect(back.numRows).toBe(4321 - 1234);
    expect(rowsOf(back.slice(0, 50))).toEqual(rowsOf(sliced.slice(0, 50)));
    expect(back.getChild('VendorID')!.nullCount).toBe(sliced.getChild('VendorID')!.nullCount);

    const empty = readParquet(writeParquet(t.slice(0, 0)));
    expect(empty.numRows).toBe(0);
    expect(empty.schema.fields.map((f) => f.name)).toEqual(t.schema.fields.map((f) => f.name));
  });

  it('keeps dictionary-encoded strings readable', () => {
    const t = tableFromArrays({ zone: ['Queens', 'Bronx', 'Queens'] as never });
    expect([...readParquet(writeParquet(t)).getChild('zone')!]).toEqual(['Queens', 'Bronx', 'Queens']);
  });

  it('reads only the requested columns', () => {
    const t = taxiLikeTable({ rows: 100 });
    const back = readParquet(writeParquet(t), { columns: ['trip_distance', 'VendorID'] });
    expect(back.schema.fields.map((f) => f.name).sort()).toEqual(['VendorID', 'trip_distance']);
  });

  it('names the source when the bytes are not Parquet', () => {
    const attempt = () => readParquet(new TextEncoder().encode('a,b\n1,2\n'), { source: 'file:///lake/x.parquet' });
    expect(attempt).toThrow(DataError);
    expect(attempt).toThrow(/file:\/\/\/lake\/x\.parquet/);
  });
});
