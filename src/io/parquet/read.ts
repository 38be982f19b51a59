/**
 * Parquet → Arrow with parquet-wasm, through Arrow IPC streams.
 */
import { Table, tableFromIPC } from 'apache-arrow';
import type { RecordBatch } from 'apache-arrow';
import { ParquetFile, readParquet as wasmReadParquet } from 'parquet-wasm';
import type { RecordBatch as WasmRecordBatch } from 'parquet-wasm';
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

/** Rows per batch when streaming; see {@link readParquetRowGroups}. */
const STREAM_BATCH_SIZE = 32_768;

/**
 * Decodes one Parquet file into an Arrow table, in one call. For small files
 * (partitions); {@link readParquetRowGroups} keeps memory flat on big ones.
 * Corrupt or non-Parquet bytes raise a `DataError` naming `options.source`.
 */
export function readParquet(bytes: Uint8Array, options: ParquetReadOptions = {}): Table {
  const source = options.source ?? 'parquet data';
  let table: Table;
  try {
    table = tableFromIPC(wasmReadParquet(bytes, { batchSize: BATCH_SIZE }).intoIPCStream());
  } catch (error) {
    throw unreadable(source, error);
  }
  return options.columns ? selectColumns(table, options.columns, source) : table;
}

/**
 * Decodes a Parquet file a batch at a time. Why: wasm memory never
 * shrinks, and decoding a month in one call holds the file, the decoded
 * columns and their IPC copy in wasm at once (~400 MB for a taxi month) for
 * the rest of the process. Here wasm holds the row group being read and
 * one batch.
 *
 * `file` is a Blob so that a local file (`fs.openAsBlob`) is read in ranges,
 * never as a whole.
 */
export async function readParquetRowGroups(file: Blob, options: ParquetReadOptions = {}): Promise<Table> {
  const source = options.source ?? 'parquet data';
  let parquet: ParquetFile;
  try {
    parquet = await ParquetFile.fromFile(file);
  } catch (error) {
    throw unreadable(source, error);
  }
  try {
    const groups = parquet.metadata().numRowGroups();
    if (groups === 0) return tableFromIPC(wasmReadParquet(new Uint8Array(await file.arrayBuffer())).intoIPCStream());
    const batches: RecordBatch[] = [];
    let schema: Table['schema'] | undefined;
    // Batch by batch: wasm then holds one batch's decoded columns and IPC copy (~4 MB each for taxi rows).
    const reader = ((await parquet.stream({ batchSize: STREAM_BATCH_SIZE })) as ReadableStream<WasmRecordBatch>).getReader();
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      const part = tableFromIPC(next.value.intoIPCStream());
      schema ??= part.schema;
      batches.push(...part.batches);
    }
    const table = new Table(schema!, ...batches);
    return options.columns ? selectColumns(table, options.columns, source) : table;
  } catch (error) {
    if (error instanceof DataError) throw error;
    throw unreadable(source, error);
  } finally {
    parquet.free();
  }
}

function unreadable(source: string, error: unknown): DataError {
  return new DataError({
    source,
    message: `could not be read as Parquet: ${describeWasmError(error)}`,
    hint: 'check that the file is a complete Parquet file (it may be truncated or another format)',
  });
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
