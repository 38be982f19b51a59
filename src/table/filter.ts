/** Row filters: masks, predicates, counts. */
import { type Table, Type } from 'apache-arrow';
import { keepRuns, maskRuns, runsSupported } from './keep-runs.ts';
import { take } from './take.ts';
import { columnOf, isNumeric, isValid, readNumbers } from './values.ts';

/** Rows read into the predicate's buffer at a time. */
const SLICE_ROWS = 65_536;

/** Indices of the rows whose mask byte is non-zero. */
export function maskToIndices(mask: Uint8Array): Int32Array {
  let count = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) count++;
  const indices = new Int32Array(count);
  for (let i = 0, j = 0; i < mask.length; i++) if (mask[i] !== 0) indices[j++] = i;
  return indices;
}

/** Keeps the rows whose `mask[row]` is non-zero (one byte per row), as one record batch. */
export function filterRows(table: Table, mask: Uint8Array): Table {
  if (mask.length !== table.numRows) throw new RangeError(`filterRows: mask has ${mask.length} entries for ${table.numRows} rows`);
  // Masks that keep long stretches (most real filters) copy by run, batch by batch; scattered ones gather.
  const runs = runsSupported(table) ? maskRuns(table, mask) : null;
  return runs ? keepRuns(table, runs) : take(table, maskToIndices(mask));
}

/**
 * A mask of the rows where `predicate(value)` holds. Nulls never match, as
 * in pandas (`df[df.passenger_count > 0]` drops rows with no count).
 * Values: numbers for numeric columns (Int64 as doubles, timestamps and
 * dates as epoch milliseconds), strings for Utf8, booleans for Bool.
 */
export function maskWhere(table: Table, column: string, predicate: (value: any) => boolean): Uint8Array {
  const vector = columnOf(table, column);
  const mask = new Uint8Array(table.numRows);
  if (isNumeric(vector.type) && vector.type.typeId !== Type.Bool) {
    // Through a small buffer, not a copy of the column: a taxi month's column is 11 MB,
    // left for the GC while the filter allocates its output (measured +10 MB of peak per call).
    const values = new Float64Array(Math.min(SLICE_ROWS, table.numRows));
    let at = 0;
    for (const data of vector.data) {
      const bits = data.nullCount > 0 ? data.nullBitmap : null;
      for (let from = 0; from < data.length; from += values.length) {
        const count = Math.min(values.length, data.length - from);
        readNumbers(data, from, count, values);
        for (let i = 0; i < count; i++) {
          const bit = data.offset + from + i;
          if ((!bits || (bits[bit >> 3] & (1 << (bit & 7))) !== 0) && predicate(values[i])) mask[at + from + i] = 1;
        }
      }
      at += data.length;
    }
    return mask;
  }
  let at = 0;
  for (const data of vector.data) {
    const chunk = vector.data.length === 1 ? vector : vector.slice(at, at + data.length);
    for (let i = 0; i < data.length; i++) if (isValid(data, i) && predicate(chunk.get(i))) mask[at + i] = 1;
    at += data.length;
  }
  return mask;
}

/** The rows where `predicate(value)` holds (see `maskWhere` for values and nulls). */
export function where(table: Table, column: string, predicate: (value: any) => boolean): Table {
  return filterRows(table, maskWhere(table, column, predicate));
}

/** How many rows `predicate(value)` holds for, without building a table. */
export function countWhere(table: Table, column: string, predicate: (value: any) => boolean): number {
  const mask = maskWhere(table, column, predicate);
  let n = 0;
  for (let i = 0; i < mask.length; i++) n += mask[i];
  return n;
}
