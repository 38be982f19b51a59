/**
 * Writes a relation into `"dataset"."table"` with a write policy, in one
 * transaction: `replace` swaps the table atomically (a failure keeps the old
 * rows), `append` inserts by column name, `fail` refuses an existing table,
 * and a partition scope deletes the rows in scope and inserts the new ones.
 */
import { ConfigError, DataError } from '../../errors.ts';
import { checkScope, describeScope, scopeCondition, type ScopeColumnKind } from '../partition-scope.ts';
import type { IfExists, PartitionScope, WarehouseTarget } from '../types.ts';
import { checkName, quoteIdent } from './identifiers.ts';
import type { DuckDbSession } from './session.ts';

/** `"dataset"."table"` after checking both names. */
export function qualifiedName(target: WarehouseTarget, file: string): string {
  return `${quoteIdent(checkName(target.dataset, 'dataset', file))}.${quoteIdent(checkName(target.table, 'table', file))}`;
}

/**
 * Writes the rows of `source` (a `SELECT …` or a table expression usable
 * after `FROM`) to `target`, creating the schema when missing. Returns the
 * number of rows written.
 */
export async function writeRelation(
  session: DuckDbSession,
  source: string,
  target: WarehouseTarget,
  defaultPolicy: IfExists,
): Promise<number> {
  const name = qualifiedName(target, session.path);
  if (target.partition) return replacePartition(session, source, target, target.partition, name);
  const policy = target.ifExists ?? defaultPolicy;
  const select = `SELECT * FROM ${source}`;
  await session.run('BEGIN TRANSACTION');
  try {
    await session.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(target.dataset)}`);
    const exists = await tableExists(session, target);
    if (exists && policy === 'fail') {
      throw new ConfigError({
        file: session.path,
        key: `${target.dataset}.${target.table}`,
        message: 'the table already exists and the write policy is fail',
        hint: 'set the write policy to replace or append, or drop the table',
      });
    }
    const before = exists && policy === 'append' ? Number(await session.scalar(`SELECT count(*) FROM ${name}`)) : 0;
    if (exists && policy === 'append') await session.run(`INSERT INTO ${name} BY NAME ${select}`);
    else await session.run(`CREATE OR REPLACE TABLE ${name} AS ${select}`);
    const rows = Number(await session.scalar(`SELECT count(*) FROM ${name}`)) - before;
    await session.run('COMMIT');
    return rows;
  } catch (error) {
    await session.run('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/**
 * The partition-scoped write: the new rows are kept in a temporary table,
 * checked to lie in the scope, then the target's rows in scope are deleted
 * and the new ones inserted by name — one transaction, so a failure at any
 * step leaves the previous rows.
 */
async function replacePartition(
  session: DuckDbSession,
  source: string,
  target: WarehouseTarget,
  scope: PartitionScope,
  name: string,
): Promise<number> {
  const where = `${session.path} ${target.dataset}.${target.table}`;
  checkScope(scope, target.ifExists, where);
  const column = quoteIdent(scope.column);
  await session.run('BEGIN TRANSACTION');
  try {
    await session.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(target.dataset)}`);
    await session.run(`CREATE OR REPLACE TEMP TABLE pipekit_partition AS SELECT * FROM ${source}`);
    const type = await session.scalar(
      `SELECT data_type FROM information_schema.columns WHERE table_name = 'pipekit_partition' AND table_schema = 'main' AND table_catalog = 'temp' AND column_name = $column`,
      { column: scope.column },
    );
    if (type === null || type === undefined) {
      throw new DataError({
        source: where,
        column: scope.column,
        message: 'the partition column is not in the rows to write',
        hint: 'select the column in the query, or scope the write by another column',
      });
    }
    const inScope = scopeCondition(scope, column, duckDbKind(String(type)));
    const outside = Number(await session.scalar(`SELECT count(*) FROM pipekit_partition WHERE (${inScope}) IS NOT TRUE`));
    if (outside > 0) {
      const sample = await session.scalar(
        `SELECT CAST(${column} AS VARCHAR) FROM pipekit_partition WHERE (${inScope}) IS NOT TRUE LIMIT 1`,
      );
      throw new DataError({
        source: where,
        column: scope.column,
        value: sample === null ? 'null' : String(sample),
        message: `${outside} of the rows to write lie outside the partition being replaced (${describeScope(scope)})`,
        hint: "filter the rows to the run's interval, or widen the partition scope: a row outside it would be written again by every run",
      });
    }
    if (await tableExists(session, target)) {
      await session.run(`DELETE FROM ${name} WHERE ${inScope}`);
      await session.run(`INSERT INTO ${name} BY NAME SELECT * FROM pipekit_partition`);
    } else {
      await session.run(`CREATE TABLE ${name} AS SELECT * FROM pipekit_partition`);
    }
    const rows = Number(await session.scalar('SELECT count(*) FROM pipekit_partition'));
    await session.run('DROP TABLE pipekit_partition');
    await session.run('COMMIT');
    return rows;
  } catch (error) {
    await session.run('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

function duckDbKind(type: string): ScopeColumnKind {
  if (type === 'DATE') return 'date';
  if (type === 'TIMESTAMP WITH TIME ZONE') return 'timestamptz';
  if (type.startsWith('TIMESTAMP')) return 'timestamp';
  return 'other';
}

export async function tableExists(session: DuckDbSession, target: WarehouseTarget): Promise<boolean> {
  const count = await session.scalar(
    'SELECT count(*) FROM information_schema.tables WHERE table_schema = $schema AND table_name = $table',
    { schema: target.dataset, table: target.table },
  );
  return Number(count) > 0;
}
