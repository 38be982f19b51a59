import type { Table } from 'apache-arrow';
import type { BlockContext } from '../blocks/context.ts';
import type { ExportResult } from '../io/types.ts';
import type { BlockSpec } from '../project/model.ts';

/**
 * Runs a rendered SQL block on the connection it names. On the warehouse
 * (DuckDB / BigQuery) the upstream tables are staged by the warehouse itself;
 * on Postgres they are copied into a staging schema for the query's lifetime.
 */
export async function runSqlBlock(
  sql: string,
  inputs: ReadonlyMap<string, Table>,
  spec: BlockSpec,
  ctx: BlockContext,
): Promise<Table | ExportResult> {
  const config = spec.sql!;
  const referenced = Object.fromEntries([...inputs].filter(([name]) => new RegExp(`\\{\\{\\s*${name}\\s*\\}\\}`).test(sql)));

  if (config.connection === 'warehouse') {
    const warehouse = await ctx.io.warehouse();
    const target = config.table
      ? { dataset: config.schema ?? defaultDataset(ctx), table: config.table, ifExists: config.write }
      : undefined;
    // An exporter's job is the table it writes: report rows, don't read them all back.
    if (target && spec.kind === 'exporter') return warehouse.writeSql(sql, referenced, target);
    return warehouse.runSql(sql, referenced, target);
  }

  const pg = await ctx.io.postgres();
  const staging = `pipekit_staging`;
  const staged: string[] = [];
  let text = sql;
  try {
    for (const [name, table] of Object.entries(referenced)) {
      const tableName = `${ctx.runId}_${spec.uuid}_${name}`.replace(/[^\w]/g, '_').slice(0, 63);
      await pg.export(table, { schema: staging, table: tableName, ifExists: 'replace' });
      staged.push(tableName);
      text = text.replace(new RegExp(`\\{\\{\\s*${name}\\s*\\}\\}`, 'g'), `${quote(staging)}.${quote(tableName)}`);
    }
    const result = await pg.query(text);
    if (config.table) {
      await pg.export(result, { schema: config.schema, table: config.table, ifExists: config.write });
    }
    return result;
  } finally {
    for (const t of staged) await pg.execute(`DROP TABLE IF EXISTS ${quote(staging)}.${quote(t)}`).catch(() => {});
  }
}

function defaultDataset(ctx: BlockContext): string {
  const fromVars = ctx.variables.dataset;
  return typeof fromVars === 'string' ? fromVars : 'main';
}

function quote(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}
