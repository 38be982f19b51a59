import { type Data, type Table, Type } from 'apache-arrow';
import { Readable } from 'node:stream';
import { DataError } from '../../errors.ts';
import { type PgColumnType, pgTypeOf } from './types.ts';

/**
 * Arrow → PostgreSQL binary COPY (`COPY … FROM STDIN (FORMAT binary)`).
 *
 * Format (https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4):
 * an 11-byte signature, int32 flags, int32 header-extension length; per row an
 * int16 field count then, per field, an int32 byte length (-1 = NULL) and the
 * value in the type's binary send format, all big-endian; an int16 -1 trailer.
 *
 * Why binary: no number → text formatting on our side, no parsing on the
 * server's, and strings go out as the UTF-8 bytes already in the Arrow buffer.
 * Values are read straight from typed arrays; 64-bit values through Int32Array
 * views of their BigInt64Array, so no BigInt is created per value.
 */

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
/** 2000-01-01T00:00:00Z, PostgreSQL's epoch, in µs since 1970 as two int32 words (0x35D01_3B37E000). */
const EPOCH_US_HI = 0x35d01;
const EPOCH_US_LO = 0x3b37e000;
const EPOCH_US = 946_684_800_000_000;
/** Days from 1970-01-01 to 2000-01-01. */
const EPOCH_DAYS = 10_957;
const TWO_32 = 4_294_967_296;

export interface CopyBinaryOptions {
  /** Target size of each emitted Buffer; default 2 MiB (large writes keep the socket busy). */
  readonly chunkBytes?: number;
  /** For error messages: what is being exported. */
  readonly source?: string;
}

/** The binary COPY stream of a table; pull-based, so it follows the socket's backpressure. */
export function encodeCopyBinary(table: Table, options: CopyBinaryOptions = {}): Readable {
  return Readable.from(copyBinaryChunks(table, options), { objectMode: false, highWaterMark: 8 * 1024 * 1024 });
}

/**
 * The same stream as a generator of Buffers (each about `chunkBytes`, the last
 * one smaller). Column types are checked before the first chunk is produced.
 */
