/**
 * Hive-partitioned Parquet datasets: `prefix/<col>=<value>/part-<writeId>-00000.parquet`,
 * the partition columns dropped from the files (pyarrow's convention).
 *
 * A write goes in three steps:
 *  1. every partition's new data file is written (bounded parallelism, one
 *     partition's rows in memory per worker);
 *  2. each partition is committed by atomically replacing its
 *     `_pipekit_manifest.json` (see manifest.ts);
 *  3. files the manifest no longer names are deleted: the partition's old
 *     files, and leftovers of earlier writes that crashed.
 *
 * What readers see:
 *  - `readPartitioned` reads only committed files: the old partition until
 *    step 2, the new one after; never an empty or doubled partition, also
 *    after a crash at any step.
 *  - An external reader that globs every file (BigQuery over
 *    `gs://bucket/prefix/*.parquet` with hive partitioning) sees the new and
 *    the old files of a partition together between steps 2 and 3, and keeps
 *    seeing both if the process died there — until the next write of that
 *    partition cleans up. The manifests are `.json` and do not match `*.parquet`.
 *
 * One writer per partition at a time: two concurrent writes of the same
 * partition each produce a consistent state, the last commit wins, and files
 * the other writer is still writing are never deleted (cleanup only removes
 * files that existed before the write started).
 */
import type { Table } from 'apache-arrow';
import { ConnectionError, DataError } from '../../errors.ts';
import { take } from '../../table/take.ts';
import { writeParquet } from '../parquet/index.ts';
import type { ParquetWriteOptions } from '../parquet/index.ts';
import type { ObjectStore, PartitionedWriteOptions, PartitionedWriteResult } from '../types.ts';
import { mapBounded } from './bounded.ts';
import { listDataset } from './dataset-listing.ts';
import type { PartitionFolder } from './dataset-listing.ts';
import { HIVE_DEFAULT_PARTITION, hiveSegment } from './hive-path.ts';
import { committedFiles, dataFileName, isOwnDataFile, MANIFEST_NAME, newWriteId, writeManifest } from './manifest.ts';
import { checkKey, joinKey } from './object-keys.ts';
import { groupRows } from './partition-keys.ts';

export interface PartitionedWriteTuning {
  /** Partitions encoded and uploaded at once. Default 4: DuckDB encodes them on all cores, uploads overlap. */
  readonly concurrency?: number;
  readonly parquet?: ParquetWriteOptions;
  /**
   * Who encodes the files: `duckdb` (default; native, in parallel — falls back to
   * parquet-wasm for column types it cannot scan) or `wasm` (parquet-wasm, one thread).
   */
  readonly encoder?: 'duckdb' | 'wasm';
}

/** Writes `table` as a Hive-partitioned Parquet dataset under `prefix`; see the module comment for the guarantees. */
export async function writePartitioned(
  store: ObjectStore,
  table: Table,
  prefix: string,
  options: PartitionedWriteOptions,
  tuning: PartitionedWriteTuning = {},
): Promise<PartitionedWriteResult> {
  const base = joinKey(checkKey(prefix.replace(/\/+$/, ''), store.uri));
  const target = store.url(`${base}/`);
  const columns = typeof options.partitionBy === 'string' ? [options.partitionBy] : [...options.partitionBy];
  const mode = options.mode ?? 'overwrite-partitions';
  checkPartitionColumns(table, columns, target);

  const existing = await listDataset(store, base);
  if (existing.columns.length > 0 && existing.columns.join('/') !== columns.join('/')) {
    throw new DataError({
      source: target,
      message: `is partitioned by ${existing.columns.join(', ')}, not by ${columns.join(', ')}`,
      hint: 'write to another prefix, or delete the dataset first to change its partitioning',
    });
  }

  const groups = groupRows(table, columns, target);
  const dataColumns = table.schema.fields.map((f) => f.name).filter((name) => !columns.includes(name));
  const data = table.select(dataColumns);
  const writeId = newWriteId();
  const concurrency = tuning.concurrency ?? 4;
  const encode = await encoderFor(tuning);

  const written = await mapBounded(groups.values, concurrency, async (values, g) => {
    const path = values.map((v, i) => hiveSegment(columns[i], v)).join('/');
    const indices = groups.rows.subarray(groups.starts[g], groups.starts[g + 1]);
    // One partition covering the whole table needs no gather.
    const part = indices.length === table.numRows ? data : take(data, indices);
    const name = dataFileName(writeId, 0);
    await store.write(joinKey(base, path, name), await encode(part), { contentType: 'application/vnd.apache.parquet' });
    return { path, values, rows: indices.length, name };
  });

  // Commit: only now does any partition change for readers going through manifests.
  const commits = await mapBounded(written, concurrency * 4, async (w) => {
    const before = existing.partitions.get(w.path);
    const kept = mode === 'append' && before ? await committedFiles(store, before.key, before.names) : [];
    const files = [...kept, w.name];
    await writeManifest(store, joinKey(base, w.path), { writeId, files, rows: w.rows });
    return { ...w, before, files };
  });

  await cleanUp(store, commits, target);

  return {
    rows: table.numRows,
    target,
    partitions: commits.map((c) => ({
      value: columns.length === 1 ? (c.values[0] ?? HIVE_DEFAULT_PARTITION) : c.path,
      rows: c.rows,
      files: [store.url(joinKey(base, c.path, c.name))],
    })),
  };
}

/** DuckDB's encoder (which hands what it cannot take to parquet-wasm), or parquet-wasm alone when asked. */
async function encoderFor(tuning: PartitionedWriteTuning): Promise<(part: Table) => Promise<Uint8Array>> {
  if ((tuning.encoder ?? 'duckdb') === 'wasm') return async (part) => writeParquet(part, tuning.parquet);
  // Loaded on first use: DuckDB is a native library that lake reads do not need.
  const { encodeParquet } = await import('../duckdb/parquet-encoder.ts');
  return (part) => encodeParquet(part, tuning.parquet);
}

/** Deletes what the new manifests no longer name, among the files present before this write. */
async function cleanUp(
  store: ObjectStore,
  commits: readonly { before?: PartitionFolder; files: readonly string[] }[],
  target: string,
): Promise<void> {
  const stale = commits.flatMap(({ before, files }) =>
    (before?.names ?? [])
      .filter((n) => n !== MANIFEST_NAME && !files.includes(n) && (n.toLowerCase().endsWith('.parquet') || isOwnDataFile(n)))
      .map((n) => joinKey(before!.key, n)),
  );
  if (stale.length === 0) return;
  try {
    await store.delete(stale);
  } catch (error) {
    throw new ConnectionError({
      target,
      message: `the new data is committed, but ${stale.length} replaced file(s) could not be deleted: ${(error as Error).message}`,
      hint: 'pipekit readers already ignore them; the next write of these partitions deletes them (external readers such as BigQuery still see them until then)',
      cause: error,
    });
  }
}

function checkPartitionColumns(table: Table, columns: readonly string[], target: string): void {
  const names = table.schema.fields.map((f) => f.name);
  if (columns.length === 0 || new Set(columns).size !== columns.length) {
    throw new DataError({ source: target, message: 'partitionBy must name one or more distinct columns', hint: `columns are: ${names.join(', ')}` });
  }
  if (columns.length === names.length) {
    throw new DataError({ source: target, message: 'every column is a partition column, so the files would have none', hint: 'partition by fewer columns' });
  }
}
