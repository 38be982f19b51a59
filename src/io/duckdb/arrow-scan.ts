/**
 * Arrow tables as DuckDB relations with no staging file: a table function,
 * `pipekit_arrow(id)`, that fills each of DuckDB's 2,048-row vectors straight
 * from the Arrow buffers — one memcpy per fixed-width column, strings of up to
 * 12 bytes written in DuckDB's inline `string_t` layout and copied the same
 * way, longer strings one call each.
 *
 * Why: the Parquet staging it replaces encoded the whole table in wasm, wrote
 * it to disk and had DuckDB decode it again. For a taxi month into a DuckDB
 * table that was 1.7 s and ~170 MB of encoder garbage; the scan is ~1.2 s and
 * DuckDB reads the rows as it needs them.
 *
 * Tables with a type the scan does not copy (decimals, nested types, dictionaries,
 * …) still go through Parquet: see {@link canScan}.
 */
import duckdb from '@duckdb/node-bindings';
import type { DuckDBConnection, DuckDBTableFunction as TableFunction, DuckDBType } from '@duckdb/node-api';
import { DateUnit, Precision, TimeUnit, Type, type Data, type DataType, type Table } from 'apache-arrow';
import { duckdbApi } from './node-api.ts';
import { firstNonAscii, isUtf8 } from '../../table/utf8.ts';

const {
  BIGINT,
  BLOB,
  BOOLEAN,
  DATE,
  DOUBLE,
  FLOAT,
  INTEGER,
  SMALLINT,
  TIMESTAMP,
  TIMESTAMP_MS,
  TIMESTAMP_NS,
  TIMESTAMP_S,
  TIMESTAMPTZ,
  TINYINT,
  UBIGINT,
  UINTEGER,
  USMALLINT,
  UTINYINT,
  VARCHAR,
  DuckDBTableFunction,
} = duckdbApi;

/** The SQL name of the table function. */
export const ARROW_SCAN_FUNCTION = 'pipekit_arrow';

/** DuckDB's fixed vector size: rows per call of the scan. */
const VECTOR_ROWS = 2048;
/** Bytes of a DuckDB `string_t`; strings up to INLINE_BYTES long live inside it. */
const STRING_T_BYTES = 16;
const INLINE_BYTES = 12;

/** The DuckDB column type for an Arrow type, or undefined when the scan cannot copy it. */
function duckType(type: DataType): DuckDBType | undefined {
  switch (type.typeId) {
    case Type.Int: {
      const { bitWidth, isSigned } = type as unknown as { bitWidth: number; isSigned: boolean };
      const types = isSigned
        ? { 8: TINYINT, 16: SMALLINT, 32: INTEGER, 64: BIGINT }
        : { 8: UTINYINT, 16: USMALLINT, 32: UINTEGER, 64: UBIGINT };
      return types[bitWidth as 8 | 16 | 32 | 64];
    }
    case Type.Float: {
      const { precision } = type as unknown as { precision: Precision };
      return precision === Precision.DOUBLE ? DOUBLE : precision === Precision.SINGLE ? FLOAT : undefined;
    }
    case Type.Bool:
      return BOOLEAN;
    case Type.Date:
      return (type as unknown as { unit: DateUnit }).unit === DateUnit.DAY ? DATE : undefined;
    case Type.Timestamp: {
      const { unit, timezone } = type as unknown as { unit: TimeUnit; timezone?: string | null };
      // DuckDB's TIMESTAMPTZ is microseconds since the epoch, UTC: the same numbers whatever Arrow's zone name.
      if (timezone) return unit === TimeUnit.MICROSECOND ? TIMESTAMPTZ : undefined;
      return {
        [TimeUnit.SECOND]: TIMESTAMP_S,
        [TimeUnit.MILLISECOND]: TIMESTAMP_MS,
        [TimeUnit.MICROSECOND]: TIMESTAMP,
        [TimeUnit.NANOSECOND]: TIMESTAMP_NS,
      }[unit];
    }
    case Type.Utf8:
      return VARCHAR;
    case Type.Binary:
      return BLOB;
    case Type.Dictionary: {
      // Strings built with tableFromArrays come dictionary-encoded; DuckDB gets the strings.
      const { dictionary, indices } = type as unknown as { dictionary: DataType; indices: DataType };
      return dictionary.typeId === Type.Utf8 && (indices as unknown as { bitWidth: number }).bitWidth <= 32 ? VARCHAR : undefined;
    }
    default:
      return undefined;
  }
}

