/**
 * Partition-scoped writes, the parts every connector shares: checking a
 * scope, finding new rows outside it, and the SQL condition that selects the
 * rows in scope (DuckDB, PostgreSQL and GoogleSQL agree on typed literals).
 */
import { DataType, type Table } from 'apache-arrow';
import { ConfigError, DataError } from '../errors.ts';
import { isNumeric, numericValues } from '../table/values.ts';
import type { IfExists, PartitionScope } from './types.ts';

/** How the partition column is typed where the rows live. */
export type ScopeColumnKind = 'date' | 'timestamp' | 'timestamptz' | 'other';

const DAY_MS = 86_400_000;

/**
 * The scope of a run's interval on `column`, for a daily (hourly, …) export
 * that backfills and re-runs converge on:
 * `warehouse.export(trips, { dataset, table, partition: runInterval(ctx, 'pickup_date') })`.
 */
export function runInterval(ctx: { readonly intervalStart: Date; readonly intervalEnd: Date }, column: string): PartitionScope {
  return { column, start: ctx.intervalStart, end: ctx.intervalEnd };
}

/** Throws a ConfigError unless the scope names a column and exactly one of an interval or values, under a replace policy. */
export function checkScope(scope: PartitionScope, ifExists: IfExists | undefined, where: string): void {
  const fail = (message: string, hint: string) => {
    throw new ConfigError({ file: where, key: 'partition', message, hint });
  };
  if (!scope.column)
    fail('names no column', 'give the column that holds each row\'s partition, e.g. { column: "pickup_date", start, end }');
  if (ifExists && ifExists !== 'replace')
    fail(
      `cannot be combined with ifExists '${ifExists}'`,
      'a partition-scoped write replaces the rows in scope: leave ifExists unset or use replace',
    );
  const hasRange = scope.start !== undefined || scope.end !== undefined;
  if (hasRange === (scope.values !== undefined))
    fail(
      'needs either start and end or values',
      'pass { column, start: ctx.intervalStart, end: ctx.intervalEnd } or { column, values: [...] }',
    );
  if (hasRange) {
    const [start, end] = [scope.start?.getTime(), scope.end?.getTime()];
    if (start === undefined || end === undefined || Number.isNaN(start) || Number.isNaN(end) || start >= end) {
      fail(
        `has an empty or invalid interval [${scope.start?.toISOString?.()}, ${scope.end?.toISOString?.()})`,
        'start must be a date before end',
      );
    }
  } else if (scope.values!.length === 0) fail('has no values', 'list the partition values to replace, e.g. ["2021-01-01"]');
}

/** `pickup_date in [2021-01-01T00:00:00.000Z, 2021-01-02T00:00:00.000Z)`, for messages. */
export function describeScope(scope: PartitionScope): string {
  return scope.values
    ? `${scope.column} in (${scope.values.map((v) => JSON.stringify(v)).join(', ')})`
    : `${scope.column} in [${scope.start!.toISOString()}, ${scope.end!.toISOString()})`;
}

/** The kind of an Arrow column. */
export function arrowKind(type: DataType): ScopeColumnKind {
  if (DataType.isDate(type)) return 'date';
  if (DataType.isTimestamp(type)) return type.timezone ? 'timestamptz' : 'timestamp';
  return 'other';
}

/**
 * Refuses new rows that lie outside the scope (a null counts as outside),
 * naming the first such row and value; also a missing partition column.
 */
export function checkRowsInScope(table: Table, scope: PartitionScope, where: string): void {
  const column = table.getChild(scope.column);
  if (!column) {
    throw new DataError({
      source: where,
      column: scope.column,
      message: 'the partition column is not in the table to write',
      hint: `add the column, or scope the write by one of: ${table.schema.fields.map((f) => f.name).join(', ')}`,
    });
  }
  const kind = arrowKind(column.type);
  const i = scope.values ? firstOutsideValues(table, scope, kind) : firstOutsideRange(table, scope);
  if (i === undefined) return;
  const value = column.get(i);
  throw new DataError({
    source: where,
    row: i + 1,
    column: scope.column,
    value: value === null ? 'null' : formatValue(value, kind),
    message: `row ${i + 1} lies outside the partition being replaced (${describeScope(scope)})`,
    hint: "filter the rows to the run's interval before writing, or widen the partition scope: a row outside it would be written again by every run",
  });
}

