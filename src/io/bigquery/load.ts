/**
 * Load jobs: an Arrow table as Parquet (uploaded with the job, or staged in
 * the lake bucket), or files already in GCS by URI. Always with an explicit
 * schema and write disposition, always awaited.
 */
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Job, JobMetadata } from '@google-cloud/bigquery';
import type { Table } from 'apache-arrow';
import { ConfigError, DataError } from '../../errors.ts';
import { parquetReadable } from '../parquet/index.ts';
import { checkUniqueColumns } from '../../table/unique-columns.ts';
import type { ExportResult, IfExists, WarehouseTarget } from '../types.ts';
import type { BigQueryContext } from './context.ts';
import { ensureDataset } from './dataset.ts';
import { bigQueryError } from './errors.ts';
import { describeTable, tableRef, type TableRef } from './identifiers.ts';
import { awaitJob, runJob } from './jobs.ts';
import { appendMismatches, bigQuerySchemaOf, type BigQueryField } from './schema.ts';

export const WRITE_DISPOSITION: Record<IfExists, string> = { replace: 'WRITE_TRUNCATE', append: 'WRITE_APPEND', fail: 'WRITE_EMPTY' };

export interface LoadFromUriOptions {
  /** Hive-partitioned files (`…/tpep_pickup_date=2021-01-01/…`): partition columns come from the paths. */
  readonly hivePartitioning?: { readonly sourceUriPrefix: string };
}

/** Writes `table` to a BigQuery table with one Parquet load job. */
export async function exportTable(ctx: BigQueryContext, table: Table, target: WarehouseTarget): Promise<ExportResult> {
  const ref = tableRef(ctx.projectId, target.dataset, target.table);
  const where = describeTable(ref);
  const ifExists = target.ifExists ?? 'replace';
  checkUniqueColumns(table, where);
  const schema = bigQuerySchemaOf(table, where);
  await ensureDataset(ctx, ref.datasetId);
  if (ifExists !== 'replace') await checkExisting(ctx, ref, schema, ifExists);

  const load = {
    destinationTable: ref,
    sourceFormat: 'PARQUET',
    writeDisposition: WRITE_DISPOSITION[ifExists],
    createDisposition: 'CREATE_IF_NEEDED',
    schema: { fields: schema },
  };
  // Encoded a row group at a time while it uploads: a month never sits in memory as one Parquet buffer.
  const parquet = () => parquetReadable(table);
  const metadata = ctx.stagingStore ? await loadStaged(ctx, parquet(), load, where) : await loadUploaded(ctx, ref, parquet(), load, where);
  const rows = Number(metadata.statistics?.load?.outputRows ?? table.numRows);
  return { rows, target: where };
}

/**
 * Loads files already in GCS into a table, without pulling data through this
 * process. For a pipekit partitioned dataset pass `gs://bucket/prefix/*.parquet`
 * (the `.parquet` keeps any other files out of the load).
 */
export async function loadFromUri(
  ctx: BigQueryContext,
  uris: string | readonly string[],
  target: WarehouseTarget,
  options: LoadFromUriOptions = {},
): Promise<ExportResult> {
  const ref = tableRef(ctx.projectId, target.dataset, target.table);
  const where = describeTable(ref);
  const list = (typeof uris === 'string' ? [uris] : [...uris]).map((u) => (u.endsWith('/') ? `${u}*.parquet` : u));
  const bad = list.find((u) => !u.startsWith('gs://'));
  if (bad || list.length === 0) {
    throw new ConfigError({
      file: where,
      key: bad ?? 'uris',
      message: 'BigQuery loads only gs:// URIs',
      hint: 'write the data to the lake on GCS first (LAKE_URI: gs://bucket/prefix)',
    });
  }
  await ensureDataset(ctx, ref.datasetId);
  const hive = options.hivePartitioning;
  const load = {
    destinationTable: ref,
    sourceUris: list,
    sourceFormat: 'PARQUET',
    writeDisposition: WRITE_DISPOSITION[target.ifExists ?? 'replace'],
    createDisposition: 'CREATE_IF_NEEDED',
    ...(hive ? { hivePartitioningOptions: { mode: 'AUTO', sourceUriPrefix: hive.sourceUriPrefix.replace(/\/?$/, '/') } } : {}),
  };
  const { metadata } = await runJob(ctx.bigquery, { configuration: { load }, ...jobOptions(ctx) }, where, ctx.jobs);
  return { rows: Number(metadata.statistics?.load?.outputRows ?? 0), target: where };
}

