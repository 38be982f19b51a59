/**
 * Parquet files encoded by DuckDB's native writer, fed by the Arrow scan:
 * the lake's Parquet objects and partitioned datasets.
 *
 * Why: parquet-wasm encodes on one thread at wasm speed (~1.3 s of CPU for a
 * taxi month in daily partitions, most of it dictionary hashing). DuckDB
 * encodes the same files natively and on every core (a connection per
 * partition in flight): the month's 32 partitions went from 1.6 s to ~1.0 s,
 * the single-file and partitioned writes together from 2.2 s to 1.2 s.
 * The files are the same shape as parquet-wasm's: timestamps in
 * microseconds, dictionary-encoded where it pays, the chosen codec.
 */
import { createReadStream, rmSync } from 'node:fs';
import { Readable } from 'node:stream';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { Table } from 'apache-arrow';
import { isNormalForParquet, normalizeForParquet } from '../parquet/normalize.ts';
import { take } from '../../table/take.ts';
import { DEFAULT_ROW_GROUP_SIZE, type ParquetWriteOptions } from '../parquet/options.ts';
import { CancelledError, ConnectionError, DataError } from '../../errors.ts';
import { failpoint } from '../failpoints.ts';
import { trackNativeWork } from '../../process/in-flight.ts';
import { canScan, scanArrow, scanFailure } from './arrow-scan.ts';
import { makeTempFolder } from './temp-folders.ts';
import { quoteString } from './identifiers.ts';
import { openInstance } from './session.ts';

const CODECS = { snappy: 'snappy', zstd: 'zstd', lz4: 'lz4_raw', gzip: 'gzip', none: 'uncompressed' } as const;

/** Whether DuckDB can encode the (normalized) table with `options`; parquet-wasm writes the rest. */
function duckDbCanEncode(normalized: Table, options: ParquetWriteOptions): boolean {
  // Turning dictionaries off is a parquet-wasm setting (throw-away staging files); DuckDB decides per column.
  return options.dictionary !== false && canScan(normalized);
}

interface Encoder {
  readonly instance: DuckDBInstance;
  readonly idle: DuckDBConnection[];
  readonly folder: string;
}

/**
 * One in-memory database for every COPY, with one DuckDB thread: each COPY
 * then runs wholly on the libuv thread that runs its query, and COPYs in
 * flight at once (partitions, the single object beside them) run side by side.
 * Why not DuckDB's default threads: a COPY from the Arrow scan is one task
 * (the scan has one thread), and while a DuckDB worker runs it, the query's
 * own thread spins waiting for it (PendingQueryResult's loop) — a core's worth
 * of CPU per COPY in flight. One thread: api_to_gcs's two exporters 2.6-3.3 →
 * 2.0-2.5 CPU-s for the month. The cost: COPYs allocate on libuv's threads,
 * whose allocator caches DuckDB does not flush (peak RSS +30-60 MB).
 */
let encoder: Promise<Encoder> | undefined;
let files = 0;

/**
 * Encodes `table` as one Parquet file and returns its bytes: for files of a
 * few row groups (partitions). Calls may overlap: each gets its own
 * connection, and DuckDB runs them on its threads. Tables DuckDB cannot
 * take go to parquet-wasm's writeParquet.
 */
export async function encodeParquet(table: Table, options: ParquetWriteOptions = {}, signal?: AbortSignal): Promise<Uint8Array> {
  const normalized = normalizeForParquet(table);
  if (!duckDbCanEncode(normalized, options)) return (await import('../parquet/write.ts')).writeParquet(normalized, options);
  return copyToBytes(normalized, options, signal);
}

/**
 * Encodes the rows `rows` (ascending) of `table` as one Parquet file and
 * returns its bytes: a partition, gathered by the scan straight into DuckDB's
 * vectors instead of into a table of its own first. Tables DuckDB cannot take,
 * or that need normalizing, are gathered and go through encodeParquet.
 */
export async function encodeParquetRows(
  table: Table,
  rows: Int32Array,
  options: ParquetWriteOptions = {},
  signal?: AbortSignal,
): Promise<Uint8Array> {
  if (!isNormalForParquet(table) || !duckDbCanEncode(table, options)) return encodeParquet(take(table, rows), options, signal);
  return copyToBytes(table, options, signal, rows);
}

/** copyToFile, then the file's bytes (a partition's few row groups), the file removed. */
async function copyToBytes(normalized: Table, options: ParquetWriteOptions, signal?: AbortSignal, rows?: Int32Array): Promise<Uint8Array> {
  const file = await copyToFile(await (encoder ??= openEncoder()), normalized, options, signal, rows);
  try {
    return await readFile(file);
  } finally {
    await rm(file, { force: true });
  }
}

