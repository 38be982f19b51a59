/**
 * Per-column accumulators for one record batch. The parser calls
 * `parse(bytes, start, end, row)` for every cell; a row that turns out bad is
 * simply overwritten by the next one (`rollback` undoes string bytes), so
 * nothing is committed until the row is known to be good.
 */
import { writeInt64 } from '../../table/int64.ts';
import { bitmapBytes, countZeroBits } from '../../table/bitmap.ts';
import { isUtf8 } from '../../table/utf8.ts';
import type { ColumnType } from '../types.ts';
import { parseBoolBytes, parseFloatBytes, parseIntBytes, parseTimestampBytes, scalar } from './scalars.ts';

export interface ColumnBuilder {
  /** Stores the cell of `row`; an empty cell is a null. Returns false when the bytes are not a value of the type. */
  parse(buf: Uint8Array, s: number, e: number, row: number): boolean;
  /** Forgets anything stored for `row` (string bytes); fixed-width slots are simply overwritten later. */
  rollback(row: number): void;
  /** Makes room for `capacity` rows, keeping rows already stored. */
  grow(capacity: number): void;
  /**
   * The first `length` rows as buffers (`vectorOf` in table/make.ts makes them a vector); the builder starts empty afterwards.
   * The `last` batch of a file is copied to its exact size (the buffers were
   * sized for a full batch: ~10 MB spare on a taxi month) and nothing is
   * allocated for a next one.
   */
  finish(length: number, last?: boolean): ColumnBuffers;
}

/**
 * A column's buffers, cut to its length. No Arrow objects: the decoder's worker
 * thread builds these without loading Arrow, and hands them over as they are.
 */
export interface ColumnBuffers {
  readonly length: number;
  readonly nullCount: number;
  readonly values: BigInt64Array | Float64Array | Int32Array | Uint8Array;
  /** Absent when no value is null. */
  readonly nullBitmap?: Uint8Array;
  /** Utf8 only: `length + 1` offsets into `values`. */
  readonly valueOffsets?: Int32Array;
}

/** Buffers of `length` rows; the validity bitmap only when some row is null. */
function buffers(values: ColumnBuffers['values'], valid: Uint8Array, length: number, valueOffsets?: Int32Array): ColumnBuffers {
  const nullCount = countZeroBits(valid, length);
  return { length, nullCount, values, nullBitmap: nullCount > 0 ? valid : undefined, valueOffsets };
}

/** `values` cut to `length` elements: a copy when that frees much, else the same array. */
function exact<T extends BigInt64Array | Float64Array | Int32Array | Uint8Array>(values: T, length: number, last: boolean): T {
  return last && length < values.length * 0.9 ? (values.slice(0, length) as T) : values;
}

abstract class Base {
  protected valid: Uint8Array;
  constructor(protected capacity: number) {
    this.valid = new Uint8Array(bitmapBytes(capacity));
  }
  protected mark(row: number, present: boolean): void {
    const bit = 1 << (row & 7);
    if (present) this.valid[row >> 3] |= bit;
    else this.valid[row >> 3] &= ~bit;
  }
  protected growValid(capacity: number): void {
    const next = new Uint8Array(bitmapBytes(capacity));
    next.set(this.valid);
    this.valid = next;
    this.capacity = capacity;
  }
  protected takeValid(length: number, last: boolean): Uint8Array {
    const valid = exact(this.valid, bitmapBytes(length), last);
    this.valid = new Uint8Array(last ? 0 : bitmapBytes(this.capacity));
    return valid;
  }
  rollback(_row: number): void {}
}

/** Int64 and timestamps: 64-bit slots written as two Int32 words. */
class Int64Builder extends Base implements ColumnBuilder {
  private values: BigInt64Array;
  private words: Int32Array;
  constructor(
    capacity: number,
    private readonly kind: 'int64' | 'timestamp',
  ) {
    super(capacity);
    this.values = new BigInt64Array(capacity);
    this.words = new Int32Array(this.values.buffer);
  }
  parse(buf: Uint8Array, s: number, e: number, row: number): boolean {
    if (s === e) {
      this.mark(row, false);
      return true;
    }
    if (this.kind === 'timestamp') {
      if (!parseTimestampBytes(buf, s, e)) return false;
    } else {
      if (!parseIntBytes(buf, s, e)) return false;
      if (scalar.isBig) {
        this.values[row] = scalar.big;
        this.mark(row, true);
        return true;
      }
    }
    writeInt64(this.words, row, scalar.value);
    this.mark(row, true);
    return true;
  }
  grow(capacity: number): void {
    const next = new BigInt64Array(capacity);
    next.set(this.values);
    this.values = next;
    this.words = new Int32Array(next.buffer);
    this.growValid(capacity);
  }
  finish(length: number, last = false): ColumnBuffers {
    const values = exact(this.values, length, last);
    const valid = this.takeValid(length, last);
    this.values = new BigInt64Array(last ? 0 : this.capacity);
    this.words = new Int32Array(this.values.buffer);
    return buffers(values.subarray(0, length), valid, length);
  }
}

