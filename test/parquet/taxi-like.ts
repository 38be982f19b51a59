/**
 * A generated table shaped like the NYC yellow taxi month the Zoomcamp loads
 * (18 columns, Int64 / Timestamp[µs] / Float64 / Utf8, nulls in the Int64
 * columns), built straight from typed arrays so big tables are cheap.
 */
import { Field, Float64, Int64, makeData, RecordBatch, Schema, Struct, Table, TimeUnit, Timestamp, Utf8 } from 'apache-arrow';
import type { Data } from 'apache-arrow';
import { TAXI_FLOAT_COLUMNS, TAXI_INT_COLUMNS } from '../support/taxi-columns.ts';

const DAY_US = 86_400_000_000n;
/** 2021-01-01T00:00:00 in microseconds since the epoch. */
export const JAN_1_2021_US = 1_609_459_200_000_000n;

export interface TaxiLikeOptions {
  readonly rows: number;
  /** Days of January covered (1..31). Default 31. */
  readonly days?: number;
  /** Rows whose pickup is on 2020-12-31 (the straggler of the real file). Default 0. */
  readonly stragglers?: number;
  /** Every n-th row has null VendorID / passenger_count (0 = none). Default 50. */
  readonly nullEvery?: number;
}

/** Builds the table in one record batch; row i's pickup is on day `i % days` (stragglers first). */
export function taxiLikeTable(options: TaxiLikeOptions): Table {
  const n = options.rows;
  const days = options.days ?? 31;
  const stragglers = options.stragglers ?? 0;
  const nullEvery = options.nullEvery ?? 50;

  const pickup = new BigInt64Array(n);
  const dropoff = new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    const day = i < stragglers ? -1n : BigInt(i % days);
    const within = BigInt((i * 7919) % 86_000) * 1_000_000n;
    pickup[i] = JAN_1_2021_US + day * DAY_US + within;
    dropoff[i] = pickup[i] + BigInt(300 + (i % 1200)) * 1_000_000n;
  }

  const validity = new Uint8Array(Math.ceil(n / 8)).fill(0xff);
  let nulls = 0;
  if (nullEvery > 0) {
    for (let i = nullEvery - 1; i < n; i += nullEvery) {
      validity[i >> 3] &= ~(1 << (i & 7));
      nulls++;
    }
  }

  const fields: Field[] = [];
  const children: Data[] = [];
  const add = (field: Field, data: Data) => {
    fields.push(field);
    children.push(data);
  };
  for (const name of TAXI_INT_COLUMNS) {
    const values = new BigInt64Array(n);
    for (let i = 0; i < n; i++) values[i] = BigInt((i * (name.length + 3)) % (name === 'passenger_count' ? 7 : 265));
    const nullable = name === 'VendorID' || name === 'passenger_count';
    add(
      new Field(name, new Int64(), true),
      makeData({
        type: new Int64(),
        length: n,
        data: values,
        nullCount: nullable ? nulls : 0,
        nullBitmap: nullable && nulls ? validity : undefined,
      }),
    );
  }
  const ts = new Timestamp(TimeUnit.MICROSECOND);
  add(new Field('tpep_pickup_datetime', ts, true), makeData({ type: ts, length: n, data: pickup }));
  add(new Field('tpep_dropoff_datetime', ts, true), makeData({ type: ts, length: n, data: dropoff }));
  for (const name of TAXI_FLOAT_COLUMNS) {
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) values[i] = Math.round((i * 37 + name.length) % 10_000) / 100;
    add(new Field(name, new Float64(), true), makeData({ type: new Float64(), length: n, data: values }));
  }
  // store_and_fwd_flag: "N" mostly, "Y" sometimes, null with the nullable ints.
  const offsets = new Int32Array(n + 1);
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    bytes[i] = i % 97 === 0 ? 0x59 : 0x4e;
    offsets[i + 1] = i + 1;
  }
  add(
    new Field('store_and_fwd_flag', new Utf8(), true),
    makeData({
      type: new Utf8(),
      length: n,
      valueOffsets: offsets,
      data: bytes,
      nullCount: nulls,
      nullBitmap: nulls ? validity : undefined,
    }),
  );

  const schema = new Schema(fields);
  const struct = makeData({ type: new Struct(fields), length: n, nullCount: 0, children });
  return new Table([new RecordBatch(schema, struct)]);
}

/** The 1,369,765 rows of the real January 2021 file. */
export const TAXI_MONTH_ROWS = 1_369_765;
