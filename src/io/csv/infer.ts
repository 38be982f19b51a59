/**
 * Types for columns the caller did not declare. Cells of undeclared columns
 * are kept as text until the end of the file and the type is chosen from
 * **every** value, so a late odd value can never fail the read:
 *
 * - all non-empty cells are integers → `int64` (nullable; pandas would say
 *   float64 when there are empty cells, Arrow keeps the integers exact);
 * - all are numbers (`2.10`, `.20`, `1e3`, `nan`) → `float64`;
 * - all are `true`/`false` (any case) → `bool`;
 * - all are timestamps (`YYYY-MM-DD[ HH:MM[:SS[.ffffff]]]`) → `timestamp`;
 * - every cell empty → `float64`, all null (pandas reads such a column as float64 NaN);
 * - otherwise → `string`.
 *
 * Empty cells are nulls in every type. The text costs memory only for the
 * undeclared columns; declare the big ones to keep memory flat.
 */
import type { Data, Vector } from 'apache-arrow';
import type { ColumnType } from '../types.ts';
import { vectorOf } from '../../table/make.ts';
import { columnBuilder } from './columns.ts';
import { parseFloatBytes, parseIntBytes, parseTimestampBytes } from './scalars.ts';

type Candidate = 'int64' | 'float64' | 'bool' | 'timestamp' | 'string';

/** Chooses the type of one undeclared column from its text batches. */
export function inferType(batches: readonly Vector[]): ColumnType {
  let candidate: Candidate | undefined;
  for (const vector of batches) {
    for (const data of vector.data) {
      const cells = cellsOf(data);
      for (let i = 0; i < data.length; i++) {
        const s = cells.offsets[i];
        const e = cells.offsets[i + 1];
        if (s === e) continue;
        candidate = widen(candidate, cells.bytes, s, e);
        if (candidate === 'string') return 'string';
      }
    }
  }
  return candidate ?? 'float64';
}

function widen(current: Candidate | undefined, buf: Uint8Array, s: number, e: number): Candidate {
  switch (current) {
    case undefined:
      if (parseIntBytes(buf, s, e) && !hasDot(buf, s, e)) return 'int64';
      if (parseFloatBytes(buf, s, e)) return 'float64';
      if (isBool(buf, s, e)) return 'bool';
      return parseTimestampBytes(buf, s, e) ? 'timestamp' : 'string';
    case 'int64':
      if (parseIntBytes(buf, s, e) && !hasDot(buf, s, e)) return 'int64';
      return parseFloatBytes(buf, s, e) ? 'float64' : 'string';
    case 'float64':
      return parseFloatBytes(buf, s, e) ? 'float64' : 'string';
    case 'bool':
      return isBool(buf, s, e) ? 'bool' : 'string';
    case 'timestamp':
      return parseTimestampBytes(buf, s, e) ? 'timestamp' : 'string';
    default:
      return 'string';
  }
}

/** Re-parses a text batch as `type` (which `inferType` guarantees every cell fits). */
export function convertText(vector: Vector, type: ColumnType): Vector {
  if (type === 'string') return vector;
  const builder = columnBuilder(type, Math.max(1, vector.length));
  let row = 0;
  for (const data of vector.data) {
    const cells = cellsOf(data);
    for (let i = 0; i < data.length; i++, row++) {
      const valid = data.nullCount === 0 || !data.nullBitmap || (data.nullBitmap[(data.offset + i) >> 3] >> ((data.offset + i) & 7)) & 1;
      const s = cells.offsets[i];
      builder.parse(cells.bytes, s, valid ? cells.offsets[i + 1] : s, row);
    }
  }
  return vectorOf(type, builder.finish(vector.length));
}

function cellsOf(data: Data): { offsets: Int32Array; bytes: Uint8Array } {
  return { offsets: data.valueOffsets as Int32Array, bytes: data.values as Uint8Array };
}

function hasDot(buf: Uint8Array, s: number, e: number): boolean {
  for (let i = s; i < e; i++) if (buf[i] === 46) return true;
  return false;
}

function isBool(buf: Uint8Array, s: number, e: number): boolean {
  const n = e - s;
  if (n !== 4 && n !== 5) return false;
  const text = String.fromCharCode(...buf.subarray(s, e)).toLowerCase();
  return text === 'true' || text === 'false';
}
