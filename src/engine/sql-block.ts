import type { Table } from 'apache-arrow';
import type { BlockContext } from '../blocks/context.ts';
import { ConfigError } from '../errors.ts';
import { runInterval } from '../io/partition-scope.ts';
import type { ExportResult, Warehouse } from '../io/types.ts';
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
  // A partitioned result replaces exactly the rows of this run's interval.
  const partition = config.partition ? runInterval(ctx, config.partition) : undefined;
  const referenced = Object.fromEntries([...inputs].filter(([name]) => new RegExp(`\\{\\{\\s*${name}\\s*\\}\\}`).test(sql)));

  if (config.connection === 'warehouse') {
    const warehouse = await ctx.io.warehouse();
    const target = config.table
      ? { dataset: config.schema ?? defaultDataset(warehouse, spec, ctx), table: config.table, ifExists: config.write, partition }
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
      // Staged under their own names: the block's SQL refers to them as its upstream named them.
      await pg.export(table, { schema: staging, table: tableName, ifExists: 'replace', columnNames: 'keep' });
      staged.push(tableName);
      text = text.replace(new RegExp(`\\{\\{\\s*${name}\\s*\\}\\}`, 'g'), `${quote(staging)}.${quote(tableName)}`);
    }
    const result = await pg.query(text);
    if (config.table) {
      // Mage writes a SQL block's result with CREATE TABLE AS: the query's own column names.
      await pg.export(result, { schema: config.schema, table: config.table, ifExists: config.write, columnNames: 'keep', partition });
    }
    return result;
  } finally {
    for (const t of staged) await pg.execute(`DROP TABLE IF EXISTS ${quote(staging)}.${quote(t)}`).catch(() => {});
  }
}

/** The warehouse's default (DuckDB `main`, BIGQUERY_DATASET); a block without either is told where to set one. */
function defaultDataset(warehouse: Warehouse, spec: BlockSpec, ctx: BlockContext): string {
  if (warehouse.defaultDataset) return warehouse.defaultDataset;
  throw new ConfigError({
    file: `pipeline ${ctx.pipeline}`,
    key: `${spec.uuid}.sql.dataset`,
    message: `writes table ${spec.sql!.table} but names no dataset, and BIGQUERY_DATASET is not set in the ${ctx.env} profile`,
    hint: `add dataset: <name> under the block's sql:, or set BIGQUERY_DATASET in io_config.yaml`,
  });
}

function quote(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}
