/**
 * Reads a Hive-partitioned Parquet dataset back into one table, with the
 * partition columns restored (as dates when every value is `YYYY-MM-DD`,
 * else as strings) and only the partitions the filter selects downloaded.
 * Every `*.parquet` file of a partition counts, as for any glob reader
 * (DuckDB, pyarrow, BigQuery): the files are the one source of truth.
 */
import type { Table } from 'apache-arrow';
import { DataError, NotFoundError } from '../../errors.ts';
import { concatTables } from '../../table/concat.ts';
import type { ObjectStore, PartitionedReadOptions } from '../types.ts';
import { mapBounded } from './bounded.ts';
import { withConstantColumns } from './constant-columns.ts';
import type { ConstantColumn } from './constant-columns.ts';
import { listDataset } from './dataset-listing.ts';
import type { PartitionFolder } from './dataset-listing.ts';
import { HIVE_DEFAULT_PARTITION, parseEpochDay } from './hive-path.ts';
import { checkKey, joinKey } from './object-keys.ts';

/** Reads the Parquet files of the selected partitions; a dataset with no files is an error, not an empty table. */
export async function readPartitioned(
  store: ObjectStore,
  prefix: string,
  options: PartitionedReadOptions = {},
  concurrency = 8,
): Promise<Table> {
  const base = joinKey(checkKey(prefix.replace(/\/+$/, ''), store.uri));
  const target = store.url(`${base}/`);
  const listing = await listDataset(store, base);
  const all = [...listing.partitions.values()];
  if (all.length === 0) {
    throw new NotFoundError(`${target}: no partitioned dataset here (no <column>=<value>/ folders with files)`, {
      hint: 'check the prefix, and that the pipeline writing this dataset has run',
    });
  }
  const types = listing.columns.map((_, i) =>
    all.every((p) => p.values[i] === null || parseEpochDay(p.values[i]!) !== undefined) ? 'date' : 'string',
  );
  const selected = all.filter(matches(listing.columns, options.filter ?? {}, target));

  // Loaded here, not at import: a process that only writes the lake never compiles parquet-wasm.
  const { readParquet } = await import('../parquet/read.ts');
  const read = async (partition: PartitionFolder): Promise<Table[]> => {
    const files = partition.names.filter((n) => n.toLowerCase().endsWith('.parquet'));
    const constants: ConstantColumn[] = listing.columns.map((name, i) => {
      const text = partition.values[i];
      return { name, type: types[i], value: text === null ? null : types[i] === 'date' ? parseEpochDay(text)! : text };
    });
    return Promise.all(
      files.map(async (file) => {
        const key = joinKey(partition.key, file);
        const table = readParquet(await store.read(key), { source: store.url(key) });
        // Files written by others may keep the partition column: don't add it twice.
        return withConstantColumns(
          table,
          constants.filter((c) => !table.schema.fields.some((f) => f.name === c.name)),
        );
      }),
    );
  };

  let tables = (await mapBounded(selected, concurrency, read)).flat();
  if (tables.length === 0) {
    // Nothing selected: return the dataset's columns with no rows, never a schema-less table.
    const sample = await firstNonEmpty(all, read);
    if (!sample)
      throw new NotFoundError(`${target}: no Parquet files in any partition`, { hint: 're-run the pipeline that writes this dataset' });
    tables = [sample.slice(0, 0)];
  }
  try {
    return concatTables(tables);
  } catch (error) {
    throw new DataError({
      source: target,
      message: `its files do not share one schema: ${(error as Error).message}`,
      hint: 'rewrite the older partitions with the current pipeline, or read the partitions separately with a filter',
    });
  }
}

function matches(columns: readonly string[], filter: Readonly<Record<string, readonly string[]>>, target: string) {
  const wanted = Object.entries(filter).map(([column, values]) => {
    const i = columns.indexOf(column);
    if (i < 0) {
      throw new DataError({
        source: target,
        column,
        message: 'the filter names a column the dataset is not partitioned by',
        hint: `filter on ${columns.join(', ')}; other columns must be filtered after reading`,
      });
    }
    // The default partition is matched by its folder name.
    return { i, values: new Set(values.map((v) => (v === HIVE_DEFAULT_PARTITION ? null : v))) };
  });
  return (p: PartitionFolder) => wanted.every(({ i, values }) => values.has(p.values[i]));
}

async function firstNonEmpty(
  partitions: readonly PartitionFolder[],
  read: (p: PartitionFolder) => Promise<Table[]>,
): Promise<Table | undefined> {
  for (const p of partitions) {
    const [first] = await read(p);
    if (first) return first;
  }
  return undefined;
}
