/** Replacing nulls. */
import { type Table, Type, type Vector } from 'apache-arrow';
import { int64Words, writeInt64 } from './int64.ts';
import { float64Vector, int32Vector, int64Vector, timestampVector, utf8Vector, dateVector, boolVector } from './make.ts';
import { getBit } from './bitmap.ts';
import { columnOf, isValid } from './values.ts';
import { take } from './take.ts';
import { withColumn } from './columns.ts';

/**
 * Replaces the nulls of one column by `value` (pandas' `fillna` on a
 * column); the column keeps its type. Numbers fill numeric columns
 * (timestamps and dates take epoch milliseconds or a `Date`), strings fill
 * Utf8, booleans fill Bool.
 *
 * @throws TypeError when the value does not suit the column's type.
 */
export function fillNull(table: Table, column: string, value: number | bigint | string | boolean | Date): Table {
  const source = columnOf(table, column);
  if (source.nullCount === 0) return table;
  const flat = source.data.length === 1 ? source.data[0] : take(table.select([column]), identity(table.numRows)).getChildAt(0)!.data[0];
  const n = flat.length;
  const type = flat.type;
  const mismatch = () => new TypeError(`fillNull: ${JSON.stringify(value)} cannot fill column ${JSON.stringify(column)} of type ${type}`);
  let filled: Vector;
  switch (type.typeId) {
    case Type.Float:
    case Type.Int: {
      const num = typeof value === 'bigint' ? Number(value) : value;
      if (typeof num !== 'number') throw mismatch();
      if ((type as any).bitWidth === 64 && type.typeId === Type.Int) {
        const out = (flat.values as BigInt64Array).slice(0, n);
        const words = int64Words(out);
        for (let i = 0; i < n; i++) if (!isValid(flat, i)) writeInt64(words, i, Math.trunc(num));
        filled = int64Vector(out);
      } else {
        const out = (flat.values as any).slice(0, n);
        for (let i = 0; i < n; i++) if (!isValid(flat, i)) out[i] = num;
        if (out instanceof Float64Array) filled = float64Vector(out);
        else if (out instanceof Int32Array) filled = int32Vector(out);
        else throw new TypeError(`fillNull: column ${JSON.stringify(column)} of type ${type} is not supported`);
      }
      break;
    }
    case Type.Timestamp:
    case Type.Date: {
      const ms = value instanceof Date ? value.getTime() : value;
      if (typeof ms !== 'number') throw mismatch();
      if (type.typeId === Type.Date && flat.values instanceof Int32Array) {
        const out = flat.values.slice(0, n);
        for (let i = 0; i < n; i++) if (!isValid(flat, i)) out[i] = Math.floor(ms / 86_400_000);
        filled = dateVector(out);
      } else {
        if ((type as any).unit !== 2)
          throw new TypeError(`fillNull: only microsecond timestamps are supported, column ${JSON.stringify(column)} is ${type}`);
        const out = (flat.values as BigInt64Array).slice(0, n);
        const words = int64Words(out);
        for (let i = 0; i < n; i++) if (!isValid(flat, i)) writeInt64(words, i, Math.round(ms * 1000));
        filled = timestampVector(out);
      }
      break;
    }
    case Type.Utf8: {
      if (typeof value !== 'string') throw mismatch();
      const fill = new TextEncoder().encode(value);
      const offsets = flat.valueOffsets as Int32Array;
      const bytes = flat.values as Uint8Array;
      const outOffsets = new Int32Array(n + 1);
      const out = new Uint8Array(offsets[n] - offsets[0] + fill.length * flat.nullCount);
      let at = 0;
      for (let i = 0; i < n; i++) {
        if (isValid(flat, i)) {
          out.set(bytes.subarray(offsets[i], offsets[i + 1]), at);
          at += offsets[i + 1] - offsets[i];
        } else {
          out.set(fill, at);
          at += fill.length;
        }
        outOffsets[i + 1] = at;
      }
      filled = utf8Vector(outOffsets, out);
      break;
    }
    case Type.Bool: {
      if (typeof value !== 'boolean') throw mismatch();
      const bits = new Uint8Array(Math.ceil(n / 8));
      for (let i = 0; i < n; i++)
        if (isValid(flat, i) ? getBit(flat.values as Uint8Array, flat.offset + i) : value) bits[i >> 3] |= 1 << (i & 7);
      filled = boolVector(bits, n);
      break;
    }
    default:
      throw new TypeError(`fillNull: column ${JSON.stringify(column)} of type ${type} is not supported`);
  }
  return withColumn(table, column, filled);
}

function identity(n: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}