/** The first row (index) whose value is not one of the scope's values, or undefined. */
function firstOutsideValues(table: Table, scope: PartitionScope, kind: ScopeColumnKind): number | undefined {
  const wanted = new Set(scope.values!.map(String));
  const column = table.getChild(scope.column)!;
  for (let i = 0; i < column.length; i++) {
    const value = column.get(i);
    if (value === null || value === undefined || !wanted.has(formatValue(value, kind))) return i;
  }
  return undefined;
}

/** The first row outside [start, end), reading the column as epoch milliseconds (a month of rows in a few ms). */
function firstOutsideRange(table: Table, scope: PartitionScope): number | undefined {
  const column = table.getChild(scope.column)!;
  if (column.length === 0) return undefined;
  if (!isNumeric(column.type)) return 0; // text or other values never lie in a time interval
  const { values, valid } = numericValues(table, scope.column);
  const [start, end] = [scope.start!.getTime(), scope.end!.getTime()];
  for (let i = 0; i < values.length; i++) {
    if (valid && (valid[i >> 3] & (1 << (i & 7))) === 0) return i;
    if (!(values[i] >= start && values[i] < end)) return i;
  }
  return undefined;
}

function toMillis(value: unknown): number {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'bigint') return Number(value);
  return Number(value);
}

/** A value as the scope's `values` spell it: dates `YYYY-MM-DD`, timestamps ISO without zone, else String(). */
function formatValue(value: unknown, kind: ScopeColumnKind): string {
  if (kind === 'date') return new Date(toMillis(value)).toISOString().slice(0, 10);
  if (kind === 'timestamp' || kind === 'timestamptz')
    return new Date(toMillis(value))
      .toISOString()
      .replace('T', ' ')
      .replace(/\.000Z$|Z$/, '');
  return String(value);
}

/**
 * The SQL condition selecting the rows in scope, for a column already
 * quoted. Literals are typed the way the column is, so a DATE column is
 * compared with DATE literals (BigQuery prunes partitions on them).
 */
export function scopeCondition(scope: PartitionScope, quotedColumn: string, kind: ScopeColumnKind): string {
  if (scope.values) return `${quotedColumn} IN (${scope.values.map((v) => literal(v, kind)).join(', ')})`;
  if (kind === 'date') {
    return `${quotedColumn} >= DATE '${dateOf(ceilDay(scope.start!))}' AND ${quotedColumn} < DATE '${dateOf(ceilDay(scope.end!))}'`;
  }
  const type = kind === 'timestamptz' ? 'TIMESTAMPTZ' : 'TIMESTAMP';
  const zone = kind === 'timestamptz' ? '+00' : '';
  return `${quotedColumn} >= ${type} '${timestampOf(scope.start!)}${zone}' AND ${quotedColumn} < ${type} '${timestampOf(scope.end!)}${zone}'`;
}

function literal(value: string | number, kind: ScopeColumnKind): string {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'NULL';
  const text = `'${value.replaceAll("'", "''")}'`;
  if (kind === 'date') return `DATE ${text}`;
  if (kind === 'timestamp') return `TIMESTAMP ${text}`;
  return text;
}

/** A date column value d is in [start, end) when d >= the first midnight at or after start. */
function ceilDay(date: Date): Date {
  return new Date(Math.ceil(date.getTime() / DAY_MS) * DAY_MS);
}

const dateOf = (date: Date) => date.toISOString().slice(0, 10);
const timestampOf = (date: Date) => date.toISOString().replace('T', ' ').replace('Z', '');
