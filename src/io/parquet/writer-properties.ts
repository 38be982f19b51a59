/**
 * parquet-wasm writer settings from pipekit's options; shared by the
 * whole-table and the streaming writer so both produce the same files.
 */
import { Type } from 'apache-arrow';
import type { Schema } from 'apache-arrow';
import { Compression, WriterPropertiesBuilder } from 'parquet-wasm';
import type { WriterProperties } from 'parquet-wasm';

export type ParquetCompression = 'snappy' | 'zstd' | 'lz4' | 'gzip' | 'none';

export interface ParquetWriteOptions {
  /**
   * Default `snappy`: the fastest to write here and read by every engine
   * (BigQuery, DuckDB, Spark, pandas). `zstd` gives ~25% smaller files.
   */
  readonly compression?: ParquetCompression;
  /**
   * Rows per row group. Default 131,072: close to DuckDB's 122,880, big enough
   * for good compression, small enough that BigQuery and DuckDB split a
   * month of taxi data over several workers.
   */
  readonly rowGroupSize?: number;
  /**
   * Dictionary-encode columns (default true: taxi ids, flags and amounts
   * shrink a lot). Turn off for throw-away staging files, where it is ~40% of
   * the write time.
   */
  readonly dictionary?: boolean;
  /** Key/value pairs stored in the file footer. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** Default rows per row group; see {@link ParquetWriteOptions.rowGroupSize}. */
export const DEFAULT_ROW_GROUP_SIZE = 131_072;

const CODECS: Record<ParquetCompression, Compression> = {
  snappy: Compression.SNAPPY,
  zstd: Compression.ZSTD,
  lz4: Compression.LZ4_RAW,
  gzip: Compression.GZIP,
  none: Compression.UNCOMPRESSED,
};

/** Builds the wasm-side properties; the caller hands them to exactly one write (which frees them). */
export function writerProperties(schema: Schema, options: ParquetWriteOptions = {}): WriterProperties {
  let builder = new WriterPropertiesBuilder()
    .setCompression(CODECS[options.compression ?? 'snappy'])
    .setMaxRowGroupSize(options.rowGroupSize ?? DEFAULT_ROW_GROUP_SIZE)
    .setCreatedBy('pipekit')
    .setDictionaryEnabled(options.dictionary ?? true);
  // Timestamps are nearly unique per row: trying a dictionary first costs
  // ~25% of the write time of a taxi month and makes the file larger.
  for (const field of schema.fields) {
    if (field.type.typeId === Type.Timestamp) builder = builder.setColumnDictionaryEnabled(field.name, false);
  }
  if (options.metadata) builder = builder.setKeyValueMetadata(new Map(Object.entries(options.metadata)));
  return builder.build();
}
