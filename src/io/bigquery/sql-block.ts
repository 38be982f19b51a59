/**
 * SQL blocks on BigQuery: upstream tables are staged as real, expiring
 * tables, `{{ name }}` placeholders become their backtick-quoted names, and
 * the result goes to the target in one awaited query job.
 */
import type { Table } from 'apache-arrow';
import { ConfigError } from '../../errors.ts';
import { checkUniqueColumns } from '../../table/unique-columns.ts';
import type { ExportResult, WarehouseTarget } from '../types.ts';
import type { BigQueryContext } from './context.ts';
import { ensureDataset } from './dataset.ts';
import { quoteTable, tableRef, type TableRef } from './identifiers.ts';
import { WRITE_DISPOSITION } from './load.ts';
import { queryIntoPartition } from './partition.ts';
import { runQuery, runQueryInto } from './query.ts';
import { dropTable, stageRef, stageTable } from './stage.ts';

/** Mage's default write policy of SQL blocks; DuckDB's warehouse uses the same. */
const SQL_BLOCK_DEFAULT = 'append';

/** `{{ name }}` with any spaces inside the braces. */
export function placeholder(name: string): RegExp {
  return new RegExp(`\\{\\{\\s*${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*\\}\\}`, 'g');
}

/** See the module comment; returns the query's result (the target's new rows when a target is given). */
export async function runSqlBlock(
  ctx: BigQueryContext,
  sql: string,
  inputs: Readonly<Record<string, Table>>,
  target?: WarehouseTarget,
): Promise<Table> {
  return withStagedInputs(ctx, sql, inputs, target, async (text) => {
    if (target?.partition) {
      let rows: Table | undefined;
      await queryIntoPartition(
        ctx,
        text,
        { ...target, partition: target.partition },
        async (stage) => void (rows = await runQuery(ctx, `SELECT * FROM ${quoteTable(stage)}`)),
      );
      return rows!;
    }
    const destination = target ? tableRef(ctx.projectId, target.dataset, target.table) : undefined;
    if (destination) await ensureDataset(ctx, destination.datasetId);
    return runQuery(ctx, text, { destination, writeDisposition: WRITE_DISPOSITION[target?.ifExists ?? SQL_BLOCK_DEFAULT] });
  });
}

/** Like `runSqlBlock` into a target, returning the row count instead of the rows. */
export async function writeSqlBlock(
  ctx: BigQueryContext,
  sql: string,
  inputs: Readonly<Record<string, Table>>,
  target: WarehouseTarget,
): Promise<ExportResult> {
  return withStagedInputs(ctx, sql, inputs, target, async (text) => {
    if (target.partition) return queryIntoPartition(ctx, text, { ...target, partition: target.partition });
    const destination = tableRef(ctx.projectId, target.dataset, target.table);
    await ensureDataset(ctx, destination.datasetId);
    const rows = await runQueryInto(ctx, text, destination, WRITE_DISPOSITION[target.ifExists ?? SQL_BLOCK_DEFAULT]);
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
    throw new ConfigError({
      file: ctx.file,
      key: `${ctx.profile}.BIGQUERY_DATASET`,
      message: 'is needed to stage the inputs of a SQL block',
      hint: 'set BIGQUERY_DATASET in the profile, or give the block a target dataset',
    });
  }
  const staged: TableRef[] = [];
  try {
    let text = sql;
    for (const name of used) {
      const ref = stageRef(ctx, dataset!, name);
      checkUniqueColumns(inputs[name], `${quoteTable(ref)} (input {{ ${name} }})`);
      await stageTable(ctx, ref, inputs[name], 'pipekit: input of a SQL block, dropped after the block');
      staged.push(ref);
      text = text.replace(placeholder(name), quoteTable(ref));
    }
    return await fn(text);
  } finally {
    await Promise.all(staged.map((ref) => dropTable(ctx, ref)));
  }
}
