/**
 * Writers refuse a table whose column names repeat: a Parquet file, a
 * partitioned dataset, a Postgres or warehouse table would otherwise keep one
 * of the columns, or put values under another column's name.
 */
import type { Table } from 'apache-arrow';
import { DataError } from '../errors.ts';

/**
 * Throws a DataError naming every repeated column and its positions (1-based)
 * when two columns of `table` have — or, after `rename`, would have — the
 * same name. `target` is where the table was going, e.g. `gs://b/k.parquet`.
 */
export function checkUniqueColumns(table: Table, target: string, rename: (name: string) => string = (name) => name): void {
  const positions = new Map<string, number[]>();
  table.schema.fields.forEach((field, index) => {
    const name = rename(field.name);
    positions.set(name, [...(positions.get(name) ?? []), index]);
  });
  const repeated = [...positions].filter(([, at]) => at.length > 1);
  if (repeated.length === 0) return;
  const fields = table.schema.fields;
  const describe = ([name, at]: [string, number[]]) => {
    const sources = at.map((i) => (fields[i].name === name ? `column ${i + 1}` : `column ${i + 1} ${JSON.stringify(fields[i].name)}`));
    return `${JSON.stringify(name)} (${sources.join(', ')})`;
  };
  const renamed = repeated.some(([name, at]) => at.some((i) => fields[i].name !== name));
  throw new DataError({
    source: target,
    column: repeated[0][0],
    message:
      `the table to write has ${repeated.length === 1 ? 'a column name' : 'column names'} more than once: ${repeated.map(describe).join('; ')}` +
      (renamed ? ' after the writer cleans the names' : ''),
    hint: renamed
      ? 'rename one of the columns in a transformer, or keep the names as they are (columnNames: "keep")'
      : 'rename or drop one of the columns in a transformer (renameColumns, selectColumns) before this block',
  });
}
