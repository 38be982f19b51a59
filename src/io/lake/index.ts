/** The lake: object stores, single-object formats and Hive-partitioned Parquet datasets. */
export { createLake, createLocalLake } from './lake.ts';
export type { LakeOptions } from './lake.ts';
export { createLocalStore } from './local-store.ts';
export { writePartitioned } from './partitioned-write.ts';
export type { PartitionedWriteTuning } from './partitioned-write.ts';
export { readPartitioned } from './partitioned-read.ts';
export { formatOf } from './formats.ts';
export type { LakeFormat } from './formats.ts';
export { escapeHiveValue, unescapeHiveValue, HIVE_DEFAULT_PARTITION } from './hive-path.ts';
export { checkKey, joinKey, objectNotFound } from './object-keys.ts';
export { PARTITION_FILE } from './partitioned-write.ts';
