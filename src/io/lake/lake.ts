/**
 * The lake: single objects and Hive-partitioned Parquet datasets on any
 * ObjectStore (a local folder on a laptop, a GCS bucket prefix in the cloud).
 * Everything here talks to the store interface only, so the GCS store reuses it.
 */
import type { Table } from 'apache-arrow';
import { checkUniqueColumns } from '../../table/unique-columns.ts';
import type { Lake, ObjectStore } from '../types.ts';
import { CONTENT_TYPES, decodeObject, encodeTable, formatOf } from './formats.ts';
import { createLocalStore } from './local-store.ts';
import { checkKey } from './object-keys.ts';
import { readPartitioned } from './partitioned-read.ts';
import { writePartitioned } from './partitioned-write.ts';
import type { PartitionedWriteTuning } from './partitioned-write.ts';

export interface LakeOptions {
  /** Tuning of partitioned writes (parallelism, Parquet compression); its `signal` stops every write. */
  readonly partitioned?: PartitionedWriteTuning;
}

/** A Lake over `store`. */
export function createLake(store: ObjectStore, options: LakeOptions = {}): Lake {
  const signal = options.partitioned?.signal;
  return {
    uri: store.uri,
    store,

    async write(table: Table, key: string) {
      checkKey(key, store.uri);
      const format = formatOf(key, store.uri);
      checkUniqueColumns(table, store.url(key));
      // Leftovers of a writer of this folder that was killed.
      await store.sweep?.(key.includes('/') ? key.slice(0, key.lastIndexOf('/')) : '', { recursive: false });
      signal?.throwIfAborted();
      await store.write(key, encodeTable(table, format, signal), { contentType: CONTENT_TYPES[format], signal });
      return { rows: table.numRows, target: store.url(key) };
    },

    async read(key, readOptions) {
      checkKey(key, store.uri);
      return decodeObject(store, key, formatOf(key, store.uri), readOptions?.columns);
    },

    async writePartitioned(table, prefix, writeOptions) {
      // Picking columns by name would silently keep one of two same-named columns.
      checkUniqueColumns(table, store.url(prefix));
      return writePartitioned(store, table, prefix, writeOptions, options.partitioned);
    },

    readPartitioned: (prefix, readOptions) => readPartitioned(store, prefix, readOptions),

    withSignal: (next) => createLake(store, { ...options, partitioned: { ...options.partitioned, signal: next } }),
  };
}

/** A Lake over a local folder (created on first write). */
export function createLocalLake(folder: string, options: LakeOptions = {}): Lake {
  return createLake(createLocalStore(folder), options);
}
