import type { Table } from 'apache-arrow';
import pg from './pg.ts';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { DataError, NonRetriableError, isPipekitError } from '../../errors.ts';
import { renameColumns } from '../../table/columns.ts';
import { checkUniqueColumns } from '../../table/unique-columns.ts';
import { checkRowsInScope, checkScope, scopeCondition, type ScopeColumnKind } from '../partition-scope.ts';
import type { IfExists, PartitionScope } from '../types.ts';
import { type ColumnNaming, columnRenamer } from './column-names.ts';
import { failpoint } from '../failpoints.ts';
import { encodeCopyBinary } from './copy-binary.ts';
import { qualified, quoteIdent } from './identifiers.ts';
import { type PgColumnType, pgTypeOf } from './types.ts';

export interface ExportTableOptions {
  readonly schema: string;
  readonly table: string;
  /** Default `replace`. */
  readonly ifExists?: IfExists;
  /** Size of the COPY chunks sent to the server; default 2 MiB. */
  readonly chunkBytes?: number;
  /** Aborting stops the COPY; the transaction rolls back and the table is left as it was. */
  readonly signal?: AbortSignal;
  /** `clean` (default): Mage's lower-case cleaned names (`VendorID` → `vendorid`); `keep`: names as they are. */
  readonly columnNames?: ColumnNaming;
  /**
   * Replace only the rows in this scope (the column named as in the Arrow
   * table): DELETE … WHERE and COPY in the one transaction.
   */
  readonly partition?: PartitionScope;
}

export interface ExportTableResult {
  readonly rows: number;
  /** What happened to the table: new, emptied and refilled, rebuilt with new columns, appended to, or a partition's rows swapped. */
  readonly action: 'created' | 'truncated' | 'recreated' | 'appended' | 'partition-replaced';
}

/**
 * Writes an Arrow table into PostgreSQL with binary `COPY FROM STDIN`, in one
 * transaction: whatever fails, the database is left as it was.
 *
 * - schema and table are created when missing; identifiers are always quoted.
 * - `fail`: a NonRetriableError when the table exists.
 * - `append`: rows are added; an existing table may have other columns (they
 *   get their defaults) and other types (values are cast by PostgreSQL's
 *   assignment casts through a temporary table, since binary COPY needs exact types).
 * - `replace`: when the existing table has exactly our columns and types it is
 *   TRUNCATEd and refilled — which keeps its grants, indexes and the views on
 *   it (Mage drops the table) and lets PostgreSQL skip WAL for the new rows;
 *   otherwise it is dropped and created with the new columns. Either way inside
 *   the transaction, so readers see the old rows until the commit.
 */
export async function exportTable(db: pg.Pool | pg.PoolClient, arrow: Table, options: ExportTableOptions): Promise<ExportTableResult> {
  const { schema, table } = options;
  const target = qualified(schema, table);
  const rename = columnRenamer(options.columnNames);
  if (arrow.schema.fields.length > 0) checkUniqueColumns(arrow, target, rename);
  arrow = renameColumns(arrow, rename);
  const columns = describeColumns(arrow, target);
  const partition = options.partition && { ...options.partition, column: rename(options.partition.column) };
  if (partition) {
    checkScope(partition, options.ifExists, target);
    checkRowsInScope(arrow, partition, target);
  }

  const client = db instanceof pg.Pool ? await db.connect() : db;
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    try {
      const result = await exportInTransaction(client, arrow, columns, { ...options, partition }, target);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
      throw explain(error, arrow, target);
    }
  } finally {
    // A client whose ROLLBACK failed is in an unknown state: let the pool discard it.
    if (db instanceof pg.Pool) (client as pg.PoolClient).release(broken);
  }
}

interface Column {
  readonly name: string;
  readonly type: PgColumnType;
}

function describeColumns(arrow: Table, target: string): Column[] {
  const fields = arrow.schema.fields;
  if (fields.length === 0) {
    throw new DataError({
      source: target,
      message: 'the table to export has no columns',
      hint: 'return a table with at least one column from the block',
    });
  }
  return fields.map((field) => ({ name: field.name, type: pgTypeOf(field, target) }));
}

async function exportInTransaction(
  client: pg.ClientBase,
  arrow: Table,
  columns: Column[],
  options: ExportTableOptions,
  target: string,
): Promise<ExportTableResult> {
  const ifExists = options.ifExists ?? 'replace';
  // One export of a table at a time, so two first runs do not both CREATE it; held until COMMIT or ROLLBACK.
  await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 7242002))', [`table ${target}`]);
  const existing = await existingColumns(client, options.schema, options.table);
  const columnList = columns.map((c) => quoteIdent(c.name)).join(', ');
  const copy = (into: string) =>
    copyRows(client, arrow, `COPY ${into} (${columnList}) FROM STDIN (FORMAT binary)`, options.chunkBytes, options.signal);

  if (!existing) {
    // Two first runs at once both get here: the second waits for the first's schema, then finds it
    // (without the lock, CREATE SCHEMA IF NOT EXISTS fails with a duplicate key on pg_namespace).
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 7242002))', [`schema ${options.schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(options.schema)}`);
    await client.query(`CREATE TABLE ${target} (${columnDefinitions(columns)})`);
    return { rows: await copy(target), action: 'created' };
  }

  if (ifExists === 'fail') {
    throw new NonRetriableError(`${target} already exists and if_exists is fail`, {
      hint: `use if_exists 'replace' or 'append', or drop the table first (DROP TABLE ${target})`,
    });
  }

  if (options.partition) {
    const kind = postgresKind(existing.get(options.partition.column));
    if (!existing.has(options.partition.column)) {
      throw new DataError({
        source: target,
        column: options.partition.column,
        message: 'the existing table has no such column to scope the replace by',
        hint: `scope by one of: ${[...existing.keys()].join(', ')}`,
      });
    }
    await client.query(`DELETE FROM ${target} WHERE ${scopeCondition(options.partition, quoteIdent(options.partition.column), kind)}`);
    const { rows } = await appendRows(client, columns, existing, copy, target, columnList);
    return { rows, action: 'partition-replaced' };
  }

  if (ifExists === 'replace') {
    const sameShape = existing.size === columns.length && columns.every((c) => existing.get(c.name) === c.type.sql);
    if (sameShape) {
      await client.query(`TRUNCATE TABLE ${target}`);
      return { rows: await copy(target), action: 'truncated' };
    }
    await client.query(`DROP TABLE ${target}`);
    await client.query(`CREATE TABLE ${target} (${columnDefinitions(columns)})`);
    return { rows: await copy(target), action: 'recreated' };
  }

  return appendRows(client, columns, existing, copy, target, columnList);
}