/** Whether every column of `table` can be scanned; other tables need Parquet staging. */
export function canScan(table: Table): boolean {
  const names = table.schema.fields.map((f) => f.name);
  return (
    // DuckDB wants distinct, non-empty column names; Arrow (and Parquet) allow any.
    new Set(names).size === names.length &&
    names.every((n) => n !== '') &&
    table.schema.fields.every((f) => duckType(f.type) !== undefined) &&
    table.batches.every((b) => b.data.children.every((d) => !d.dictionary || d.dictionary.data.length === 1))
  );
}

/** What a scan reads: a table, or only the rows of it at `rows` (ascending). */
interface ScanSource {
  readonly table: Table;
  readonly rows?: Int32Array;
}

/** Tables the scan can read, by id; an entry lives as long as the session that added it. */
const tables = new Map<number, ScanSource>();
let nextId = 0;

/**
 * Makes `table` readable in `connection` and returns the SQL expression over
 * it, `pipekit_arrow(<id>)`. Call the returned `release` when the
 * connection is done with it (the table stays referenced until then).
 *
 * With `rows` (ascending row numbers of `table`), the relation is those rows
 * only, gathered straight into DuckDB's vectors: a partition of a table is
 * encoded without first being copied into a table of its own.
 */
export function scanArrow(connection: DuckDBConnection, table: Table, rows?: Int32Array): { sql: string; release: () => void } {
  if (rows) checkRows(rows, table.numRows);
  register(connection);
  const id = ++nextId;
  tables.set(id, { table, rows });
  return { sql: `${ARROW_SCAN_FUNCTION}(${id})`, release: () => tables.delete(id) };
}

function checkRows(rows: Int32Array, numRows: number): void {
  for (let i = 0; i < rows.length; i++) {
    if (rows[i] < 0 || rows[i] >= numRows || (i > 0 && rows[i] <= rows[i - 1]))
      throw new RangeError(`scanArrow: rows must be ascending row numbers below ${numRows}; row ${i} is ${rows[i]}`);
  }
}

/** Per-scan cursor: several scans of one table (a self-join) each have their own. */
interface ScanState {
  readonly table: Table;
  /** Arrow column index for each output vector (projection pushdown). */
  readonly columns: readonly number[];
  batch: number;
  row: number;
  /** A selection scan: the rows to read, the next one's place in `rows`, and each batch's first row number. */
  readonly rows?: Int32Array;
  next: number;
  readonly batchStarts?: Float64Array;
  scratch?: Uint8Array;
  /** The current vector's rows within their batch (selection scans), and dictionary keys gathered by them. */
  local?: Int32Array;
  keys?: Int32Array;
}

const registered = new WeakSet<DuckDBConnection>();

function register(connection: DuckDBConnection): void {
  if (registered.has(connection)) return;
  try {
    connection.registerTableFunction(scanFunction());
  } catch (error) {
    // Table functions live in the database's catalog: a second connection to a shared in-memory database finds it there.
    if (!/already exists/i.test((error as Error).message)) throw error;
  }
  registered.add(connection);
}

function scanFunction(): TableFunction {
  return DuckDBTableFunction.create({
    name: ARROW_SCAN_FUNCTION,
    parameterTypes: [BIGINT],
    supportsProjectionPushdown: true,
    bindFunction(bind) {
      const source = tables.get(Number(bind.getParameter(0)));
      if (!source) return bind.setError(`${ARROW_SCAN_FUNCTION}: no table with this id in this session`);
      for (const field of source.table.schema.fields) bind.addResultColumn(field.name, duckType(field.type)!);
      bind.setCardinality(source.rows?.length ?? source.table.numRows, true);
      bind.setBindData(source);
    },
    initFunction(init) {
      const { table, rows } = init.getBindData() as ScanSource;
      init.setMaxThreads(1); // the rows are copied by JavaScript, on one thread
      const batchStarts = rows ? new Float64Array(table.batches.length + 1) : undefined;
      if (batchStarts) table.batches.forEach((b, i) => (batchStarts[i + 1] = batchStarts[i] + b.numRows));
      init.setInitData({ table, columns: init.getColumnIndexes(), batch: 0, row: 0, rows, next: 0, batchStarts } satisfies ScanState);
    },
    mainFunction(info, output) {
      const state = info.getInitData() as ScanState;
      try {
        fillChunk(state, output.chunk);
      } catch (error) {
        info.setError(`${ARROW_SCAN_FUNCTION}: ${(error as Error).message}`);
      }
    },
  });
}

