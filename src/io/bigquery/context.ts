/** What every BigQuery operation needs: the client, project, location and defaults. */
import type { BigQuery } from '@google-cloud/bigquery';
import type { ObjectStore } from '../types.ts';
import type { DatasetContext } from './dataset.ts';
import type { AwaitJobOptions } from './jobs.ts';

export interface BigQueryContext extends DatasetContext {
  readonly bigquery: BigQuery;
  /** BIGQUERY_DATASET: the default dataset of queries and SQL blocks. */
  readonly defaultDataset?: string;
  /** When set, exports stage their Parquet here (a gs:// store) and load by URI. */
  readonly stagingStore?: ObjectStore;
  readonly jobs: AwaitJobOptions;
}