export function* copyBinaryChunks(table: Table, options: CopyBinaryOptions = {}): Generator<Buffer> {
  const chunkBytes = Math.max(options.chunkBytes ?? 2 * 1024 * 1024, 64);
  const fields = table.schema.fields;
  if (fields.length > 32_767) {
    throw new DataError({ source: options.source ?? 'postgres export', message: `${fields.length} columns; COPY takes at most 32767` });
  }
  const types = fields.map((field) => pgTypeOf(field, options.source));

  let buf = Buffer.allocUnsafe(chunkBytes);
  let view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = 0;

  SIGNATURE.copy(buf, 0);
  pos = SIGNATURE.length;
  view.setInt32(pos, 0); // flags: no OIDs
  view.setInt32(pos + 4, 0); // no header extension
  pos += 8;

  type Writer = (row: number) => void;
  /** Extra bytes a variable-width column needs for a row, beyond its 4-byte length. */
  type Sizer = (row: number) => number;

  // Constant length prefixes are written as bytes: cheaper than DataView calls
  // on the hottest path (≈ 35% faster encoding of a taxi month).
  /** A field's length prefix below 256, big-endian. */
  const length = (n: number) => {
    buf[pos] = 0;
    buf[pos + 1] = 0;
    buf[pos + 2] = 0;
    buf[pos + 3] = n;
  };
  const writeNull = () => {
    view.setInt32(pos, -1);
    pos += 4;
  };
  /** Wraps a writer with the validity check, only for columns that have nulls. */
  const nullable = (data: Data, write: Writer): Writer => {
    const bitmap = data.nullBitmap;
    if (!data.nullCount || !bitmap) return write;
    const off = data.offset;
    return (r) => ((bitmap[(off + r) >> 3] & (1 << ((off + r) & 7))) === 0 ? writeNull() : write(r));
  };
  const writeBytes = (bytes: Uint8Array, start: number, end: number) => {
    const len = end - start;
    view.setInt32(pos, len);
    pos += 4;
    // Short strings (flags, codes) copy faster by hand than through a subarray.
    if (len < 24) for (let i = start; i < end; i++) buf[pos++] = bytes[i];
    else {
      buf.set(bytes.subarray(start, end), pos);
      pos += len;
    }
  };

  const writerFor = (data: Data, type: PgColumnType): { write: Writer; size?: Sizer; fixed: number } => {
    const values = data.values as ArrayLike<number> & ArrayBufferView & { BYTES_PER_ELEMENT: number };
    const typeId = data.type.typeId as Type;
    const words = () => new Int32Array(values.buffer, values.byteOffset, values.byteLength >> 2);
    switch (type.wire) {
      case 'int2':
        return { fixed: 6, write: nullable(data, (r) => (length(2), view.setInt16(pos + 4, values[r]), (pos += 6))) };
      case 'int4':
        return { fixed: 8, write: nullable(data, (r) => (length(4), view.setInt32(pos + 4, values[r]), (pos += 8))) };
      case 'float4':
        return { fixed: 8, write: nullable(data, (r) => (length(4), view.setFloat32(pos + 4, values[r]), (pos += 8))) };
      case 'float8':
        return { fixed: 12, write: nullable(data, (r) => (length(8), view.setFloat64(pos + 4, values[r]), (pos += 12))) };
      case 'int8': {
        if (values.BYTES_PER_ELEMENT !== 8) {
          // uint32 widened to bigint
          return {
            fixed: 12,
            write: nullable(data, (r) => (length(8), view.setInt32(pos + 4, 0), view.setUint32(pos + 8, values[r]), (pos += 12))),
          };
        }
        const w = words();
        return {
          fixed: 12,
          write: nullable(data, (r) => {
            length(8);
            view.setInt32(pos + 4, w[2 * r + 1]);
            view.setInt32(pos + 8, w[2 * r]);
            pos += 12;
          }),
        };
      }
      case 'bool': {
        const off = data.offset;
        return {
          fixed: 5,
          write: nullable(data, (r) => (length(1), (buf[pos + 4] = (values[(off + r) >> 3] >> ((off + r) & 7)) & 1), (pos += 5))),
        };
      }
      case 'date': {
        if (values.BYTES_PER_ELEMENT === 4) {
          return { fixed: 8, write: nullable(data, (r) => (length(4), view.setInt32(pos + 4, values[r] - EPOCH_DAYS), (pos += 8))) };
        }
        const w = words(); // DateMillisecond
        return {
          fixed: 8,
          write: nullable(data, (r) => {
            const ms = w[2 * r + 1] * TWO_32 + (w[2 * r] >>> 0);
            view.setInt32(pos, 4);
            view.setInt32(pos + 4, Math.floor(ms / 86_400_000) - EPOCH_DAYS);
            pos += 8;
          }),
        };
      }
      case 'timestamp':
        return { fixed: 12, write: nullable(data, timestampWriter(data, words())) };
      case 'text': {
        if (typeId === Type.Dictionary) return dictionaryWriter(data);
        const offsets = data.valueOffsets as Int32Array | BigInt64Array;
        const bytes = data.values as Uint8Array;
        // LargeUtf8 offsets are int64; their low words suffice below 2 GiB of text per batch.
        const o = offsets instanceof BigInt64Array ? new Int32Array(offsets.buffer, offsets.byteOffset, offsets.length * 2) : offsets;
        const step = offsets instanceof BigInt64Array ? 2 : 1;
        return {
          fixed: 4,
          size: (r) => o[(r + 1) * step] - o[r * step],
          write: nullable(data, (r) => writeBytes(bytes, o[r * step], o[(r + 1) * step])),
        };
      }
    }
  };

  /** µs since 2000 from any Arrow timestamp unit. The µs path is exact 64-bit word arithmetic. */
  const timestampWriter = (data: Data, w: Int32Array): Writer => {
    const unit = (data.type as unknown as { unit: number }).unit; // 0 s, 1 ms, 2 µs, 3 ns
    const writeMicros = (us: number) => {
      const x = us - EPOCH_US;
      const hi = Math.floor(x / TWO_32);
      view.setInt32(pos, 8);
      view.setInt32(pos + 4, hi);
      view.setUint32(pos + 8, x - hi * TWO_32);
      pos += 12;
    };
    if (unit === 2) {
      return (r) => {
        let lo = (w[2 * r] >>> 0) - EPOCH_US_LO;
        const borrow = lo < 0 ? 1 : 0;
        lo += borrow * TWO_32;
        length(8);
        view.setInt32(pos + 4, w[2 * r + 1] - EPOCH_US_HI - borrow);
        view.setUint32(pos + 8, lo);
        pos += 12;
      };
    }
    if (unit === 3) {
      return (r) => {
        // floor(ns / 1000) without losing the low digits: split the high word by 1000 first.
        const hi = w[2 * r + 1];
        const a = Math.floor(hi / 1000);
        const b = hi - a * 1000;
        writeMicros(a * TWO_32 + Math.floor((b * TWO_32 + (w[2 * r] >>> 0)) / 1000));
      };
    }
    const scale = unit === 1 ? 1_000 : 1_000_000;
    return (r) => writeMicros((w[2 * r + 1] * TWO_32 + (w[2 * r] >>> 0)) * scale);
  };

  /** Dictionary-encoded strings: each dictionary entry is encoded to UTF-8 once per batch. */
  const dictionaryWriter = (data: Data): { write: Writer; size: Sizer; fixed: number } => {
    const indices = data.values as ArrayLike<number>;
    const dictionary = data.dictionary;
    const encoded: (Buffer | null)[] = [];
    if (dictionary) for (const value of dictionary) encoded.push(value == null ? null : Buffer.from(String(value), 'utf8'));
    const write: Writer = (r) => {
      const bytes = encoded[indices[r]];
      if (bytes === null || bytes === undefined) writeNull();
      else writeBytes(bytes, 0, bytes.length);
    };
    return { fixed: 4, size: (r) => encoded[indices[r]]?.length ?? 0, write: nullable(data, write) };
  };

  const ncols = types.length;
  for (const batch of table.batches) {
    const columns = types.map((type, c) => writerFor(batch.data.children[c], type));
    const writers = columns.map((column) => column.write);
    const sizers = columns.flatMap((column) => (column.size ? [column.size] : []));
    const fixedRow = 2 + columns.reduce((sum, column) => sum + column.fixed, 0);
    const rows = batch.numRows;
    for (let r = 0; r < rows; r++) {
      let need = fixedRow;
      for (let s = 0; s < sizers.length; s++) need += sizers[s](r);
      if (pos + need > buf.length) {
        yield buf.subarray(0, pos);
        buf = Buffer.allocUnsafe(Math.max(chunkBytes, need + 2));
        view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
        pos = 0;
      }
      view.setInt16(pos, ncols);
      pos += 2;
      for (let c = 0; c < ncols; c++) writers[c](r);
    }
  }
  if (pos + 2 > buf.length) {
    yield buf.subarray(0, pos);
    buf = Buffer.allocUnsafe(2);
    view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    pos = 0;
  }
  view.setInt16(pos, -1);
  pos += 2;
  yield buf.subarray(0, pos);
}
