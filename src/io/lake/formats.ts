/**
 * Object formats of the lake, chosen by the key's extension (case-insensitive,
 * unlike Mage, which rejects `.PARQUET` and `.csv.gz`).
 */
import { Readable } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';
import type { Table } from 'apache-arrow';
import { ConfigError } from '../../errors.ts';
import { decodeCsv } from '../csv/decode.ts';
import { encodeCsv } from '../csv/encode.ts';
import type { ColumnType, ObjectStore } from '../types.ts';
import { decodeJsonLines, encodeJsonLines } from './json-lines.ts';

export type LakeFormat = 'parquet' | 'csv' | 'csv.gz' | 'json';

/** Extensions in match order (`.csv.gz` before `.csv`). */
const EXTENSIONS: readonly [string, LakeFormat][] = [
  ['.parquet', 'parquet'],
  ['.csv.gz', 'csv.gz'],
  ['.csv', 'csv'],
  ['.json', 'json'],
  ['.jsonl', 'json'],
  ['.ndjson', 'json'],
];

export const CONTENT_TYPES: Record<LakeFormat, string> = {
  parquet: 'application/vnd.apache.parquet',
  csv: 'text/csv',
  'csv.gz': 'application/gzip',
  json: 'application/x-ndjson',
};

/** The format of a key, or a ConfigError naming the key and the supported extensions. */
export function formatOf(key: string, storeUri: string): LakeFormat {
  const lower = key.toLowerCase();
  const found = EXTENSIONS.find(([ext]) => lower.endsWith(ext));
  if (found) return found[1];
  throw new ConfigError({
    file: storeUri,
    key,
    message: 'has no supported file extension',
    hint: `name the object with one of: ${EXTENSIONS.map(([e]) => e).join(', ')} (the extension picks the format)`,
  });
}

/**
 * Encodes a table in a format: Parquet a row group at a time and CSV in
 * chunks (gzipped on the fly), so a big table never exists twice in memory;
 * JSON whole.
 */
export function encodeTable(table: Table, format: LakeFormat, signal?: AbortSignal): Uint8Array | Readable {
  switch (format) {
    case 'parquet':
      return parquetFile(table, signal);
    case 'csv':
      return Readable.from(encodeCsv(table));
    case 'csv.gz': {
      const text = Readable.from(encodeCsv(table));
      const gzip = createGzip({ level: 6 });
      text.on('error', (error) => gzip.destroy(error));
      return text.pipe(gzip);
    }
    case 'json':
      return encodeJsonLines(table);
  }
}

/** Reads and decodes one object. CSV is streamed (and gunzipped) straight into the decoder. */
export async function decodeObject(
  store: ObjectStore,
  key: string,
  format: LakeFormat,
  columns?: Readonly<Record<string, ColumnType>>,
): Promise<Table> {
  const source = store.url(key);
  switch (format) {
    case 'parquet': {
      // Loaded on first read: parquet-wasm compiles its WebAssembly at import (~0.08 CPU-s),
      // which a run that only writes Parquet (through DuckDB) would pay for nothing.
      const { readParquetRowGroups } = await import('../parquet/read.ts');
      return readParquetRowGroups(await store.readBlob(key), { source });
    }
    case 'json':
      return decodeJsonLines(await store.read(key), source, columns);
    case 'csv':
    case 'csv.gz': {
      // Fail on a missing object before a stream is set up, with the store's own error.
      if (!(await store.exists(key))) await store.read(key);
      const raw = store.createReadStream(key);
      const bytes = format === 'csv.gz' ? raw.pipe(createGunzip()) : raw;
      if (format === 'csv.gz') raw.on('error', (error) => bytes.destroy(error));
      const { table } = await decodeCsv(bytes, { sourceName: source, columns });
      return table;
    }
  }
}

/** The file's bytes from duckdb/parquet-encoder.ts (DuckDB, or parquet-wasm for what DuckDB cannot take). */
function parquetFile(table: Table, signal?: AbortSignal): Readable {
  return Readable.from(
    (async function* () {
      // Loaded on first use: DuckDB is a native library that reads and other formats do not need.
      const { parquetFileStream } = await import('../duckdb/parquet-encoder.ts');
      yield* parquetFileStream(table, {}, signal);
    })(),
    { objectMode: false },
  );
}
