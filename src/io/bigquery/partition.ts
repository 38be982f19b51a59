/**
 * Partition-scoped writes on BigQuery: the new rows go to a stage table
 * first, then one multi-statement transaction deletes the target's rows in
 * scope and inserts the staged ones. BigQuery rolls the transaction back when
 * a statement fails, so the target keeps its previous rows. A target created
 * here is partitioned by day on the scope's DATE or TIMESTAMP column, so the
 * DELETE touches only the partitions in scope.
 *
 * BigQuery cancels one of two transactions that change the same table at
 * once ("Transaction is aborted due to concurrent update"), which is what a
 * backfill fanned out over Cloud Run tasks does to a daily table: the
 * transaction is tried again after a growing, jittered wait.
 */
import type { Table } from 'apache-arrow';
import { DataError, describeError } from '../../errors.ts';
import { checkUniqueColumns } from '../../table/unique-columns.ts';
import { checkRowsInScope, checkScope, describeScope, scopeCondition, type ScopeColumnKind } from '../partition-scope.ts';
import type { ExportResult, PartitionScope, WarehouseTarget } from '../types.ts';
import type { BigQueryContext } from './context.ts';
import { ensureDataset } from './dataset.ts';
import { bigQueryError } from './errors.ts';
import { describeTable, quoteTable, tableRef, type TableRef } from './identifiers.ts';
import { runQuery, runQueryInto } from './query.ts';
import { appendMismatches, bigQuerySchemaOf, type BigQueryField } from './schema.ts';
import { dropTable, expireStage, stageRef, stageTable } from './stage.ts';

type PartitionTarget = WarehouseTarget & { readonly partition: PartitionScope };

/** Tries of the swap transaction when concurrent writers of the same table keep cancelling it. */
const CONFLICT_TRIES = 8;
const CONFLICT = /concurrent update|could not serialize access/i;

/** `export` with a partition scope: the Arrow rows replace the target's rows in scope. */
export async function exportPartition(ctx: BigQueryContext, table: Table, target: PartitionTarget): Promise<ExportResult> {
  const ref = tableRef(ctx.projectId, target.dataset, target.table);
  const where = describeTable(ref);
  checkScope(target.partition, target.ifExists, where);
  checkUniqueColumns(table, where);
  checkRowsInScope(table, target.partition, where);
  const fields = bigQuerySchemaOf(table, where);
  await ensureDataset(ctx, ref.datasetId);
  const stage = stageRef(ctx, ref.datasetId, ref.tableId);
  try {
    await stageTable(ctx, stage, table, `pipekit: rows for ${describeScope(target.partition)}, dropped after the write`);
    await swapRows(ctx, stage, ref, target.partition, fields);
  } finally {
    await dropTable(ctx, stage);
  }
  return { rows: table.numRows, target: where };
}

/**
 * A SQL block's query with a partition scope: its result replaces the
 * target's rows in scope. `readBack` may read the staged result before it is dropped.
 */
export async function queryIntoPartition(
  ctx: BigQueryContext,
  sql: string,
  target: PartitionTarget,
  readBack?: (stage: TableRef) => Promise<void>,
): Promise<ExportResult> {
  const ref = tableRef(ctx.projectId, target.dataset, target.table);
  const where = describeTable(ref);
  checkScope(target.partition, target.ifExists, where);
  await ensureDataset(ctx, ref.datasetId);
  const stage = stageRef(ctx, ref.datasetId, ref.tableId);
  try {
    const rows = await runQueryInto(ctx, sql, stage, 'WRITE_TRUNCATE');
    await expireStage(ctx, stage);
    const fields = await schemaOf(ctx, stage);
    const kind = columnKind(fields, target.partition, where);
    const column = quoteColumn(target.partition.column);
    const outside = await runQuery(
      ctx,
      `SELECT COUNT(*) AS n FROM ${quoteTable(stage)} WHERE (${scopeCondition(target.partition, column, kind)}) IS NOT TRUE`,
    );
    const count = Number(outside.getChild('n')?.get(0) ?? 0);
    if (count > 0) {
      throw new DataError({
        source: where,
        column: target.partition.column,
        message: `${count} of the query's rows lie outside the partition being replaced (${describeScope(target.partition)})`,
        hint: "filter the query to the run's interval ({{ interval_start }} … {{ interval_end }}), or widen the partition scope",
      });
    }
    await swapRows(ctx, stage, ref, target.partition, fields);
    await readBack?.(stage);
    return { rows, target: where };
  } finally {
    await dropTable(ctx, stage);
  }
}