/** append/fail: the table's current schema and emptiness decide before any data moves. */
async function checkExisting(ctx: BigQueryContext, ref: TableRef, schema: BigQueryField[], ifExists: IfExists): Promise<void> {
  const where = describeTable(ref);
  let metadata: { schema?: { fields?: BigQueryField[] }; numRows?: string } | undefined;
  try {
    [metadata] = await ctx.bigquery.dataset(ref.datasetId, { projectId: ref.projectId }).table(ref.tableId).getMetadata();
  } catch (error) {
    if ((error as { code?: number }).code === 404) return;
    throw bigQueryError(error, where, `read table ${ref.tableId}`);
  }
  if (ifExists === 'fail' && Number(metadata?.numRows ?? 0) > 0) {
    throw new DataError({
      source: where,
      message: `already has ${metadata?.numRows} rows and ifExists is fail`,
      hint: 'use ifExists: replace or append',
    });
  }
  const problems = appendMismatches(metadata?.schema?.fields ?? [], schema);
  if (ifExists === 'append' && problems.length > 0) {
    throw new DataError({
      source: where,
      message: `cannot append: the columns do not match the table's: ${problems.join('; ')}`,
      hint: 'cast or rename the columns to match, or write with ifExists: replace to change the table',
    });
  }
}

/** The Parquet bytes ride along with `jobs.insert` (the API's upload endpoint). */
async function loadUploaded(
  ctx: BigQueryContext,
  ref: TableRef,
  parquet: Readable,
  load: Record<string, unknown>,
  where: string,
): Promise<JobMetadata> {
  const table = ctx.bigquery
    .dataset(ref.datasetId, { projectId: ref.projectId, location: ctx.location })
    .table(ref.tableId, { location: ctx.location });
  const { destinationTable: _, ...metadata } = load;
  const stream = table.createWriteStream_({ ...metadata, jobId: newJobId() } as never);
  const job = await new Promise<Job>((resolve, reject) => {
    stream.on('job', (j: Job | null) => (j ? resolve(j) : reject(new Error('the upload returned no job reference'))));
    stream.on('error', reject);
    parquet.on('error', (error) => stream.destroy(error));
    parquet.pipe(stream);
  }).catch((error) => {
    throw bigQueryError(error, where, `upload a load job for ${ref.tableId}`);
  });
  return awaitJob(job, where, ctx.jobs);
}

/** The Parquet is written to the staging bucket, loaded by URI, then deleted. */
async function loadStaged(ctx: BigQueryContext, parquet: Readable, load: Record<string, unknown>, where: string): Promise<JobMetadata> {
  const store = ctx.stagingStore!;
  const key = `_pipekit_staging/bigquery/${newJobId()}.parquet`;
  if (!store.url(key).startsWith('gs://')) {
    throw new ConfigError({
      file: where,
      key: 'stagingStore',
      message: `${store.uri} is not a GCS store`,
      hint: 'stage through the lake only when LAKE_URI is gs://…',
    });
  }
  await store.write(key, parquet, { contentType: 'application/vnd.apache.parquet' });
  try {
    const body = { configuration: { load: { ...load, sourceUris: [store.url(key)] } }, ...jobOptions(ctx) };
    return (await runJob(ctx.bigquery, body, where, ctx.jobs)).metadata;
  } finally {
    await store.delete([key]).catch(() => undefined); // a leftover is harmless; lifecycle rules can sweep the folder
  }
}

export function newJobId(): string {
  return `pipekit_${Date.now().toString(36)}_${randomBytes(6).toString('hex')}`;
}

/** `jobs.insert` options: our own job id (readable in the console and in errors) and the location. */
export function jobOptions(ctx: BigQueryContext): { jobId: string; location: string } {
  return { jobId: newJobId(), location: ctx.location };
}
