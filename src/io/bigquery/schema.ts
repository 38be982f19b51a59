/**
 * Arrow ↔ BigQuery column types. Exports always send an explicit schema, fixed
 * by the Arrow type, never by the data: timestamps are TIMESTAMP (Mage lets
 * pandas pick DATETIME for naive datetimes), integers INT64, floats FLOAT64.
 */
import { Type, type DataType, type Field, type Table } from 'apache-arrow';
import { DataError } from '../../errors.ts';

/** A column of a BigQuery table schema, as the REST API spells it. */
export interface BigQueryField {
  readonly name: string;
  readonly type: string;
  readonly mode?: string;
}

const COLUMN = /^[A-Za-z_][A-Za-z0-9_]{0,299}$/;

/** The BigQuery type of an Arrow field; DataError for types pipekit does not load yet. */
export function bigQueryTypeOf(field: Field, source: string): string {
  const type = field.type as DataType;
  switch (type.typeId) {
    case Type.Int: {
      const { bitWidth, isSigned } = type as unknown as { bitWidth: number; isSigned: boolean };
      if (bitWidth < 64 || isSigned) return 'INT64';
      break; // uint64 may not fit
    }
    case Type.Float:
      return 'FLOAT64';
    case Type.Utf8:
    case Type.LargeUtf8:
      return 'STRING';
    case Type.Bool:
      return 'BOOL';
    case Type.Date:
      return 'DATE';
    case Type.Timestamp:
      return 'TIMESTAMP';
    case Type.Dictionary:
      if ([Type.Utf8, Type.LargeUtf8].includes((type as unknown as { valueType: DataType }).valueType.typeId)) return 'STRING';
      break;
  }
  throw new DataError({
    source,
    column: field.name,
    message: `has Arrow type ${String(type)}, which pipekit cannot load into BigQuery`,
    hint: 'cast it to an integer, float, string, bool, date or timestamp column first',
  });
}

/** The explicit load schema for a table; DataError naming a column BigQuery would reject. */
export function bigQuerySchemaOf(table: Table, source: string): BigQueryField[] {
  return table.schema.fields.map((field) => {
    if (!COLUMN.test(field.name)) {
      throw new DataError({
        source,
        column: field.name,
        message: 'is not a valid BigQuery column name',
        hint: 'rename it with letters, digits and underscores (snakeCase() in src/table does it)',
      });
    }
    return { name: field.name, type: bigQueryTypeOf(field, source), mode: 'NULLABLE' };
  });
}

/** Standard SQL names for the legacy ones the API returns in table metadata. */
export function normalizeType(type: string): string {
  const t = type.toUpperCase();
  return ({ INTEGER: 'INT64', FLOAT: 'FLOAT64', BOOLEAN: 'BOOL', RECORD: 'STRUCT' } as Record<string, string>)[t] ?? t;
}

/**
 * Why appending `ours` to a table with `existing` columns would fail, one
 * line per column; empty when it is compatible.
 */
export function appendMismatches(existing: readonly BigQueryField[], ours: readonly BigQueryField[]): string[] {
  const problems: string[] = [];
  const byName = new Map(existing.map((f) => [f.name.toLowerCase(), f]));
  for (const f of ours) {
    const old = byName.get(f.name.toLowerCase());
    if (!old) problems.push(`${f.name} (${f.type}) is not in the table`);
    else if (normalizeType(old.type) !== normalizeType(f.type))
      problems.push(`${f.name} is ${normalizeType(old.type)} in the table but ${f.type} in the data`);
  }
  const names = new Set(ours.map((f) => f.name.toLowerCase()));
  for (const old of existing) {
    if (!names.has(old.name.toLowerCase()) && old.mode === 'REQUIRED')
      problems.push(`${old.name} is REQUIRED in the table but missing from the data`);
  }
  return problems;
}
