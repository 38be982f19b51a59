/**
 * The local warehouse: DuckDB in a file, standing in for BigQuery on a
 * laptop. SQL blocks run here with their upstream outputs staged as views.
 */
import { Table } from 'apache-arrow';
import type { DuckDBInstance } from '@duckdb/node-api';
import { duckdbApi } from './node-api.ts';
import { resolve } from 'node:path';
import { checkUniqueColumns } from '../../table/unique-columns.ts';
import type { Warehouse, WarehouseTarget } from '../types.ts';
import { fetchArrow, stageAsView, stageTable } from './arrow-io.ts';
import { drained, serializeOn } from './file-queue.ts';
import { quoteIdent } from './identifiers.ts';
import { openInstance, withSession } from './session.ts';
import type { DuckDbSession, SessionConfig } from './session.ts';
import { placeholdersIn, replacePlaceholders, splitStatements } from '../sql-text.ts';
import { qualifiedName, writeRelation } from './write-policy.ts';

export interface DuckDbWarehouseOptions {
  /** Database file (created when missing), or `:memory:` (kept open until `close()`). */
  readonly path: string;
  /** Parent folder for staging Parquet files; default the OS temp folder. Put it on the same disk for big tables. */
  readonly tempDir?: string;
  /**
   * DuckDB's `memory_limit`. Default 256MB: the warehouse runs inside the
   * pipeline's process, next to its Arrow tables, and DuckDB otherwise keeps
   * up to 80% of the machine's RAM as cache (a taxi month loaded into a table:
   * peak RSS 530 -> 449 MB, and no slower). Bigger sorts, joins and
   * aggregations spill to `<file>.tmp`.
   */
  readonly memoryLimit?: string;
}

/** See {@link DuckDbWarehouseOptions.memoryLimit}. */
export const DEFAULT_MEMORY_LIMIT = '256MB';

let inMemoryCount = 0;

/** Mage's default write policy of SQL blocks, kept so migrated blocks behave the same. */
const SQL_BLOCK_DEFAULT = 'append';

/**
 * A Warehouse on a DuckDB file. The file is opened for each call and closed
 * right after (DuckDB allows one writing process per file), and calls from
 * this process — from every warehouse on the same file — are serialized.
 */
export async function createDuckDbWarehouse(options: DuckDbWarehouseOptions): Promise<Warehouse> {
  const inMemory = options.path === ':memory:';
  const config: SessionConfig = {
    path: inMemory ? ':memory:' : resolve(options.path),
    tempDir: options.tempDir,
    settings: { memory_limit: options.memoryLimit ?? DEFAULT_MEMORY_LIMIT },
  };
  // An in-memory database is this warehouse's own; a file is shared by every warehouse of the process.
  const queueKey = inMemory ? `:memory:#${++inMemoryCount}` : config.path;
  // Opening once up front fails fast on a locked file or a bad path.
  let shared: DuckDBInstance | undefined = inMemory
    ? await openInstance(config.path, config.settings)
    : await serializeOn(queueKey, async () => void (await openInstance(config.path, config.settings)).closeSync());
  let closed = false;

  const use = <T>(work: (session: DuckDbSession) => Promise<T>, signal?: AbortSignal): Promise<T> => {
    if (closed) return Promise.reject(new Error(`${config.path}: the warehouse is closed`));
    return serializeOn(queueKey, () => withSession(config, shared, work, signal));
  };

  const view = (signal?: AbortSignal): Warehouse => ({
    kind: 'duckdb',
    defaultDataset: 'main',

    query: (sql) => use((session) => runScript(session, sql), signal),

    export: (table, target) =>
      use(async (session) => {
        checkUniqueColumns(table, describeTarget(config.path, target));
        const rows = await writeRelation(session, await stageTable(session, table), target, 'replace');
        return { rows, target: describeTarget(config.path, target) };
      }, signal),

    runSql: (sql, inputs, target) =>
      use(async (session) => {
        const text = await stageInputs(session, sql, inputs, target ? describeTarget(config.path, target) : 'SQL block');
        if (!target) return runScript(session, text);
        if (!(await runInto(session, text, target, true))) return new Table();
        return fetchArrow(session, 'SELECT * FROM pipekit_result');
      }, signal),

    writeSql: (sql, inputs, target) =>
      use(async (session) => {
        const where = describeTarget(config.path, target);
        const rows = await runInto(session, await stageInputs(session, sql, inputs, where), target, false);
        return { rows: rows ?? 0, target: where };
      }, signal),

    withSignal: (next) => view(next),

    // A view made for one block attempt leaves the warehouse open for the rest of the run.
    close: signal
      ? async () => undefined
      : async () => {
          closed = true;
          await drained(queueKey);
          shared?.closeSync();
          shared = undefined;
        },
  });
  return view();
}

/** Stages only the inputs the SQL names (as Mage does) and returns the SQL with their quoted names. */
async function stageInputs(session: DuckDbSession, sql: string, inputs: Readonly<Record<string, Table>>, where: string): Promise<string> {
  const names: Record<string, string> = {};
  for (const key of Object.keys(inputs)) names[key] = quoteIdent(`pipekit_input_${key}`);
  const text = replacePlaceholders(sql, names, where);
  for (const key of placeholdersIn(sql)) {
    if (inputs[key]) checkUniqueColumns(inputs[key], `${where}, input {{ ${key} }}`);
    await stageAsView(session, inputs[key], `pipekit_input_${key}`);
  }
  return text;
}

/**
 * Runs a script whose last statement is a query once, into the target.
 * With `keepResult` the query's rows also stay in the temp table
 * `pipekit_result` (for blocks that return them); without, they stream
 * straight into the target, so DuckDB never holds a second in-memory copy
 * (a taxi month: ~250 MB). Returns the rows written, or undefined for an
 * empty script.
 */
async function runInto(session: DuckDbSession, text: string, target: WarehouseTarget, keepResult: boolean): Promise<number | undefined> {
  const statements = splitStatements(text);
  const last = statements.pop();
  if (last === undefined) return undefined;
  for (const statement of statements) await session.run(statement);
  if (!keepResult) return writeRelation(session, `(\n${last}\n)`, target, SQL_BLOCK_DEFAULT); // newlines: a trailing -- comment must not swallow ")"
  await session.run(`CREATE OR REPLACE TEMP TABLE pipekit_result AS ${last}`);
  return writeRelation(session, 'pipekit_result', target, SQL_BLOCK_DEFAULT);
}

/**
 * Runs a script: every statement but the last as is; the last returns its
 * rows when it is a query, else an empty table.
 */
async function runScript(session: DuckDbSession, sql: string): Promise<Table> {
  const statements = splitStatements(sql);
  const last = statements.pop();
  if (last === undefined) return new Table();
  for (const statement of statements) await session.run(statement);
  const prepared = await session.connection.prepare(last).catch(async () => {
    await session.run(last); // let DuckDB's error (with the SQL) surface through the session
    return undefined;
  });
  if (!prepared) return new Table();
  if (prepared.statementType === duckdbApi.StatementType.SELECT) return fetchArrow(session, last);
  await session.run(last);
  return new Table();
}

function describeTarget(path: string, target: WarehouseTarget): string {
  return `duckdb://${path} ${qualifiedName(target, path)}`;
}
