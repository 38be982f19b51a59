/**
 * The commit record of one partition: `_pipekit_manifest.json` in the
 * partition folder names the data files that make up the partition now.
 *
 * Why a manifest: object stores have no rename of folders and no
 * transactions. Writing new files, then swapping one small object (atomic on
 * both the local store and GCS), then deleting the old files means a reader
 * going through the manifest never sees an empty or doubled partition, and a
 * crash at any point leaves the previous or the new state, never a mix.
 */
import { DataError } from '../../errors.ts';
import type { ObjectStore } from '../types.ts';
import { joinKey } from './object-keys.ts';

export const MANIFEST_NAME = '_pipekit_manifest.json';
const FORMAT = 'pipekit-partition/1';

/** Data files pipekit writes: `part-<writeId>-<nnnnn>.parquet`. */
const OWN_FILE = /^part-[0-9a-z]+-\d{5}\.parquet$/;

export interface PartitionManifest {
  readonly format: typeof FORMAT;
  /** The write that committed this state. */
  readonly writeId: string;
  /** Data file names, relative to the partition folder. */
  readonly files: readonly string[];
  readonly rows: number;
  readonly committedAt: string;
}

/** A fresh, sortable, collision-resistant id for one write. */
export function newWriteId(): string {
  const random = Math.floor(Math.random() * 36 ** 6).toString(36).padStart(6, '0');
  return `${Date.now().toString(36)}${random}`;
}

/** The name of the n-th data file of a write. */
export function dataFileName(writeId: string, n: number): string {
  return `part-${writeId}-${String(n).padStart(5, '0')}.parquet`;
}

/** True for data files pipekit wrote (which count only once a manifest names them). */
export function isOwnDataFile(name: string): boolean {
  return OWN_FILE.test(name);
}

export async function readManifest(store: ObjectStore, partitionKey: string): Promise<PartitionManifest> {
  const key = joinKey(partitionKey, MANIFEST_NAME);
  const text = new TextDecoder().decode(await store.read(key));
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const m = parsed as Partial<PartitionManifest> | undefined;
  if (!m || m.format !== FORMAT || !Array.isArray(m.files) || m.files.some((f) => typeof f !== 'string' || f.includes('/'))) {
    throw new DataError({
      source: store.url(key),
      message: `is not a ${FORMAT} manifest`,
      hint: 'delete the file and re-run the pipeline that writes this dataset',
    });
  }
  return m as PartitionManifest;
}

export async function writeManifest(store: ObjectStore, partitionKey: string, manifest: Omit<PartitionManifest, 'format' | 'committedAt'>): Promise<void> {
  const body: PartitionManifest = { format: FORMAT, ...manifest, committedAt: new Date().toISOString() };
  await store.write(joinKey(partitionKey, MANIFEST_NAME), new TextEncoder().encode(`${JSON.stringify(body, null, 2)}\n`), {
    contentType: 'application/json',
  });
}

/**
 * The data files of a partition as readers must see them: the manifest's
 * files when there is one; otherwise every Parquet file that pipekit did not
 * write (a dataset written by pyarrow, Spark or DuckDB), since pipekit's own
 * files without a manifest belong to a write that never committed.
 */
export async function committedFiles(store: ObjectStore, partitionKey: string, names: readonly string[]): Promise<string[]> {
  if (names.includes(MANIFEST_NAME)) return [...(await readManifest(store, partitionKey)).files];
  return names.filter((n) => n.toLowerCase().endsWith('.parquet') && !isOwnDataFile(n));
}