/** Copies the next up-to-2,048 rows into `chunk`; a chunk of zero rows ends the scan. */
function fillChunk(state: ScanState, chunk: duckdb.DataChunk): void {
  if (state.rows) return fillSelected(state, state.rows, state.batchStarts!, chunk);
  const { batches } = state.table;
  while (state.batch < batches.length && state.row >= batches[state.batch].numRows) {
    state.batch++;
    state.row = 0;
  }
  if (state.batch >= batches.length) return duckdb.data_chunk_set_size(chunk, 0);
  const batch = batches[state.batch];
  const rows = Math.min(VECTOR_ROWS, batch.numRows - state.row);
  state.columns.forEach((column, v) => {
    const data = batch.data.children[column];
    const vector = duckdb.data_chunk_get_vector(chunk, v);
    try {
      copyValues(state, data, vector, state.row, rows);
    } catch (error) {
      throw new Error(`column ${JSON.stringify(state.table.schema.fields[column].name)}, ${(error as Error).message}`);
    }
    // Bitmaps are not sliced with the Data: their bits start at data.offset.
    if (data.nullCount > 0 && data.nullBitmap) copyValidity(state, data.nullBitmap, vector, data.offset + state.row, rows);
  });
  duckdb.data_chunk_set_size(chunk, rows);
  state.row += rows;
}

/** `first` is a row of `data`: value buffers and offsets are sliced with the Data, bitmaps are not. */
function copyValues(state: ScanState, data: Data, vector: duckdb.Vector, first: number, rows: number): void {
  switch (data.type.typeId) {
    case Type.Utf8:
      checkUtf8(data.valueOffsets as Int32Array, data.values as Uint8Array, first, rows);
      return copyStrings(state, data.valueOffsets as Int32Array, data.values as Uint8Array, null, vector, first, rows);
    case Type.Binary:
      return copyStrings(state, data.valueOffsets as Int32Array, data.values as Uint8Array, null, vector, first, rows);
    case Type.Dictionary: {
      const strings = data.dictionary!.data[0];
      if (!checkedUtf8.has(strings)) {
        checkUtf8(strings.valueOffsets as Int32Array, strings.values as Uint8Array, 0, strings.length);
        checkedUtf8.add(strings);
      }
      return copyStrings(
        state,
        strings.valueOffsets as Int32Array,
        strings.values as Uint8Array,
        data.values as ArrayLike<number>,
        vector,
        first,
        rows,
      );
    }
    case Type.Bool: {
      // Arrow packs booleans in bits, DuckDB stores a byte each.
      const bytes = scratch(state, rows);
      const bits = data.values as Uint8Array;
      const bit = data.offset + first;
      for (let r = 0; r < rows; r++) bytes[r] = (bits[(bit + r) >> 3] >> ((bit + r) & 7)) & 1;
      return duckdb.copy_data_to_vector(vector, 0, bytes.buffer as ArrayBuffer, bytes.byteOffset, rows);
    }
    default: {
      const values = data.values as unknown as { buffer: ArrayBuffer; byteOffset: number; BYTES_PER_ELEMENT: number };
      const width = values.BYTES_PER_ELEMENT * data.stride;
      return duckdb.copy_data_to_vector(vector, 0, values.buffer, values.byteOffset + first * width, rows * width);
    }
  }
}

