import type { Table } from 'apache-arrow';
import type { BlockContext } from '../blocks/context.ts';
import { ConfigError } from '../errors.ts';
import { runInterval } from '../io/partition-scope.ts';
import type { ExportResult, SqlRunner, SqlTarget } from '../io/types.ts';
import type { BlockSpec } from '../project/model.ts';

/**
 * Runs a rendered SQL block on the connection its `sql:` names, through the
 * connection's SQL seam (`runSql` / `writeSql`): Postgres, DuckDB and
 * BigQuery each stage the upstream tables and quote their names themselves.
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
  const runner: SqlRunner = config.connection === 'warehouse' ? await ctx.io.warehouse() : await ctx.io.postgres();
  const target: SqlTarget | undefined = config.table
    ? { dataset: config.schema ?? defaultDataset(runner, spec, ctx), table: config.table, ifExists: config.write, partition }
    : undefined;
  // An exporter's job is the table it writes: report rows, don't read them all back.
  if (target && spec.kind === 'exporter') return runner.writeSql(sql, referenced, target);
  return runner.runSql(sql, referenced, target);
}

/** The connection's default (POSTGRES_SCHEMA, DuckDB `main`, BIGQUERY_DATASET); a block without either is told where to set one. */
function defaultDataset(runner: SqlRunner, spec: BlockSpec, ctx: BlockContext): string {
  if (runner.defaultDataset) return runner.defaultDataset;
  throw new ConfigError({
    file: `pipeline ${ctx.pipeline}`,
    key: `${spec.uuid}.sql.dataset`,
    message: `writes table ${spec.sql!.table} but names no dataset, and BIGQUERY_DATASET is not set in the ${ctx.env} profile`,
    hint: `add dataset: <name> under the block's sql:, or set BIGQUERY_DATASET in io_config.yaml`,
  });
}