/** float64, int32, date and bool: one double per row while parsing, converted at finish. */
class NumberBuilder extends Base implements ColumnBuilder {
  private values: Float64Array;
  constructor(
    capacity: number,
    private readonly kind: 'float64' | 'int32' | 'date' | 'bool',
  ) {
    super(capacity);
    this.values = new Float64Array(capacity);
  }
  parse(buf: Uint8Array, s: number, e: number, row: number): boolean {
    if (s === e) {
      this.mark(row, false);
      return true;
    }
    switch (this.kind) {
      case 'float64':
        if (!parseFloatBytes(buf, s, e)) return false;
        break;
      case 'int32':
        if (!parseIntBytes(buf, s, e) || scalar.isBig || scalar.value > 2147483647 || scalar.value < -2147483648) return false;
        break;
      case 'date':
        if (!parseTimestampBytes(buf, s, e)) return false;
        scalar.value = Math.floor(scalar.value / 86_400_000_000);
        break;
      case 'bool':
        if (!parseBoolBytes(buf, s, e)) return false;
        break;
    }
    this.values[row] = scalar.value;
    this.mark(row, true);
    return true;
  }
  grow(capacity: number): void {
    const next = new Float64Array(capacity);
    next.set(this.values);
    this.values = next;
    this.growValid(capacity);
  }
  finish(length: number, last = false): ColumnBuffers {
    const values = this.values;
    const valid = this.takeValid(length, last);
    this.values = new Float64Array(last ? 0 : this.capacity);
    if (this.kind === 'float64') return buffers(exact(values, length, last).subarray(0, length), valid, length);
    if (this.kind === 'int32' || this.kind === 'date') return buffers(Int32Array.from(values.subarray(0, length)), valid, length);
    const bits = new Uint8Array(bitmapBytes(length));
    for (let i = 0; i < length; i++) if (values[i] === 1) bits[i >> 3] |= 1 << (i & 7);
    return buffers(bits, valid, length);
  }
}

/** Utf8: bytes appended as they come, offsets per row. An empty cell is null. A cell that is not UTF-8 is a bad value. */
export class StringBuilder extends Base implements ColumnBuilder {
  private offsets: Int32Array;
  private bytes: Uint8Array;
  constructor(capacity: number) {
    super(capacity);
    this.offsets = new Int32Array(capacity + 1);
    this.bytes = new Uint8Array(capacity * 8);
  }
  parse(buf: Uint8Array, s: number, e: number, row: number): boolean {
    const n = e - s;
    if (!isUtf8(buf, s, e)) return false;
    let at = this.offsets[row];
    if (at + n > this.bytes.length) this.growBytes(at + n);
    const bytes = this.bytes;
    if (n <= 16) for (let i = s; i < e; i++) bytes[at++] = buf[i];
    else {
      bytes.set(buf.subarray(s, e), at);
      at += n;
    }
    this.offsets[row + 1] = at;
    this.mark(row, n > 0);
    return true;
  }
  override rollback(row: number): void {
    this.offsets[row + 1] = this.offsets[row];
  }
  private growBytes(min: number): void {
    const next = new Uint8Array(Math.max(min, this.bytes.length * 2));
    next.set(this.bytes);
    this.bytes = next;
  }
  grow(capacity: number): void {
    const next = new Int32Array(capacity + 1);
    next.set(this.offsets);
    this.offsets = next;
    this.growValid(capacity);
  }
  finish(length: number, last = false): ColumnBuffers {
    const used = this.offsets[length];
    const offsets = exact(this.offsets, length + 1, last).subarray(0, length + 1);
    const column = buffers(exact(this.bytes, used, last).subarray(0, used), this.takeValid(length, last), length, offsets);
    this.offsets = new Int32Array(last ? 1 : this.capacity + 1);
    // The next batch is probably like this one: start near its size.
    this.bytes = new Uint8Array(last ? 0 : Math.max(1024, Math.ceil(used * 1.1)));
    return column;
  }
}

/** The builder for a declared type. Undeclared columns use a `StringBuilder` and are typed afterwards (see infer.ts). */
export function columnBuilder(type: ColumnType, capacity: number): ColumnBuilder {
  switch (type) {
    case 'int64':
      return new Int64Builder(capacity, 'int64');
    case 'timestamp':
      return new Int64Builder(capacity, 'timestamp');
    case 'string':
      return new StringBuilder(capacity);
    default:
      return new NumberBuilder(capacity, type);
  }
}
