/**
 * Arrow → Parquet bytes with parquet-wasm (arrow-rs compiled to WebAssembly).
 * Tables cross into wasm memory as Arrow IPC streams: one copy, no per-row
 * work in JavaScript.
 *
 * Why two writers: wasm linear memory grows but never shrinks, so encoding a
 * month in one call leaves the process ~400 MB bigger for good (the IPC copy,
 * the decoded copy and the output all live in wasm at once). The streaming
 * writer hands over one row group at a time and keeps wasm memory at a few
 * row groups, whatever the table size.
 */
import { Readable } from 'node:stream';
import { tableToIPC } from 'apache-arrow';
import type { Table } from 'apache-arrow';
import { Table as WasmTable, transformParquetStream, writeParquet as wasmWriteParquet } from 'parquet-wasm';
import type { RecordBatch as WasmRecordBatch } from 'parquet-wasm';
import { normalizeForParquet } from './normalize.ts';
import { DEFAULT_ROW_GROUP_SIZE, type ParquetWriteOptions } from './options.ts';
import { writerProperties } from './writer-properties.ts';

/**
 * Rows handed to the encoder at a time. Smaller than a row group: the
 * encoder keeps only encoded pages between batches, so this bounds the
 * IPC and decoded copies in wasm (~4 MB for taxi rows) without making
 * row groups smaller.
 */
const INPUT_BATCH_ROWS = 32_768;

/**
 * Encodes an Arrow table as one Parquet file, in one call. For tables up to a
 * few row groups (partitions, test fixtures); use {@link writeParquetStream}
 * for anything month-sized.
 *
 * Timestamps are written as `TIMESTAMP(MICROS)` (nanoseconds, seconds and
 * milliseconds are converted) so that BigQuery loads them as TIMESTAMP /
 * DATETIME rather than INT64; dates as `DATE`; strings as UTF8; nulls kept.
 */
export function writeParquet(table: Table, options: ParquetWriteOptions = {}): Uint8Array {
  const normalized = normalizeForParquet(table);
  // fromIPCStream and writeParquet both take ownership of their wasm arguments.
  return wasmWriteParquet(WasmTable.fromIPCStream(tableToIPC(normalized, 'stream')), writerProperties(normalized.schema, options));
}

/**
 * Encodes an Arrow table as one Parquet file, yielding the file's bytes a
 * row group at a time (same file as {@link writeParquet}). Only one row group
 * is in wasm memory at once, so peak memory does not grow with the table.
 */
export async function* writeParquetStream(table: Table, options: ParquetWriteOptions = {}): AsyncGenerator<Uint8Array> {
  const rowGroupSize = options.rowGroupSize ?? DEFAULT_ROW_GROUP_SIZE;
  // One row group (or none: the streaming writer needs a first batch for the schema).
  if (table.numRows <= rowGroupSize) {
    yield writeParquet(table, options);
    return;
  }
  const normalized = normalizeForParquet(table);
  const batchRows = Math.min(rowGroupSize, INPUT_BATCH_ROWS);
  let sent = 0;
  let groupsOut = 0;
  let stopped = false;
  let wake: (() => void) | undefined;

  // parquet-wasm pulls its input eagerly, and hands out a finished row group
  // only after it has pulled the next batch. Holding input back to at most
  // two row groups ahead of the output keeps wasm memory at a couple of
  // row groups of encoded pages plus one small input batch.
  const input = new ReadableStream<WasmRecordBatch>(
    {
      async pull(controller) {
        while (!stopped && sent >= (groupsOut + 2) * rowGroupSize) await new Promise<void>((resolve) => (wake = resolve));
        if (stopped || sent >= normalized.numRows) return controller.close();
        const slice = normalized.slice(sent, Math.min(sent + batchRows, normalized.numRows));
        sent += slice.numRows;
        const wasmTable = WasmTable.fromIPCStream(tableToIPC(slice, 'stream'));
        try {
          for (const batch of wasmTable.recordBatches()) controller.enqueue(batch);
        } finally {
          wasmTable.free();
        }
      },
    },
    { highWaterMark: 0 },
  );

  const output = await transformParquetStream(input, writerProperties(normalized.schema, { ...options, rowGroupSize }));
  const reader = (output as ReadableStream<Uint8Array>).getReader();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        finished = true;
        return;
      }
      groupsOut++;
      wake?.();
      yield value;
    }
  } finally {
    // A consumer that stops early (a failed upload) must not leave the encoder waiting.
    stopped = true;
    wake?.();
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

/** {@link writeParquetStream} as a byte stream, for uploads and file writes. */
export function parquetReadable(table: Table, options: ParquetWriteOptions = {}): Readable {
  return Readable.from(writeParquetStream(table, options), { objectMode: false });
}
