/**
 * SQL blocks on Postgres: the upstream tables the SQL names are copied into
 * the `pipekit_staging` schema for the statement's lifetime, `{{ name }}`
 * becomes their quoted name, and the result goes to the target by the same
 * export as `ctx.io.postgres().export`, keeping the query's column names as
 * Mage's CREATE TABLE AS does.
 */
import { randomBytes } from 'node:crypto';
import type { Table } from 'apache-arrow';
import { placeholdersIn, replacePlaceholders } from '../sql-text.ts';
import type { ExportResult, PostgresConnector, SqlTarget } from '../types.ts';
import { qualified } from './identifiers.ts';

const STAGING_SCHEMA = 'pipekit_staging';
/** Mage's default write policy of SQL blocks, as on DuckDB and BigQuery (the connector's own export defaults to replace). */
const SQL_BLOCK_DEFAULT = 'append';

/** The connector's query and export (bound to the block's signal), and a drop that runs even after a cancel. */
export type StagingConnection = Pick<PostgresConnector, 'query' | 'export'> & { dropTable(qualifiedName: string): Promise<void> };

/** Runs the SQL on its staged inputs; writes the result to `target` when given, and returns it. */
export async function runSqlOnPostgres(
  pg: StagingConnection,
  sql: string,
  inputs: Readonly<Record<string, Table>>,
  target?: SqlTarget,
): Promise<Table> {
  return withStagedInputs(pg, sql, inputs, async (text) => {
    const result = await pg.query(text);
    if (target)
      await pg.export(result, {
        schema: target.dataset,
        table: target.table,
        ifExists: target.ifExists ?? (target.partition ? 'replace' : SQL_BLOCK_DEFAULT),
        columnNames: 'keep',
        partition: target.partition,
      });
    return result;
  });
}

/** Like `runSqlOnPostgres` into a target, returning what was written. */
export async function writeSqlOnPostgres(
  pg: StagingConnection,
  sql: string,
  inputs: Readonly<Record<string, Table>>,
  target: SqlTarget,
): Promise<ExportResult> {
  return withStagedInputs(pg, sql, inputs, async (text) =>
    pg.export(await pg.query(text), {
      schema: target.dataset,
      table: target.table,
      ifExists: target.ifExists ?? (target.partition ? 'replace' : SQL_BLOCK_DEFAULT),
      columnNames: 'keep',
      partition: target.partition,
    }),
  );
}

async function withStagedInputs<T>(
  pg: StagingConnection,
  sql: string,
  inputs: Readonly<Record<string, Table>>,
  fn: (text: string) => Promise<T>,
): Promise<T> {
  // A name of its own per call: blocks running at once never share a staging table.
  const call = randomBytes(4).toString('hex');
  const names: Record<string, string> = {};
  const staged: string[] = [];
  try {
    for (const key of Object.keys(inputs)) names[key] = qualified(STAGING_SCHEMA, stagingTable(call, key));
    const text = replacePlaceholders(sql, names, 'SQL block');
    for (const key of placeholdersIn(sql)) {
      // Staged under their own column names: the block's SQL refers to them as its upstream named them.
      await pg.export(inputs[key]!, { schema: STAGING_SCHEMA, table: stagingTable(call, key), ifExists: 'replace', columnNames: 'keep' });
      staged.push(names[key]!);
    }
    return await fn(text);
  } finally {
    for (const name of staged) await pg.dropTable(name).catch(() => {});
  }
}

/** Postgres truncates identifiers past 63 bytes; the call id comes first so it is never cut. */
function stagingTable(call: string, name: string): string {
  return `${call}_${name}`.slice(0, 63);
}
