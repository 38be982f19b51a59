/**
 * Parquet files encoded by DuckDB's native writer, fed by the Arrow scan.
 *
 * Why: parquet-wasm encodes on one thread at wasm speed (~1.3 s of CPU for a
 * taxi month in daily partitions, most of it dictionary hashing). DuckDB
 * encodes the same files natively and, with a connection per partition in
 * flight, on every core: the month's 32 partitions went from 1.6 s to ~0.9 s.
 * The files are the same shape as parquet-wasm's: timestamps in
 * microseconds, dictionary-encoded where it pays, the chosen codec.
 */
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { Table } from 'apache-arrow';
import { normalizeForParquet } from '../parquet/normalize.ts';
import { DEFAULT_ROW_GROUP_SIZE, type ParquetWriteOptions } from '../parquet/writer-properties.ts';
import { canScan, scanArrow } from './arrow-scan.ts';
import { quoteString } from './identifiers.ts';
import { openInstance } from './session.ts';

const CODECS = { snappy: 'snappy', zstd: 'zstd', lz4: 'lz4_raw', gzip: 'gzip', none: 'uncompressed' } as const;

/** Whether DuckDB can encode `table` with `options`; if not, use parquet-wasm's writeParquet. */
export function duckDbCanEncode(table: Table, options: ParquetWriteOptions = {}): boolean {
  // Turning dictionaries off is a parquet-wasm setting (throw-away staging files); DuckDB decides per column.
  return options.dictionary !== false && canScan(normalizeForParquet(table));
}

interface Encoder {
  readonly instance: DuckDBInstance;
  readonly idle: DuckDBConnection[];
  readonly folder: string;
}

let encoder: Promise<Encoder> | undefined;
let files = 0;

/**
 * Encodes `table` as one Parquet file and returns its bytes. Calls may
 * overlap: each gets its own connection, and DuckDB runs them on its threads.
 */
export async function encodeParquetWithDuckDb(table: Table, options: ParquetWriteOptions = {}): Promise<Uint8Array> {
  const { idle, instance, folder } = await (encoder ??= openEncoder());
  const connection = idle.pop() ?? (await instance.connect());
  const file = join(folder, `part-${++files}.parquet`);
  const { sql, release } = scanArrow(connection, normalizeForParquet(table));
  try {
    await connection.run(`COPY (SELECT * FROM ${sql}) TO ${quoteString(file)} (${copyOptions(options)})`);
    return await readFile(file);
  } finally {
    release();
    idle.push(connection);
    await rm(file, { force: true });
  }
}

function copyOptions(options: ParquetWriteOptions): string {
  const parts = [
    'FORMAT PARQUET',
    `COMPRESSION ${CODECS[options.compression ?? 'snappy']}`,
    `ROW_GROUP_SIZE ${options.rowGroupSize ?? DEFAULT_ROW_GROUP_SIZE}`,
  ];
  const metadata = Object.entries(options.metadata ?? {});
  if (metadata.length) parts.push(`KV_METADATA {${metadata.map(([k, v]) => `${quoteString(k)}: ${quoteString(v)}`).join(', ')}}`);
  return parts.join(', ');
}

async function openEncoder(): Promise<Encoder> {
  // An in-memory database that never holds a table: COPY streams from the scan to the file.
  const instance = await openInstance(':memory:');
  const folder = await mkdtemp(join(tmpdir(), 'pipekit-parquet-'));
  // The folder goes with the process; the files in it are removed as soon as they are read.
  process.once('exit', () => rmSync(folder, { recursive: true, force: true }));
  return { instance, idle: [], folder };
}
