/**
 * Arrow → CSV for the lake's `.csv` / `.csv.gz` objects, streamed a few
 * thousand rows at a time. Header first; nulls are empty cells; cells with a
 * delimiter, quote or line break are quoted with `""` escapes; timestamps
 * are `YYYY-MM-DD HH:MM:SS` (with `.ffffff` only when there is a fraction),
 * dates `YYYY-MM-DD`, bools `true`/`false`, floats in JavaScript's shortest
 * round-trip form. What `decodeCsv` reads back to the same values.
 */
import { Type, TimeUnit, makeVector, type Data, type DataType, type Table } from 'apache-arrow';
import { readInt64 } from '../../table/int64.ts';
import { getBit } from '../../table/bitmap.ts';

const ROWS_PER_CHUNK = 8192;
const PAD2 = Array.from({ length: 100 }, (_, i) => (i < 10 ? `0${i}` : String(i)));

export interface CsvWriteOptions {
  readonly delimiter?: string;
}

/** The table as CSV bytes (UTF-8), chunk by chunk. */
export async function* encodeCsv(table: Table, options: CsvWriteOptions = {}): AsyncIterable<Uint8Array> {
  const delimiter = options.delimiter ?? ',';
  const needsQuotes = new RegExp(`[${delimiter === '\t' ? '\\t' : delimiter.replace(/[\\\]^-]/g, '\\$&')}"\\r\\n]`);
  const quote = (text: string) => (needsQuotes.test(text) ? `"${text.replace(/"/g, '""')}"` : text);
  yield Buffer.from(`${table.schema.fields.map((f) => quote(f.name)).join(delimiter)}\n`, 'utf8');
  for (const batch of table.batches) {
    const cells = batch.data.children.map((data) => cellFormatter(data, quote));
    for (let start = 0; start < batch.numRows; start += ROWS_PER_CHUNK) {
      const end = Math.min(batch.numRows, start + ROWS_PER_CHUNK);
      const lines: string[] = new Array(end - start);
      for (let r = start; r < end; r++) {
        let line = '';
        for (let c = 0; c < cells.length; c++) line += (c === 0 ? '' : delimiter) + cells[c](r);
        lines[r - start] = line;
      }
      yield Buffer.from(`${lines.join('\n')}\n`, 'utf8');
    }
  }
}

type Cell = (row: number) => string;

function cellFormatter(data: Data, quote: (text: string) => string): Cell {
  const value = valueFormatter(data, quote);
  if (data.nullCount === 0 || !data.nullBitmap) return value;
  const bits = data.nullBitmap;
  const offset = data.offset;
  return (row) => (getBit(bits, offset + row) ? value(row) : '');
}

function valueFormatter(data: Data, quote: (text: string) => string): Cell {
  const type = data.type as DataType & { bitWidth?: number; unit?: TimeUnit };
  const values = data.values as any;
  switch (type.typeId) {
    case Type.Int:
      if (type.bitWidth === 64) {
        const words = new Int32Array(values.buffer, values.byteOffset, data.length * 2);
        return (row) => {
          const v = readInt64(words, row);
          return Number.isSafeInteger(v) ? String(v) : String(values[row]);
        };
      }
      return (row) => String(values[row]);
    case Type.Float:
      return (row) => String(values[row]);
    case Type.Bool:
      return (row) => (getBit(values, data.offset + row) ? 'true' : 'false');
    case Type.Date: {
      if (values instanceof Int32Array) return (row) => formatDate(values[row]);
      const words = new Int32Array(values.buffer, values.byteOffset, data.length * 2);
      return (row) => formatDate(Math.floor(readInt64(words, row) / 86_400_000));
    }
    case Type.Timestamp: {
      const words = new Int32Array(values.buffer, values.byteOffset, data.length * 2);
      const perSecond = [1, 1e3, 1e6, 1e9][type.unit ?? TimeUnit.MICROSECOND];
      return (row) => formatTimestamp(readInt64(words, row), perSecond);
    }
    case Type.Utf8: {
      const offsets = data.valueOffsets as Int32Array;
      const bytes = data.values as Uint8Array;
      const span = bytes.subarray(offsets[0], offsets[data.length]);
      // ASCII chunks (the common case) are decoded once and sliced; others value by value.
      if (span.every((b) => b < 128)) {
        const text = Buffer.from(span.buffer, span.byteOffset, span.length).toString('latin1');
        const base = offsets[0];
        return (row) => quote(text.slice(offsets[row] - base, offsets[row + 1] - base));
      }
      const decoder = new TextDecoder();
      return (row) => quote(decoder.decode(bytes.subarray(offsets[row], offsets[row + 1])));
    }
    default: {
      // Other types through Arrow's own value (rare in pipelines; slower).
      const vector = makeVector(data);
      return (row) => quote(String(vector.get(row)));
    }
  }
}

let cachedDay = NaN;
let cachedDate = '';

function formatDate(day: number): string {
  if (day !== cachedDay) {
    cachedDay = day;
    cachedDate = new Date(day * 86_400_000).toISOString().slice(0, 10);
  }
  return cachedDate;
}

function formatTimestamp(value: number, perSecond: number): string {
  const seconds = Math.floor(value / perSecond);
  const fraction = value - seconds * perSecond;
  const day = Math.floor(seconds / 86400);
  const s = seconds - day * 86400;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const base = `${formatDate(day)} ${PAD2[h]}:${PAD2[m]}:${PAD2[s % 60]}`;
  if (fraction === 0) return base;
  const micros = Math.round((fraction / perSecond) * 1e6);
  return `${base}.${String(micros).padStart(6, '0')}`;
}
