/**
 * Hive-partitioned Parquet datasets: `prefix/<col>=<value>/part-00000.parquet`,
 * the partition columns dropped from the files (pyarrow's convention).
 *
 * Layout: every partition pipekit writes is exactly one object with a fixed
 * name. Rewriting a partition replaces that object, which is atomic on both
 * stores (GCS publishes an object when its upload completes; the local store
 * renames a finished temp file into place). So a reader that globs every
 * `*.parquet` under the prefix — DuckDB with `hive_partitioning`, pyarrow
 * datasets, BigQuery external tables, Spark, and `readPartitioned` itself —
 * sees each partition's old rows or its new rows, at every instant and after
 * a crash at any point: never both, never none.
 *
 * Why not an open table format (Delta, Iceberg): BigQuery external tables,
 * pyarrow datasets and DuckDB's `read_parquet` glob plain Hive folders with no
 * extra setup, and the Zoomcamp's next step is exactly such an external
 * table. One object per partition keeps every change a single atomic replace.
 *
 * Then, per partition, files the new object supersedes are deleted: Parquet
 * files of other names (an older pipekit's `part-<id>-00000.parquet`, files
 * written by other tools) and older pipekit's `_pipekit_manifest.json`.
 * Only for those foreign files is there a moment, between the replace and
 * the delete, when a glob reader sees both; pipekit never writes them.
 *
 * `append` keeps the one-object rule too: the partition's current rows and
 * the new ones are written together as its next object (partitions are a day
 * of data, so reading one back is cheap), and readers see the rows before or
 * after the append, never half of it.
 *
 * One writer per partition at a time: two concurrent writes of the same
 * partition each leave a whole partition; the last one wins.
 */
import { makeData, RecordBatch, Struct, Table } from 'apache-arrow';
import { ConnectionError, DataError } from '../../errors.ts';
import { take } from '../../table/take.ts';
import { normalizeForParquet } from '../parquet/normalize.ts';
import type { ParquetWriteOptions } from '../parquet/options.ts';
import type { ObjectStore, PartitionedWriteOptions, PartitionedWriteResult } from '../types.ts';
import { failpoint } from '../failpoints.ts';
import { mapBounded } from './bounded.ts';
import { listDataset } from './dataset-listing.ts';
import type { PartitionFolder } from './dataset-listing.ts';
import { HIVE_DEFAULT_PARTITION, hiveSegment } from './hive-path.ts';
import { checkKey, joinKey } from './object-keys.ts';
import { groupRows } from './partition-keys.ts';

/** The one object of a partition. */
export const PARTITION_FILE = 'part-00000.parquet';
/** The commit record of pipekit before one object per partition; removed when its partition is rewritten. */
const LEGACY_MANIFEST = '_pipekit_manifest.json';

export interface PartitionedWriteTuning {
  /** Partitions encoded and uploaded at once. Default 4: DuckDB encodes them on all cores, uploads overlap. */
  readonly concurrency?: number;
  readonly parquet?: ParquetWriteOptions;
  /**
   * Who encodes the files: `duckdb` (default; native, in parallel — falls back to
   * parquet-wasm for column types it cannot scan) or `wasm` (parquet-wasm, one thread).
   */
  readonly encoder?: 'duckdb' | 'wasm';
  /** Stops the write (cancel, timeout): partitions already replaced stay replaced, the others keep their old rows. */
  readonly signal?: AbortSignal;
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
  const { signal } = tuning;
  checkPartitionColumns(table, columns, target);

  // Leftovers of writers that were killed: nobody else removes them.
  await store.sweep?.(base);
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
  const concurrency = tuning.concurrency ?? 4;
  const encode = await encoderFor(tuning);

  const written = await mapBounded(groups.values, concurrency, async (values, g) => {
    signal?.throwIfAborted();
    const path = values.map((v, i) => hiveSegment(columns[i], v)).join('/');
    const indices = groups.rows.subarray(groups.starts[g], groups.starts[g + 1]);
    const before = existing.partitions.get(path);
    // Appending rewrites the partition with its current rows first: a table of its own.
    const bytes =
      mode === 'append' && before
        ? await encode.table(await withCurrentRows(store, before, take(data, indices), columns, target))
        : await encode.rows(data, indices);
    const key = joinKey(base, path, PARTITION_FILE);
    await store.write(key, bytes, { contentType: 'application/vnd.apache.parquet', signal });
    failpoint('lake.partition.replaced');
    await removeSuperseded(store, before, target);
    return { path, values, rows: indices.length, key };
  });

