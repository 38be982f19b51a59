/**
 * Column fix-ups applied before a table is written to Parquet, so that every
 * reader — BigQuery load jobs above all — sees the types users expect.
 */
import { type Data, DateDay, Field, makeData, Schema, Table, TimeUnit, Timestamp, Type, Vector } from 'apache-arrow';
import type { DataType } from 'apache-arrow';

/** Micro-seconds per unit, indexed by `TimeUnit`. */
const MICROS_PER_UNIT: Record<TimeUnit, bigint> = {
  [TimeUnit.SECOND]: 1_000_000n,
  [TimeUnit.MILLISECOND]: 1_000n,
  [TimeUnit.MICROSECOND]: 1n,
  [TimeUnit.NANOSECOND]: 0n, // handled by division below
};

/**
 * Returns the table with timestamps in microseconds and Date64 as DateDay.
 *
 * Why: BigQuery reads Parquet `TIMESTAMP(NANOS)` as INT64 (Mage issue #4582,
 * pandas' default) and DATE must be the INT32 day count. Micro-seconds are
 * also what DuckDB and Postgres store, so nothing is lost in practice.
 * Returns the same instance when nothing needs converting (the usual case).
 */
export function normalizeForParquet(table: Table): Table {
  const fields = table.schema.fields;
  if (isNormalForParquet(table)) return table;

  const newFields: Field[] = [];
  const columns: Record<string, Vector> = {};
  fields.forEach((field, i) => {
    const vector = table.getChildAt(i)!;
    if (!needsConversion(field.type)) {
      newFields.push(field);
      columns[field.name] = vector;
      return;
    }
    const converted = new Vector(vector.data.map((d) => convertData(d)));
    newFields.push(new Field(field.name, converted.type, field.nullable, field.metadata));
    columns[field.name] = converted;
  });
  const schema = new Schema(newFields, table.schema.metadata);
  return new Table(schema, columns as never);
}

/** Whether normalizeForParquet would return `table` as it is. */
export function isNormalForParquet(table: Table): boolean {
  return !table.schema.fields.some((f) => needsConversion(f.type));
}

function needsConversion(type: DataType): boolean {
  if (type.typeId === Type.Timestamp) return (type as Timestamp).unit !== TimeUnit.MICROSECOND;
  return type.typeId === Type.Date && (type as DateDay).unit !== 0; // DateUnit.DAY === 0
}

function convertData(data: Data): Data {
  if (data.type.typeId === Type.Timestamp) {
    const type = data.type as Timestamp;
    const source = data.values as BigInt64Array;
    const out = new BigInt64Array(data.length);
    const offset = data.offset;
    if (type.unit === TimeUnit.NANOSECOND) {
      // Floor division so that pre-1970 instants round toward the past, as pyarrow does.
      for (let i = 0; i < out.length; i++) {
        const v = source[offset + i];
        out[i] = v >= 0n ? v / 1000n : -((-v + 999n) / 1000n);
      }
    } else {
      const factor = MICROS_PER_UNIT[type.unit];
      for (let i = 0; i < out.length; i++) out[i] = source[offset + i] * factor;
    }
    return makeData({
      type: new Timestamp(TimeUnit.MICROSECOND, type.timezone),
      length: data.length,
      nullCount: data.nullCount,
      nullBitmap: sliceBitmap(data),
      data: out,
    });
  }
  // Date64 (milliseconds since epoch) → days since epoch.
  const source = data.values as unknown as BigInt64Array | Int32Array;
  const out = new Int32Array(data.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.floor(Number(source[data.offset + i]) / 86_400_000);
  return makeData({ type: new DateDay(), length: data.length, nullCount: data.nullCount, nullBitmap: sliceBitmap(data), data: out });
}

/** The validity bitmap re-based to offset 0 (new Data starts at offset 0). */
function sliceBitmap(data: Data): Uint8Array | undefined {
  if (!data.nullBitmap || data.nullCount === 0) return undefined;
  if (data.offset === 0) return data.nullBitmap;
  const out = new Uint8Array(Math.ceil(data.length / 8));
  for (let i = 0; i < data.length; i++) {
    const j = data.offset + i;
    if (data.nullBitmap[j >> 3] & (1 << (j & 7))) out[i >> 3] |= 1 << (i & 7);
  }
  return out;
}
