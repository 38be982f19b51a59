/**
 * What is under a partitioned dataset prefix: its partition folders, with
 * their values and file names, from a single recursive `list` call.
 */
import { DataError } from '../../errors.ts';
import type { ObjectStore } from '../types.ts';
import { parseHiveSegment } from './hive-path.ts';
import { joinKey } from './object-keys.ts';

export interface PartitionFolder {
  /** Store key of the partition folder, e.g. `nyc/tpep_pickup_date=2021-01-01`. */
  readonly key: string;
  /** `tpep_pickup_date=2021-01-01` (relative to the dataset prefix). */
  readonly path: string;
  /** Unescaped values, one per partition column; null for the default partition. */
  readonly values: readonly (string | null)[];
  /** Names of the objects directly in the folder. */
  readonly names: readonly string[];
}

export interface DatasetListing {
  /** Partition columns, outermost first; empty when nothing is there. */
  readonly columns: readonly string[];
  readonly partitions: ReadonlyMap<string, PartitionFolder>;
}

/** Lists a dataset; objects outside `col=value/` folders are ignored (e.g. `_SUCCESS`). */
export async function listDataset(store: ObjectStore, prefix: string): Promise<DatasetListing> {
  const base = `${joinKey(prefix)}/`;
  const keys = await store.list(base);
  let columns: string[] | undefined;
  const partitions = new Map<string, { key: string; path: string; values: (string | null)[]; names: string[] }>();
  for (const key of keys) {
    const segments = key.slice(base.length).split('/');
    const name = segments.pop()!;
    if (segments.length === 0) continue; // a file at the dataset root
    const parsed = segments.map(parseHiveSegment);
    if (parsed.some((p) => p === undefined)) continue;
    const cols = parsed.map((p) => p!.column);
    if (!columns) columns = cols;
    else if (cols.join('/') !== columns.join('/')) {
      throw new DataError({
        source: store.url(key),
        message: `is partitioned by ${cols.join(', ')}, but other files of the dataset by ${columns.join(', ')}`,
        hint: `keep one partitioning per dataset: move or delete the files under ${store.url(base)} that do not match`,
      });
    }
    const path = segments.join('/');
    let folder = partitions.get(path);
    if (!folder) {
      folder = { key: base + path, path, values: parsed.map((p) => p!.value), names: [] };
      partitions.set(path, folder);
    }
    folder.names.push(name);
  }
  return { columns: columns ?? [], partitions };
}
