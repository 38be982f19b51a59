/** Joining tables and flattening chunked ones. */
import { Table } from 'apache-arrow';
import { take } from './take.ts';

/**
 * Appends same-schema tables without copying: the result holds every input
 * record batch, in order. Field names and types must match exactly.
 *
 * @throws TypeError naming the first field that differs.
 */
export function concatTables(tables: readonly Table[]): Table {
  if (tables.length === 0) throw new TypeError('concatTables: no tables given');
  const [first, ...rest] = tables;
  for (const [n, t] of rest.entries()) {
    const a = first.schema.fields;
    const b = t.schema.fields;
    const mismatch =
      a.length !== b.length
        ? `it has ${b.length} columns, the first has ${a.length}`
        : a
            .map((f, i) =>
              f.name !== b[i].name || String(f.type) !== String(b[i].type)
                ? `column ${i + 1} is "${b[i].name}" ${b[i].type}, the first table has "${f.name}" ${f.type}`
                : '',
            )
            .find(Boolean);
    if (mismatch) throw new TypeError(`concatTables: table ${n + 2} has another schema: ${mismatch}`);
  }
  const batches = tables.flatMap((t) => t.batches);
  return batches.length === 0 ? first : new Table(first.schema, batches);
}

/** The same rows in a single record batch (one contiguous buffer per column). */
export function combineBatches(table: Table): Table {
  if (table.batches.length === 1) return table;
  const all = new Int32Array(table.numRows);
  for (let i = 0; i < all.length; i++) all[i] = i;
  return take(table, all);
}
