/**
 * Parquet bytes → Arrow with parquet-wasm, through an IPC stream.
 */
import { tableFromIPC } from 'apache-arrow';
import type { Table } from 'apache-arrow';
import { readParquet as wasmReadParquet } from 'parquet-wasm';
import { DataError } from '../../errors.ts';

export interface ParquetReadOptions {
  /** Only these columns (all by default). Unknown names are an error. */
  readonly columns?: readonly string[];
  /** Where the bytes came from, for error messages (a URI or a path). */
  readonly source?: string;
}

/**
 * Rows per Arrow record batch. parquet-wasm's default of 1,024 would give a
 * month of taxi data 1,300 chunks, and every later gather or scan pays per chunk.
 */
const BATCH_SIZE = 131_072;

/**
 * Decodes one Parquet file into an Arrow table. Corrupt or non-Parquet bytes
 * raise a `DataError` naming `options.source`.
 */
export function readParquet(bytes: Uint8Array, options: ParquetReadOptions = {}): Table {
  const source = options.source ?? 'parquet data';
  let table: Table;
  try {
    table = tableFromIPC(wasmReadParquet(bytes, { batchSize: BATCH_SIZE }).intoIPCStream());
  } catch (error) {
    throw new DataError({
      source,
      message: `could not be read as Parquet: ${describeWasmError(error)}`,
      hint: 'check that the file is a complete Parquet file (it may be truncated or another format)',
    });
  }
  return options.columns ? selectColumns(table, options.columns, source) : table;
}

/**
 * parquet-wasm 0.8's synchronous reader ignores its `columns` option, so the
 * projection happens after decoding (zero-copy on the Arrow side).
 */
function selectColumns(table: Table, columns: readonly string[], source: string): Table {
  const names = new Set(table.schema.fields.map((f) => f.name));
  const missing = columns.filter((c) => !names.has(c));
  if (missing.length > 0) {
    throw new DataError({
      source,
      column: missing[0],
      message: `has no column ${missing.map((c) => JSON.stringify(c)).join(', ')}`,
      hint: `the file's columns are: ${[...names].join(', ')}`,
    });
  }
  return table.select(columns as string[]);
}

function describeWasmError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