  return {
    rows: table.numRows,
    target,
    partitions: written.map((w) => ({
      value: columns.length === 1 ? (w.values[0] ?? HIVE_DEFAULT_PARTITION) : w.path,
      rows: w.rows,
      files: [store.url(w.key)],
    })),
  };
}

/** The rows a partition holds now, followed by `part`'s: the partition's next object in append mode. */
async function withCurrentRows(
  store: ObjectStore,
  partition: PartitionFolder,
  part: Table,
  columns: readonly string[],
  _target: string,
): Promise<Table> {
  // parquet-wasm only on this path (appending to partitions that exist): it compiles at import.
  const { readParquet } = await import('../parquet/read.ts');
  const current = await Promise.all(
    partition.names.filter(isParquet).map(async (name) => {
      const key = joinKey(partition.key, name);
      const table = readParquet(await store.read(key), { source: store.url(key) });
      // Files written by other tools may keep the partition columns.
      return table.select(table.schema.fields.map((f) => f.name).filter((n) => !columns.includes(n)));
    }),
  );
  const tables = [...current, normalizeForParquet(part)];
  const { schema } = tables[0];
  const shape = (t: Table) => t.schema.fields.map((f) => `${f.name}: ${f.type}`).join(', ');
  const other = tables.find((t) => shape(t) !== shape(tables[0]));
  if (other) {
    throw new DataError({
      source: store.url(partition.key),
      message: `cannot append: the partition has columns ${shape(tables[0])}; the new rows have ${shape(other)}`,
      hint: 'append rows with the same columns and types, or overwrite the partition (mode overwrite-partitions)',
    });
  }
  // Writers differ in details that do not change the data (nullability, type parameters): one schema for all.
  const struct = new Struct(schema.fields);
  return new Table(
    schema,
    tables.flatMap((t) =>
      t.batches.map((b) => new RecordBatch(schema, makeData({ type: struct, length: b.numRows, nullCount: 0, children: b.data.children }))),
    ),
  );
}

/** Deletes what the partition's new object replaces; see the module comment. */
async function removeSuperseded(store: ObjectStore, before: PartitionFolder | undefined, target: string): Promise<void> {
  const stale = (before?.names ?? [])
    .filter((n) => n !== PARTITION_FILE && (isParquet(n) || n === LEGACY_MANIFEST))
    .map((n) => joinKey(before!.key, n));
  if (stale.length === 0) return;
  try {
    await store.delete(stale);
  } catch (error) {
    throw new ConnectionError({
      target,
      message: `the partition ${before!.path} is rewritten, but ${stale.length} file(s) it replaces could not be deleted: ${(error as Error).message}`,
      hint: 'readers that glob the folder see those files too until they are gone: re-run the write, or delete them by hand',
      cause: error,
    });
  }
}

function isParquet(name: string): boolean {
  return name.toLowerCase().endsWith('.parquet');
}

/** Encodes a partition's file: from a table, or from rows of the table being written. */
interface PartitionEncoder {
  table(part: Table): Promise<Uint8Array>;
  rows(data: Table, indices: Int32Array): Promise<Uint8Array>;
}

/** DuckDB's encoder (which hands what it cannot take to parquet-wasm), or parquet-wasm alone when asked. */
async function encoderFor(tuning: PartitionedWriteTuning): Promise<PartitionEncoder> {
  // One partition covering the whole table needs no gather.
  const whole = (data: Table, indices: Int32Array) => indices.length === data.numRows;
  if ((tuning.encoder ?? 'duckdb') === 'wasm') {
    const { writeParquet } = await import('../parquet/write.ts');
    const table = async (part: Table) => writeParquet(part, tuning.parquet);
    return { table, rows: (data, indices) => table(whole(data, indices) ? data : take(data, indices)) };
  }
  // Loaded on first use: DuckDB is a native library that lake reads do not need.
  const { encodeParquet, encodeParquetRows } = await import('../duckdb/parquet-encoder.ts');
  const table = (part: Table) => encodeParquet(part, tuning.parquet, tuning.signal);
  return {
    table,
    rows: (data, indices) => (whole(data, indices) ? table(data) : encodeParquetRows(data, indices, tuning.parquet, tuning.signal)),
  };
}

function checkPartitionColumns(table: Table, columns: readonly string[], target: string): void {
  const names = table.schema.fields.map((f) => f.name);
  if (columns.length === 0 || new Set(columns).size !== columns.length) {
    throw new DataError({
      source: target,
      message: 'partitionBy must name one or more distinct columns',
      hint: `columns are: ${names.join(', ')}`,
    });
  }
  if (columns.length === names.length) {
    throw new DataError({
      source: target,
      message: 'every column is a partition column, so the files would have none',
      hint: 'partition by fewer columns',
    });
  }
}