/** A selection scan's next vector: up to 2,048 of its rows, all from one record batch. */
function fillSelected(state: ScanState, rows: Int32Array, starts: Float64Array, chunk: duckdb.DataChunk): void {
  if (state.next >= rows.length) return duckdb.data_chunk_set_size(chunk, 0);
  while (rows[state.next] >= starts[state.batch + 1]) state.batch++;
  const batch = state.table.batches[state.batch];
  const start = starts[state.batch];
  const end = starts[state.batch + 1];
  const local = (state.local ??= new Int32Array(VECTOR_ROWS));
  let count = 0;
  while (count < VECTOR_ROWS && state.next < rows.length && rows[state.next] < end) local[count++] = rows[state.next++] - start;
  state.columns.forEach((column, v) => {
    const data = batch.data.children[column];
    const vector = duckdb.data_chunk_get_vector(chunk, v);
    try {
      gatherValues(state, data, vector, local, count);
    } catch (error) {
      throw new Error(`column ${JSON.stringify(state.table.schema.fields[column].name)}, ${(error as Error).message}`);
    }
    if (data.nullCount > 0 && data.nullBitmap) gatherValidity(state, data.nullBitmap, data.offset, vector, local, count);
  });
  duckdb.data_chunk_set_size(chunk, count);
}

/** Like copyValues, for the rows `local` (of `data`) only. */
function gatherValues(state: ScanState, data: Data, vector: duckdb.Vector, local: Int32Array, count: number): void {
  switch (data.type.typeId) {
    case Type.Utf8:
      if (!checkedUtf8.has(data)) {
        checkUtf8(data.valueOffsets as Int32Array, data.values as Uint8Array, 0, data.length);
        checkedUtf8.add(data);
      }
      return copyStrings(state, data.valueOffsets as Int32Array, data.values as Uint8Array, local, vector, 0, count);
    case Type.Binary:
      return copyStrings(state, data.valueOffsets as Int32Array, data.values as Uint8Array, local, vector, 0, count);
    case Type.Dictionary: {
      const strings = data.dictionary!.data[0];
      if (!checkedUtf8.has(strings)) {
        checkUtf8(strings.valueOffsets as Int32Array, strings.values as Uint8Array, 0, strings.length);
        checkedUtf8.add(strings);
      }
      const indices = data.values as ArrayLike<number>;
      const keys = (state.keys ??= new Int32Array(VECTOR_ROWS));
      for (let r = 0; r < count; r++) keys[r] = indices[local[r]];
      return copyStrings(state, strings.valueOffsets as Int32Array, strings.values as Uint8Array, keys, vector, 0, count);
    }
    case Type.Bool: {
      const bytes = scratch(state, count);
      const bits = data.values as Uint8Array;
      for (let r = 0; r < count; r++) {
        const bit = data.offset + local[r];
        bytes[r] = (bits[bit >> 3] >> (bit & 7)) & 1;
      }
      return duckdb.copy_data_to_vector(vector, 0, bytes.buffer as ArrayBuffer, bytes.byteOffset, count);
    }
    default: {
      // Copied as 8-, 16- or 32-bit words: never through a JS number, which could change a NaN's bits.
      const values = data.values as unknown as { buffer: ArrayBuffer; byteOffset: number; byteLength: number; BYTES_PER_ELEMENT: number };
      const width = values.BYTES_PER_ELEMENT * data.stride;
      const out = scratch(state, count * width);
      const [words, per] = width % 4 === 0 ? [Uint32Array, width / 4] : width % 2 === 0 ? [Uint16Array, width / 2] : [Uint8Array, width];
      const from = new words(values.buffer, values.byteOffset, values.byteLength / words.BYTES_PER_ELEMENT);
      const to = new words(out.buffer as ArrayBuffer, out.byteOffset, (count * width) / words.BYTES_PER_ELEMENT);
      if (per === 1) for (let r = 0; r < count; r++) to[r] = from[local[r]];
      else if (per === 2) {
        for (let r = 0; r < count; r++) {
          to[2 * r] = from[2 * local[r]];
          to[2 * r + 1] = from[2 * local[r] + 1];
        }
      } else for (let r = 0; r < count; r++) for (let w = 0; w < per; w++) to[r * per + w] = from[local[r] * per + w];
      return duckdb.copy_data_to_vector(vector, 0, out.buffer as ArrayBuffer, out.byteOffset, count * width);
    }
  }
}

/** The validity bits of the rows `local`, gathered into DuckDB's layout (bit r of byte r/8). */
function gatherValidity(
  state: ScanState,
  bitmap: Uint8Array,
  offset: number,
  vector: duckdb.Vector,
  local: Int32Array,
  count: number,
): void {
  duckdb.vector_ensure_validity_writable(vector);
  const out = scratch(state, Math.ceil(count / 8));
  out.fill(0);
  for (let r = 0; r < count; r++) {
    const bit = offset + local[r];
    out[r >> 3] |= ((bitmap[bit >> 3] >> (bit & 7)) & 1) << (r & 7);
  }
  duckdb.copy_data_to_vector_validity(vector, 0, out.buffer as ArrayBuffer, out.byteOffset, out.length);
}

