/**
 * Stage tables: an Arrow table loaded into a real BigQuery table that
 * expires by itself, for SQL blocks' inputs and partition-scoped writes.
 */
import { randomBytes } from 'node:crypto';
import type { Table } from 'apache-arrow';
import type { BigQueryContext } from './context.ts';
import { ensureDataset } from './dataset.ts';
import { bigQueryError } from './errors.ts';
import { quoteTable, tableRef, type TableRef } from './identifiers.ts';
import { exportTable } from './load.ts';
import { bigQuerySchemaOf } from './schema.ts';

/** Staged tables expire by themselves even if the process dies before dropping them. */
const STAGE_TTL_MS = 6 * 3600_000;

/** A fresh stage table name in `dataset`: `_pipekit_stage_<random>_<name>`. */
export function stageRef(ctx: BigQueryContext, dataset: string, name: string): TableRef {
  return tableRef(
    ctx.projectId,
    dataset,
    `_pipekit_stage_${randomBytes(4).toString('hex')}_${name.replace(/[^A-Za-z0-9_]/g, '_')}`.slice(0, 1024),
  );
}

/** Creates the stage table with its expiration, then appends the data with a load job. */
export async function stageTable(ctx: BigQueryContext, ref: TableRef, table: Table, description: string): Promise<void> {
  await ensureDataset(ctx, ref.datasetId);
  const schema = bigQuerySchemaOf(table, quoteTable(ref));
  try {
    await ctx.bigquery.dataset(ref.datasetId, { projectId: ref.projectId }).createTable(ref.tableId, {
      schema: { fields: schema },
      expirationTime: String(Date.now() + STAGE_TTL_MS),
      description,
    } as never);
  } catch (error) {
    throw bigQueryError(error, quoteTable(ref), `create stage table ${ref.tableId}`);
  }
  await exportTable(ctx, table, { dataset: ref.datasetId, table: ref.tableId, ifExists: 'append' });
}

/**
 * Gives a stage table made by a query job its expiration (a query cannot set
 * it). Best effort: the caller drops the table anyway when it is done.
 */
export async function expireStage(ctx: BigQueryContext, ref: TableRef): Promise<void> {
  try {
    await ctx.bigquery
      .dataset(ref.datasetId, { projectId: ref.projectId })
      .table(ref.tableId)
      .setMetadata({ expirationTime: String(Date.now() + STAGE_TTL_MS) } as never);
  } catch {
    // The finally-drop still removes it; only a crash in between would leave it behind.
  }
}

export async function dropTable(ctx: BigQueryContext, ref: TableRef): Promise<void> {
  try {
    await ctx.bigquery.dataset(ref.datasetId, { projectId: ref.projectId }).table(ref.tableId).delete();
  } catch {
    // Already gone is fine; anything else expires by itself, so it must not mask the write's own outcome.
  }
}
