/**
 * Writes a relation into `"dataset"."table"` with a write policy, in one
 * transaction: `replace` swaps the table atomically (a failure keeps the old
 * rows), `append` inserts by column name, `fail` refuses an existing table.
 */
import { ConfigError } from '../../errors.ts';
import type { IfExists, WarehouseTarget } from '../types.ts';
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
export async function writeRelation(session: DuckDbSession, source: string, target: WarehouseTarget, defaultPolicy: IfExists): Promise<number> {
  const name = qualifiedName(target, session.path);
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

export async function tableExists(session: DuckDbSession, target: WarehouseTarget): Promise<boolean> {
  const count = await session.scalar(
    'SELECT count(*) FROM information_schema.tables WHERE table_schema = $schema AND table_name = $table',
    { schema: target.dataset, table: target.table },
  );
  return Number(count) > 0;
}