/** Appends by column name, casting through a staging table when the existing types differ. */
async function appendRows(
  client: pg.ClientBase,
  columns: Column[],
  existing: Map<string, string>,
  copy: (into: string) => Promise<number>,
  target: string,
  columnList: string,
): Promise<ExportTableResult> {
  const missing = columns.filter((c) => !existing.has(c.name));
  if (missing.length > 0) {
    throw new DataError({
      source: target,
      column: missing[0].name,
      message: `the existing table has no column ${missing.map((c) => JSON.stringify(c.name)).join(', ')}`,
      hint: `add it (ALTER TABLE ${target} ADD COLUMN ${quoteIdent(missing[0].name)} ${missing[0].type.sql}) or export with if_exists 'replace'`,
    });
  }
  if (columns.every((c) => existing.get(c.name) === c.type.sql)) {
    return { rows: await copy(target), action: 'appended' };
  }
  // Types differ (say integer vs our bigint): binary COPY would reject them,
  // so stage with our types and let INSERT apply PostgreSQL's assignment casts.
  const staging = quoteIdent(`pipekit_stage_${process.pid}_${Date.now()}`);
  await client.query(`CREATE TEMPORARY TABLE ${staging} (${columnDefinitions(columns)}) ON COMMIT DROP`);
  await copy(staging);
  const inserted = await client.query(`INSERT INTO ${target} (${columnList}) SELECT ${columnList} FROM ${staging}`);
  return { rows: inserted.rowCount ?? 0, action: 'appended' };
}

function postgresKind(type: string | undefined): ScopeColumnKind {
  if (type === 'date') return 'date';
  if (type === 'timestamp with time zone') return 'timestamptz';
  if (type?.startsWith('timestamp')) return 'timestamp';
  return 'other';
}

function columnDefinitions(columns: Column[]): string {
  return columns.map((c) => `${quoteIdent(c.name)} ${c.type.sql}`).join(', ');
}

/** Column name → `format_type()` of an existing ordinary or partitioned table; undefined when there is none. */
async function existingColumns(client: pg.ClientBase, schema: string, table: string): Promise<Map<string, string> | undefined> {
  const found = await client.query<{ attname: string | null; type: string | null }>(
    `SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')
      ORDER BY a.attnum`,
    [schema, table],
  );
  if (found.rowCount === 0) return undefined;
  // A table with zero columns still exists (the LEFT JOIN yields one null row): Mage gets this wrong (#1905).
  return new Map(found.rows.filter((r) => r.attname !== null).map((r) => [r.attname!, r.type!]));
}

async function copyRows(client: pg.ClientBase, arrow: Table, sql: string, chunkBytes?: number, signal?: AbortSignal): Promise<number> {
  const sink = client.query(copyFrom(sql));
  const source = encodeCopyBinary(arrow, { chunkBytes });
  source.on('data', () => failpoint('postgres.copy.chunk'));
  // An abort destroys both streams: the server sees the COPY fail and the caller rolls back.
  await pipeline(source, sink, signal ? { signal } : {});
  return sink.rowCount;
}

/**
 * Turns server errors into messages naming the table, and for a rejected
 * value its row (1-based), column and value — from the error's
 * `COPY t, line N, column c` context.
 */
function explain(error: unknown, arrow: Table, target: string): unknown {
  if (isPipekitError(error)) return error;
  const e = error as { code?: string; message?: string; where?: string; detail?: string };
  if (e.code === '2BP01') {
    return new NonRetriableError(`${target}: cannot replace the table, other objects depend on it: ${e.detail ?? e.message}`, {
      hint: 'the columns changed, so pipekit must drop and recreate the table: drop the dependent views first, or keep the columns and types as they were (then the rows are swapped in place and views stay)',
      cause: error,
    });
  }
  const where = /COPY [^,]+, line (\d+)(?:, column ([^:]+))?/.exec(e.where ?? '');
  if (where) {
    const row = Number(where[1]);
    const column = where[2];
    let value: string | undefined;
    const vector = column === undefined ? null : arrow.getChild(column);
    if (vector && row >= 1 && row <= vector.length) value = String(vector.get(row - 1));
    return new DataError({
      source: target,
      column,
      value,
      message: `PostgreSQL rejected row ${row} of the exported table: ${e.message}`,
      hint: e.message?.includes('0x00')
        ? 'PostgreSQL text cannot hold NUL characters: strip them (replace \\u0000) in a transformer'
        : 'fix or filter the value in a transformer before the export',
    });
  }
  return error;
}
