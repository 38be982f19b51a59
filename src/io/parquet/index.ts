/** Parquet encoding and decoding of Arrow tables (parquet-wasm). */
export { parquetReadable, writeParquet, writeParquetStream } from './write.ts';
export { DEFAULT_ROW_GROUP_SIZE } from './options.ts';
export type { ParquetCompression, ParquetWriteOptions } from './options.ts';
export { readParquet, readParquetRowGroups } from './read.ts';
export type { ParquetReadOptions } from './read.ts';
export { normalizeForParquet } from './normalize.ts';
