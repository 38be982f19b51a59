/**
 * Reading a column's values without BigInt or per-row objects: numbers as
 * doubles (Int64/Timestamp through their two Int32 words), validity as a
 * bitmap. The building block of `where`, `median` and `fillNull`.
 */
import { type DataType, type Table, TimeUnit, Type, type Data, type Vector } from 'apache-arrow';
import { getBit, newBitmap } from './bitmap.ts';
import { readInt64 } from './int64.ts';

/** The column, or a TypeError listing the columns there are. */
export function columnOf(table: Table, column: string): Vector {
  const vector = table.getChild(column);
  if (!vector) {
    throw new TypeError(`no column ${JSON.stringify(column)}; the table has ${table.schema.fields.map((f) => f.name).join(', ')}`);
  }
  return vector;
}

/** True for types `numericValues` can read. */
export function isNumeric(type: DataType): boolean {
  return [Type.Int, Type.Float, Type.Timestamp, Type.Date, Type.Bool].includes(type.typeId);
}

/**
 * The column as doubles plus a validity bitmap (null when nothing is null).
 * Int64 beyond ±2^53 loses precision; timestamps and dates are epoch
 * milliseconds (like Arrow's `get`), bools 1/0.
 */
export function numericValues(table: Table, column: string): { values: Float64Array; valid: Uint8Array | null } {
  const vector = columnOf(table, column);
  if (!isNumeric(vector.type)) throw new TypeError(`column ${JSON.stringify(column)} is ${vector.type}, not numeric`);
  const values = new Float64Array(vector.length);
  const valid = vector.nullCount > 0 ? newBitmap(vector.length) : null;
  let at = 0;
  for (const data of vector.data) {
    readChunk(data, values, at);
    if (valid) for (let i = 0; i < data.length; i++) if (isValid(data, i)) valid[(at + i) >> 3] |= 1 << ((at + i) & 7);
    at += data.length;
  }
  return { values, valid };
}

/** Whether row `i` of a chunk is non-null. */
export function isValid(data: Data, i: number): boolean {
  return data.nullCount === 0 || !data.nullBitmap || getBit(data.nullBitmap, data.offset + i);
}

function readChunk(data: Data, out: Float64Array, at: number): void {
  readNumbers(data, 0, data.length, out, at);
}

/**
 * Rows `from` .. `from + count` of one chunk as doubles into `out` at `at`
 * (see `numericValues` for the conversions). For walking a long column
 * through a small buffer instead of copying all of it.
 */
export function readNumbers(data: Data, from: number, count: number, out: Float64Array, at = 0): void {
  const type = data.type as DataType & { bitWidth?: number; unit?: number };
  const values = data.values as ArrayLike<number>;
  switch (type.typeId) {
    case Type.Bool:
      for (let i = 0; i < count; i++) out[at + i] = getBit(data.values as Uint8Array, data.offset + from + i) ? 1 : 0;
      return;
    case Type.Int:
      if (type.bitWidth === 64) return readWide(data, from, count, out, at, 1);
      for (let i = 0; i < count; i++) out[at + i] = values[from + i];
      return;
    case Type.Float:
      if (type.bitWidth === 16) throw new TypeError('float16 columns are not supported');
      for (let i = 0; i < count; i++) out[at + i] = values[from + i];
      return;
    case Type.Date:
      if (values instanceof Int32Array) for (let i = 0; i < count; i++) out[at + i] = values[from + i] * 86_400_000;
      else readWide(data, from, count, out, at, 1);
      return;
    case Type.Timestamp:
      return readWide(
        data,
        from,
        count,
        out,
        at,
        type.unit === TimeUnit.SECOND ? 1000 : type.unit === TimeUnit.MILLISECOND ? 1 : type.unit === TimeUnit.MICROSECOND ? 1e-3 : 1e-6,
      );
  }
}

function readWide(data: Data, from: number, count: number, out: Float64Array, at: number, scale: number): void {
  const v = data.values as BigInt64Array;
  const words = new Int32Array(v.buffer, v.byteOffset, data.length * 2);
  if (scale === 1) for (let i = 0; i < count; i++) out[at + i] = readInt64(words, from + i);
  else for (let i = 0; i < count; i++) out[at + i] = readInt64(words, from + i) * scale;
}
