/** Column-level reshaping: rename, select, add or replace. No row data is copied. */
import { DataError } from '../errors.ts';
import { checkUniqueColumns } from './unique-columns.ts';
import { Field, RecordBatch, Schema, Struct, Table, makeData, type Vector } from 'apache-arrow';

/**
 * Renames every column through `rename(name)`; the data is shared.
 * @throws DataError when two columns end up with the same name (a rename
 * that cannot succeed on a retry).
 */
export function renameColumns(table: Table, rename: (name: string) => string): Table {
  const fields = table.schema.fields.map((f) => new Field(rename(f.name), f.type, f.nullable, f.metadata));
  const seen = new Map<string, string>();
  for (const [i, f] of fields.entries()) {
    const before = table.schema.fields[i].name;
    const other = seen.get(f.name);
    if (other !== undefined) {
      throw new DataError({
        source: 'renameColumns',
        column: before,
        message: `${JSON.stringify(before)} becomes ${JSON.stringify(f.name)}, which column ${JSON.stringify(other)} already becomes`,
        hint: 'drop or rename one of the two columns first, or rename them with a rule that keeps them apart',
      });
    }
    seen.set(f.name, before);
  }
  const schema = new Schema(fields, table.schema.metadata);
  const batches = table.batches.map(
    (b) => new RecordBatch(schema, makeData({ type: new Struct(fields), length: b.numRows, nullCount: 0, children: b.data.children })),
  );
  return new Table(schema, batches);
}

/**
 * snake_case as the Zoomcamp homework wants it: `VendorID` → `vendor_id`,
 * `PULocationID` → `pu_location_id`, `RatecodeID` → `ratecode_id`,
 * `tpep_pickup_datetime` unchanged, `Trip Distance` → `trip_distance`,
 * `Unnamed: 0.1` (pandas' name for an index column) → `unnamed_0_1`.
 *
 * The rule, in order: runs of anything but letters, digits and `_` (spaces,
 * hyphens, `:`, `.`) become one `_`, so the result is a valid column name in
 * BigQuery, DuckDB and Postgres alike; an `_` goes
 * between a lower-case letter or digit and an upper-case letter (`rI` →
 * `r_I`), and between an upper-case run and an upper-case letter followed by
 * lower case (`PULocation` → `PU_Location`); then everything is lower-cased
 * and repeated `_` collapse into one.
 */
export function snakeCase(name: string): string {
  return name
    .trim()
    .replace(/[^\p{L}\p{N}_]+/gu, '_')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase()
    .replace(/_+/g, '_');
}

/** Keeps the named columns, in the order given. @throws TypeError naming a missing column. */
export function selectColumns(table: Table, names: readonly string[]): Table {
  const have = table.schema.fields.map((f) => f.name);
  const missing = names.filter((n) => !have.includes(n));
  if (missing.length > 0)
    throw new TypeError(`selectColumns: no column ${missing.map((m) => JSON.stringify(m)).join(', ')}; the table has ${have.join(', ')}`);
  return table.select(names as string[]);
}

/**
 * Adds `vector` as column `name`, or replaces the column of that name in
 * place. Its length must equal the table's; chunking may differ.
 */
export function withColumn(table: Table, name: string, vector: Vector): Table {
  if (vector.length !== table.numRows) throw new RangeError(`withColumn: "${name}" has ${vector.length} values for ${table.numRows} rows`);
  if (table.numCols === 0) return new Table({ [name]: vector });
  checkUniqueColumns(table, 'withColumn');
  // The Table constructor re-aligns chunk boundaries when the new vector is chunked differently,
  // and takes each column's type from its vector. (Arrow's setChildAt kept the replaced column's
  // old type in the schema: a Float64 column replaced by strings read back as garbage doubles.)
  const columns: Record<string, Vector> = {};
  for (const [i, f] of table.schema.fields.entries()) columns[f.name] = f.name === name ? vector : table.getChildAt(i)!;
  columns[name] = vector;
  return new Table(columns);
}
