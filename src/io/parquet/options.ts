/**
 * pipekit's Parquet write options, apart from parquet-wasm: DuckDB's encoder and the callers
 * read them without loading the WebAssembly (~0.08 CPU-s to compile at import).
 */
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
