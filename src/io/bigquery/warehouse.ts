/**
 * The BigQuery warehouse: `export` by Parquet load job, `query` into Arrow,
 * SQL blocks with staged inputs, and `loadFromUri` for lake data already in
 * GCS. Chosen by `WAREHOUSE: bigquery` in io_config.yaml (see connectors.ts).
 */
import { BigQuery } from '@google-cloud/bigquery';
import { IoProfile } from '../../config/io-profile.ts';
import { bigQuerySettings, type BigQuerySettings } from '../settings/warehouse.ts';
import { googleClientOptions } from '../gcs/client.ts';
import type { ExportResult, ObjectStore, Warehouse, WarehouseTarget } from '../types.ts';
import type { BigQueryContext } from './context.ts';
import { bigQueryError } from './errors.ts';
import { checkProject } from './identifiers.ts';
import type { AwaitJobOptions } from './jobs.ts';
import { exportTable, loadFromUri, type LoadFromUriOptions } from './load.ts';
import { exportPartition } from './partition.ts';
import { runQuery } from './query.ts';
import { runSqlBlock, writeSqlBlock } from './sql-block.ts';

export interface BigQueryWarehouseOptions {
  /** GOOGLE_PROJECT_ID, GOOGLE_LOCATION (default US), BIGQUERY_DATASET, GOOGLE_SERVICE_ACC_KEY_FILEPATH: the profile, or its parsed settings. */
  readonly profile: IoProfile | BigQuerySettings;
  /** A ready client (tests point one at a local fake). */
  readonly client?: BigQuery;
  /** Stage export Parquet here (the lake's gs:// store) and load by URI instead of uploading with the job. */
  readonly stagingStore?: ObjectStore;
  /** Job polling (tests make it fast). */
  readonly jobs?: AwaitJobOptions;
}

/** A Warehouse plus the BigQuery-only load of GCS files by URI. */
export interface BigQueryWarehouse extends Warehouse {
  readonly kind: 'bigquery';
  readonly projectId: string;
  readonly location: string;
  /** Loads Parquet files in GCS into a table, server-side (nothing passes through this process). */
  loadFromUri(uris: string | readonly string[], target: WarehouseTarget, options?: LoadFromUriOptions): Promise<ExportResult>;
}

/** Opens BigQuery for a profile. The project comes from GOOGLE_PROJECT_ID, else from the credentials. */
export async function createBigQueryWarehouse(options: BigQueryWarehouseOptions): Promise<BigQueryWarehouse> {
  const settings = options.profile instanceof IoProfile ? bigQuerySettings(options.profile) : options.profile;
  const { location } = settings;
  const client = options.client ?? new BigQuery({ ...googleClientOptions(settings), location });
  let projectId = settings.projectId;
  if (!projectId) {
    try {
      projectId = await client.getProjectId();
    } catch (error) {
      throw bigQueryError(error, 'bigquery://', 'find the Google Cloud project (set GOOGLE_PROJECT_ID in the profile)');
    }
  }
  const ctx: BigQueryContext = {
    bigquery: client,
    projectId: checkProject(projectId),
    location,
    file: settings.file,
    profile: settings.profile,
    defaultDataset: settings.dataset,
    stagingStore: options.stagingStore,
    jobs: options.jobs ?? {},
  };
  const warehouse: BigQueryWarehouse = {
    kind: 'bigquery',
    defaultDataset: ctx.defaultDataset,
    projectId: ctx.projectId,
    location,
    query: (sql) => runQuery(ctx, sql),
    export: (table, target) =>
      target.partition ? exportPartition(ctx, table, { ...target, partition: target.partition }) : exportTable(ctx, table, target),
    runSql: (sql, inputs, target) => runSqlBlock(ctx, sql, inputs, target),
    writeSql: (sql, inputs, target) => writeSqlBlock(ctx, sql, inputs, target),
    loadFromUri: (uris, target, loadOptions) => loadFromUri(ctx, uris, target, loadOptions),
    // A job once inserted runs to its end on BigQuery's side; there is nothing here to interrupt.
    withSignal: () => warehouse,
    // The client holds no sockets or sessions that need closing.
    close: async () => undefined,
  };
  return warehouse;
}
