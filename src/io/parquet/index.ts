/** Parquet encoding and decoding of Arrow tables (parquet-wasm). */
export { writeParquet, DEFAULT_ROW_GROUP_SIZE } from './write.ts';
export type { ParquetCompression, ParquetWriteOptions } from './write.ts';
export { readParquet } from './read.ts';
export type { ParquetReadOptions } from './read.ts';
export { normalizeForParquet } from './normalize.ts';
