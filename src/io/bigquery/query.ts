/**
 * Query jobs: GoogleSQL, awaited, results read page by page into Arrow.
 * With a destination the result is written there under the write policy
 * (one job: no DROP/CREATE/INSERT sequence that could half-apply).
 */
import type { Table } from 'apache-arrow';
import type { BigQueryContext } from './context.ts';
import { bigQueryError } from './errors.ts';
import { describeTable, type TableRef } from './identifiers.ts';
import { runJob } from './jobs.ts';
import { jobOptions } from './load.ts';
import { tableFromRows, type RawRow } from './rows.ts';
import type { BigQueryField } from './schema.ts';

export interface QueryOptions {
  readonly destination?: TableRef;
  /** WRITE_TRUNCATE | WRITE_APPEND | WRITE_EMPTY; only with a destination. */
  readonly writeDisposition?: string;
  /** Rows fetched into memory at most (results are for small tables). Default 10 million, Mage's cap. */
  readonly maxRows?: number;
}

/** Runs `sql` as a query job and returns its result as an Arrow table. */
export async function runQuery(ctx: BigQueryContext, sql: string, options: QueryOptions = {}): Promise<Table> {
  const { job, where } = await startQuery(ctx, sql, options);
  const maxRows = options.maxRows ?? 10_000_000;
  const rows: RawRow[] = [];
  let fields: BigQueryField[] = [];
  let pageToken: string | undefined;
  do {
    try {
      const [page, , response] = await job.getQueryResults({
        autoPaginate: false,
        skipParsing: true,
        maxResults: 50_000,
        pageToken,
      } as never);
      const r = response as { schema?: { fields?: BigQueryField[] }; pageToken?: string } | undefined;
      fields = r?.schema?.fields ?? fields;
      rows.push(...((page ?? []) as unknown as RawRow[]));
      pageToken = r?.pageToken;
    } catch (error) {
      throw bigQueryError(error, where, `read the results of job ${job.id}`);
    }
  } while (pageToken && rows.length < maxRows);
  return tableFromRows(fields, rows.slice(0, maxRows));
}

/**
 * Runs `sql` into `destination` and returns how many rows the query
 * produced, without paging them back (`maxResults: 0` still reports `totalRows`).
 */
export async function runQueryInto(ctx: BigQueryContext, sql: string, destination: TableRef, writeDisposition: string): Promise<number> {
  const { job, where } = await startQuery(ctx, sql, { destination, writeDisposition });
  try {
    const [, , response] = await job.getQueryResults({ autoPaginate: false, skipParsing: true, maxResults: 0 } as never);
    return Number((response as { totalRows?: string } | undefined)?.totalRows ?? 0);
  } catch (error) {
    throw bigQueryError(error, where, `read the row count of job ${job.id}`);
  }
}

/** Starts a query job (with a destination when given) and waits for it. */
async function startQuery(ctx: BigQueryContext, sql: string, options: QueryOptions) {
  const where = options.destination ? describeTable(options.destination) : `bigquery://${ctx.projectId}`;
  const query = {
    query: sql,
    useLegacySql: false,
    ...(ctx.defaultDataset ? { defaultDataset: { projectId: ctx.projectId, datasetId: ctx.defaultDataset } } : {}),
    ...(options.destination
      ? {
          destinationTable: options.destination,
          writeDisposition: options.writeDisposition ?? 'WRITE_TRUNCATE',
          createDisposition: 'CREATE_IF_NEEDED',
        }
      : {}),
  };
  const { job } = await runJob(ctx.bigquery, { configuration: { query }, ...jobOptions(ctx) }, where, ctx.jobs);
  return { job, where };
}