/** Creates the target when missing, then DELETE in scope + INSERT from the stage in one transaction. */
async function swapRows(
  ctx: BigQueryContext,
  stage: TableRef,
  ref: TableRef,
  scope: PartitionScope,
  fields: readonly BigQueryField[],
): Promise<void> {
  const where = describeTable(ref);
  const kind = columnKind(fields, scope, where);
  await createOrCheck(ctx, ref, fields, kind === 'other' ? undefined : scope.column);
  const columns = fields.map((f) => quoteColumn(f.name)).join(', ');
  const script = [
    'BEGIN TRANSACTION;',
    `DELETE FROM ${quoteTable(ref)} WHERE ${scopeCondition(scope, quoteColumn(scope.column), kind)};`,
    `INSERT INTO ${quoteTable(ref)} (${columns}) SELECT ${columns} FROM ${quoteTable(stage)};`,
    'COMMIT TRANSACTION;',
  ].join('\n');
  const baseMs = 4 * (ctx.jobs.pollMs ?? 250);
  for (let attempt = 1; ; attempt++) {
    try {
      await runQuery(ctx, script);
      return;
    } catch (error) {
      if (attempt >= CONFLICT_TRIES || !CONFLICT.test(describeError(error))) throw error;
      const wait = Math.min(baseMs * 2 ** (attempt - 1), 30_000) * (0.5 + Math.random());
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

/** Creates the target, or checks the new rows fit its columns (a mismatch would fail the same way on every retry). */
async function createOrCheck(
  ctx: BigQueryContext,
  ref: TableRef,
  fields: readonly BigQueryField[],
  partitionColumn: string | undefined,
): Promise<void> {
  const dataset = ctx.bigquery.dataset(ref.datasetId, { projectId: ref.projectId });
  try {
    const [metadata] = await dataset.table(ref.tableId).getMetadata();
    const problems = appendMismatches((metadata as { schema?: { fields?: BigQueryField[] } }).schema?.fields ?? [], fields);
    if (problems.length > 0) {
      throw new DataError({
        source: describeTable(ref),
        message: `cannot replace the partition: the columns do not match the table's: ${problems.join('; ')}`,
        hint: 'cast or rename the columns to match the table, or rebuild the table with ifExists: replace (no partition)',
      });
    }
    return;
  } catch (error) {
    if (error instanceof DataError) throw error;
    if ((error as { code?: number }).code !== 404) throw bigQueryError(error, describeTable(ref), `read table ${ref.tableId}`);
  }
  try {
    await dataset.createTable(ref.tableId, {
      schema: { fields },
      ...(partitionColumn ? { timePartitioning: { type: 'DAY', field: partitionColumn } } : {}),
    } as never);
  } catch (error) {
    // Another writer created it first: fine, the transaction below works on it.
    if ((error as { code?: number }).code !== 409) throw bigQueryError(error, describeTable(ref), `create table ${ref.tableId}`);
  }
}

async function schemaOf(ctx: BigQueryContext, ref: TableRef): Promise<BigQueryField[]> {
  try {
    const [metadata] = await ctx.bigquery.dataset(ref.datasetId, { projectId: ref.projectId }).table(ref.tableId).getMetadata();
    return (metadata as { schema?: { fields?: BigQueryField[] } }).schema?.fields ?? [];
  } catch (error) {
    throw bigQueryError(error, describeTable(ref), `read the schema of ${ref.tableId}`);
  }
}

function columnKind(fields: readonly BigQueryField[], scope: PartitionScope, where: string): ScopeColumnKind {
  const field = fields.find((f) => f.name === scope.column);
  if (!field) {
    throw new DataError({
      source: where,
      column: scope.column,
      message: 'the partition column is not in the rows to write',
      hint: `scope by one of: ${fields.map((f) => f.name).join(', ')}`,
    });
  }
  const type = field.type.toUpperCase();
  return type === 'DATE' ? 'date' : type === 'TIMESTAMP' || type === 'DATETIME' ? 'timestamp' : 'other';
}

/** Column names are checked against BigQuery's rule before they get here (schema.ts); backticks make them safe anyway. */
function quoteColumn(name: string): string {
  return `\`${name.replace(/[`\\]/g, '\\$&')}\``;
}