/**
 * Encodes `table` as one Parquet file and streams its bytes: DuckDB writes
 * the file (row groups on all cores) into a temporary folder, which is read
 * back in chunks and removed, so a month-sized file is never in memory whole.
 * Tables DuckDB cannot take go through parquet-wasm's streaming writer.
 */
export function parquetFileStream(table: Table, options: ParquetWriteOptions = {}, signal?: AbortSignal): Readable {
  const normalized = normalizeForParquet(table);
  return Readable.from(
    (async function* () {
      // parquet-wasm only for what DuckDB cannot take: it compiles its WebAssembly at import.
      if (!duckDbCanEncode(normalized, options)) return yield* (await import('../parquet/write.ts')).parquetReadable(normalized, options);
      const file = await copyToFile(await (encoder ??= openEncoder()), normalized, options, signal);
      try {
        yield* createReadStream(file);
      } finally {
        await rm(file, { force: true });
      }
    })(),
    { objectMode: false },
  );
}

/** Has DuckDB write `normalized` (see normalizeForParquet), or its rows `rows`, to a new file in the encoder's folder; returns its path. */
async function copyToFile(
  { idle, instance, folder }: Encoder,
  normalized: Table,
  options: ParquetWriteOptions,
  signal?: AbortSignal,
  rows?: Int32Array,
): Promise<string> {
  const settings = copyOptions(options); // bad options are the caller's error, not the disk's
  signal?.throwIfAborted();
  const connection = idle.pop() ?? (await instance.connect());
  const file = join(folder, `part-${++files}.parquet`);
  const { sql, release } = scanArrow(connection, normalized, rows);
  // Interrupted on abort, and before the process exits (see process/in-flight.ts): the scan calls back into JavaScript.
  const interrupt = () => connection.interrupt();
  signal?.addEventListener('abort', interrupt, { once: true });
  try {
    // Again each time: a long-running process (the console) can outlive a tmp cleaner's sweep.
    await mkdir(folder, { recursive: true });
    const copy = connection.run(`COPY (SELECT * FROM ${sql}) TO ${quoteString(file)} (${settings})`);
    failpoint('parquet.copy.started');
    await trackNativeWork(copy, interrupt);
    signal?.throwIfAborted();
    return file;
  } catch (error) {
    await rm(file, { force: true }).catch(() => undefined); // the folder itself may be what is wrong
    if (signal?.aborted) throw signal.reason ?? new CancelledError('Parquet write: cancelled');
    const message = (error as Error).message;
    const badData = scanFailure(message);
    // The table itself is at fault, not the disk.
    if (badData)
      throw new DataError({ source: 'Parquet write', message: badData, hint: 'fix the column upstream: Arrow text columns must be UTF-8' });
    throw new ConnectionError({
      target: file,
      message: `could not write the Parquet file: ${message}`,
      hint: 'Parquet files are written to a temporary folder before they reach the lake: check its free space, or point TMPDIR at a bigger disk',
      cause: error,
    });
  } finally {
    signal?.removeEventListener('abort', interrupt);
    release();
    idle.push(connection);
  }
}

function copyOptions(options: ParquetWriteOptions): string {
  const rowGroupSize = options.rowGroupSize ?? DEFAULT_ROW_GROUP_SIZE;
  // Goes into the SQL text: only a positive whole number may.
  if (!Number.isSafeInteger(rowGroupSize) || rowGroupSize < 1)
    throw new RangeError(`rowGroupSize must be a positive whole number, not ${rowGroupSize}`);
  const codec = CODECS[options.compression ?? 'snappy'];
  if (!codec) throw new RangeError(`compression must be one of ${Object.keys(CODECS).join(', ')}, not ${options.compression}`);
  const parts = ['FORMAT PARQUET', `COMPRESSION ${codec}`, `ROW_GROUP_SIZE ${rowGroupSize}`];
  const metadata = Object.entries(options.metadata ?? {});
  if (metadata.length) parts.push(`KV_METADATA {${metadata.map(([k, v]) => `${quoteString(k)}: ${quoteString(v)}`).join(', ')}}`);
  return parts.join(', ');
}

async function openEncoder(): Promise<Encoder> {
  // An in-memory database that never holds a table: COPY streams from the scan to the file.
  const instance = await openInstance(':memory:', { threads: '1' });
  // Named after this process: the next encoder sweeps the folders of killed ones.
  const folder = await makeTempFolder('pipekit-parquet-');
  // The folder goes with the process; the files in it are removed as soon as they are read.
  process.once('exit', () => rmSync(folder, { recursive: true, force: true }));
  return { instance, idle: [], folder };
}
