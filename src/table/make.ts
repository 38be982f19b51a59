/**
 * Arrow columns straight from typed arrays, one function per `ColumnType`.
 * No row builders: the CSV decoder and the table helpers fill typed arrays
 * and wrap them here, which is what keeps a 1.4M-row month under a second.
 *
 * `valid` is an Arrow validity bitmap (bit i set = value i present), or
 * null/undefined when nothing is null.
 */
import {
  Bool,
  type DataType,
  DateDay,
  Float64,
  Int32,
  Int64,
  TimestampMicrosecond,
  Utf8,
  type Vector,
  makeData,
  makeVector,
} from 'apache-arrow';
import type { ColumnBuffers } from '../io/csv/columns.ts';
import type { ColumnType } from '../io/types.ts';
import { countZeroBits } from './bitmap.ts';

/** The Arrow type pipekit uses for a `ColumnType`. Timestamps are naive microseconds, like pandas. */
export function arrowType(type: ColumnType): DataType {
  switch (type) {
    case 'int64':
      return new Int64();
    case 'int32':
      return new Int32();
    case 'float64':
      return new Float64();
    case 'string':
      return new Utf8();
    case 'bool':
      return new Bool();
    case 'timestamp':
      return new TimestampMicrosecond();
    case 'date':
      return new DateDay();
  }
}

function nulls(valid: Uint8Array | null | undefined, length: number) {
  if (!valid) return { nullCount: 0, nullBitmap: undefined };
  const nullCount = countZeroBits(valid, length);
  return nullCount === 0 ? { nullCount, nullBitmap: undefined } : { nullCount, nullBitmap: valid };
}

/** Int64 column; `length` defaults to `values.length` (pass it when the array is over-allocated). */
export function int64Vector(values: BigInt64Array, valid?: Uint8Array | null, length = values.length): Vector<Int64> {
  return makeVector(makeData({ type: new Int64(), length, data: values.subarray(0, length), ...nulls(valid, length) }));
}

export function int32Vector(values: Int32Array, valid?: Uint8Array | null, length = values.length): Vector<Int32> {
  return makeVector(makeData({ type: new Int32(), length, data: values.subarray(0, length), ...nulls(valid, length) }));
}

export function float64Vector(values: Float64Array, valid?: Uint8Array | null, length = values.length): Vector<Float64> {
  return makeVector(makeData({ type: new Float64(), length, data: values.subarray(0, length), ...nulls(valid, length) }));
}

/** Utf8 column: value i is `bytes[offsets[i] .. offsets[i+1])`; `offsets` has length + 1 entries. */
export function utf8Vector(offsets: Int32Array, bytes: Uint8Array, valid?: Uint8Array | null, length = offsets.length - 1): Vector<Utf8> {
  return makeVector(
    makeData({ type: new Utf8(), length, valueOffsets: offsets.subarray(0, length + 1), data: bytes, ...nulls(valid, length) }),
  );
}

/** Bool column from a value bitmap (bit i set = true). */
export function boolVector(bits: Uint8Array, length: number, valid?: Uint8Array | null): Vector<Bool> {
  return makeVector(makeData({ type: new Bool(), length, data: bits, ...nulls(valid, length) }));
}

/** Naive timestamp column, microseconds since 1970-01-01 00:00:00. */
export function timestampVector(micros: BigInt64Array, valid?: Uint8Array | null, length = micros.length): Vector<TimestampMicrosecond> {
  return makeVector(makeData({ type: new TimestampMicrosecond(), length, data: micros.subarray(0, length), ...nulls(valid, length) }));
}

/** Date column, days since 1970-01-01. */
export function dateVector(days: Int32Array, valid?: Uint8Array | null, length = days.length): Vector<DateDay> {
  return makeVector(makeData({ type: new DateDay(), length, data: days.subarray(0, length), ...nulls(valid, length) }));
}

/** A column from the buffers a CSV column builder made (see io/csv/columns.ts), as `type`. */
export function vectorOf(type: ColumnType, buffers: ColumnBuffers): Vector {
  const { length, nullCount, values, nullBitmap, valueOffsets } = buffers;
  return makeVector(makeData({ type: arrowType(type), length, nullCount, nullBitmap, valueOffsets, data: values } as never));
}
