/**
 * SQL blocks on BigQuery: upstream tables are staged as real, expiring
 * tables, `{{ name }}` placeholders become their backtick-quoted names, and
 * the result goes to the target in one awaited query job.
 */
import { randomBytes } from 'node:crypto';
import type { Table } from 'apache-arrow';
import { ConfigError } from '../../errors.ts';
import type { ExportResult, WarehouseTarget } from '../types.ts';
import type { BigQueryContext } from './context.ts';
import { ensureDataset } from './dataset.ts';
import { bigQueryError } from './errors.ts';
import { quoteTable, tableRef, type TableRef } from './identifiers.ts';
import { exportTable, WRITE_DISPOSITION } from './load.ts';
import { runQuery, runQueryInto } from './query.ts';
import { bigQuerySchemaOf } from './schema.ts';

/** Staged tables expire by themselves even if the process dies before dropping them. */
const STAGE_TTL_MS = 6 * 3600_000;

/** `{{ name }}` with any spaces inside the braces. */
export function placeholder(name: string): RegExp {
  return new RegExp(`\\{\\{\\s*${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*\\}\\}`, 'g');
}

/** See the module comment; returns the query's result (the target's new rows when a target is given). */
export async function runSqlBlock(ctx: BigQueryContext, sql: string, inputs: Readonly<Record<string, Table>>, target?: WarehouseTarget): Promise<Table> {
  return withStagedInputs(ctx, sql, inputs, target, async (text) => {
    const destination = target ? tableRef(ctx.projectId, target.dataset, target.table) : undefined;
    if (destination) await ensureDataset(ctx, destination.datasetId);
    return runQuery(ctx, text, { destination, writeDisposition: WRITE_DISPOSITION[target?.ifExists ?? 'replace'] });
  });
}

/** Like `runSqlBlock` into a target, returning the row count instead of the rows. */
export async function writeSqlBlock(ctx: BigQueryContext, sql: string, inputs: Readonly<Record<string, Table>>, target: WarehouseTarget): Promise<ExportResult> {
  return withStagedInputs(ctx, sql, inputs, target, async (text) => {
    const destination = tableRef(ctx.projectId, target.dataset, target.table);
    await ensureDataset(ctx, destination.datasetId);
    const rows = await runQueryInto(ctx, text, destination, WRITE_DISPOSITION[target.ifExists ?? 'replace']);
    return { rows, target: `bigquery://${ctx.projectId}/${target.dataset}.${target.table}` };
  });
}

/** Stages the inputs the SQL names, runs `fn` on the rewritten SQL, and drops the stage tables. */
async function withStagedInputs<T>(
  ctx: BigQueryContext,
  sql: string,
  inputs: Readonly<Record<string, Table>>,
  target: WarehouseTarget | undefined,
  fn: (text: string) => Promise<T>,
): Promise<T> {
  const dataset = target?.dataset ?? ctx.defaultDataset;
  const used = Object.keys(inputs).filter((name) => placeholder(name).test(sql));
  if (used.length > 0 && !dataset) {
    throw new ConfigError({ file: ctx.file, key: `${ctx.profile}.BIGQUERY_DATASET`, message: 'is needed to stage the inputs of a SQL block', hint: 'set BIGQUERY_DATASET in the profile, or give the block a target dataset' });
  }
  const run = randomBytes(4).toString('hex');
  const staged: TableRef[] = [];
  try {
    let text = sql;
    for (const name of used) {
      const ref = tableRef(ctx.projectId, dataset!, `_pipekit_stage_${run}_${name.replace(/[^A-Za-z0-9_]/g, '_')}`.slice(0, 1024));
      await stage(ctx, ref, inputs[name]);
      staged.push(ref);
      text = text.replace(placeholder(name), quoteTable(ref));
    }
    return await fn(text);
  } finally {
    await Promise.all(staged.map((ref) => drop(ctx, ref)));
  }
}

/** Creates the stage table with its expiration, then appends the data with a load job. */
async function stage(ctx: BigQueryContext, ref: TableRef, table: Table): Promise<void> {
  await ensureDataset(ctx, ref.datasetId);
  const schema = bigQuerySchemaOf(table, quoteTable(ref));
  try {
    await ctx.bigquery.dataset(ref.datasetId, { projectId: ref.projectId }).createTable(ref.tableId, {
      schema: { fields: schema },
      expirationTime: String(Date.now() + STAGE_TTL_MS),
      description: 'pipekit: input of a SQL block, dropped after the block',
    } as never);
  } catch (error) {
    throw bigQueryError(error, quoteTable(ref), `create stage table ${ref.tableId}`);
  }
  await exportTable(ctx, table, { dataset: ref.datasetId, table: ref.tableId, ifExists: 'append' });
}

async function drop(ctx: BigQueryContext, ref: TableRef): Promise<void> {
  try {
    await ctx.bigquery.dataset(ref.datasetId, { projectId: ref.projectId }).table(ref.tableId).delete();
  } catch (error) {
    // Already gone is fine; anything else expires by itself, so it must not mask the block's own outcome.
    if ((error as { code?: number }).code !== 404) return;
  }
}