/** Text buffers already checked for UTF-8, once for every scan of them (dictionaries; whole columns of selection scans). */
const checkedUtf8 = new WeakSet<Data>();

/** Throws, naming the row, when a Utf8 cell is not UTF-8 (DuckDB takes bytes as they are; see table/utf8.ts). */
function checkUtf8(offsets: Int32Array, bytes: Uint8Array, first: number, rows: number): void {
  // All ASCII (the usual case): one scan. Otherwise cell by cell, so a character split across two cells is caught.
  const end = offsets[first + rows];
  if (firstNonAscii(bytes, offsets[first], end) === end) return;
  for (let r = 0; r < rows; r++) {
    if (!isUtf8(bytes, offsets[first + r], offsets[first + r + 1]))
      throw new Error(`row ${first + r} of its batch: the text is not valid UTF-8`);
  }
}

/** What a failed query says after the scan's own prefix, when the scan is what failed. */
export function scanFailure(message: string): string | undefined {
  const at = message.indexOf(`${ARROW_SCAN_FUNCTION}: `);
  return at < 0 ? undefined : message.slice(at + ARROW_SCAN_FUNCTION.length + 2);
}

/**
 * DuckDB's `string_t` is 16 bytes: a 32-bit length, then either the string
 * itself (up to 12 bytes, zero-padded) or a prefix and a pointer. Inline ones
 * are laid out here and copied in one go; longer ones are handed to DuckDB,
 * which copies them into the vector's own heap.
 */
function copyStrings(
  state: ScanState,
  offsets: Int32Array,
  bytes: Uint8Array,
  keys: ArrayLike<number> | null,
  vector: duckdb.Vector,
  first: number,
  rows: number,
): void {
  const out = scratch(state, rows * STRING_T_BYTES);
  out.fill(0);
  const lengths = new Uint32Array(out.buffer, out.byteOffset, rows * 4);
  let long: number[] | undefined;
  for (let r = 0; r < rows; r++) {
    const i = keys ? keys[first + r] : first + r;
    const start = offsets[i];
    const length = offsets[i + 1] - start;
    if (length > INLINE_BYTES) {
      (long ??= []).push(r);
      continue;
    }
    lengths[r * 4] = length;
    const at = r * STRING_T_BYTES + 4;
    for (let b = 0; b < length; b++) out[at + b] = bytes[start + b];
  }
  duckdb.copy_data_to_vector(vector, 0, out.buffer as ArrayBuffer, out.byteOffset, rows * STRING_T_BYTES);
  for (const r of long ?? []) {
    const i = keys ? keys[first + r] : first + r;
    duckdb.vector_assign_string_element_len(vector, r, bytes.subarray(offsets[i], offsets[i + 1]));
  }
}

/** Arrow's validity bitmap and DuckDB's share a layout (bit i of byte i/8, 1 = valid); only the start may need shifting. */
function copyValidity(state: ScanState, bitmap: Uint8Array, vector: duckdb.Vector, first: number, rows: number): void {
  duckdb.vector_ensure_validity_writable(vector);
  const bytes = Math.ceil(rows / 8);
  const shift = first & 7;
  if (shift === 0) {
    duckdb.copy_data_to_vector_validity(vector, 0, bitmap.buffer as ArrayBuffer, bitmap.byteOffset + (first >> 3), bytes);
    return;
  }
  const out = scratch(state, bytes);
  const from = first >> 3;
  for (let b = 0; b < bytes; b++) out[b] = (bitmap[from + b] >> shift) | ((bitmap[from + b + 1] ?? 0) << (8 - shift));
  duckdb.copy_data_to_vector_validity(vector, 0, out.buffer as ArrayBuffer, out.byteOffset, bytes);
}

/** A reusable buffer of at least `bytes` bytes, so a scan allocates once, not per vector. */
function scratch(state: ScanState, bytes: number): Uint8Array {
  if (!state.scratch || state.scratch.length < bytes) state.scratch = new Uint8Array(Math.max(bytes, VECTOR_ROWS * STRING_T_BYTES));
  return state.scratch.subarray(0, bytes);
}
