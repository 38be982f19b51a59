/**
 * Columns holding one value on every row: how partition values, which live
 * only in folder names, come back as columns on read.
 */
import { Field, makeData, RecordBatch, Schema, Struct, Table } from 'apache-arrow';
import type { Vector } from 'apache-arrow';
import { dateVector, utf8Vector } from '../../table/make.ts';

export interface ConstantColumn {
  readonly name: string;
  readonly type: 'date' | 'string';
  /** Days since 1970-01-01 for dates, text for strings; null for the default partition. */
  readonly value: number | string | null;
}

/** A vector of `length` copies of the column's value, built from typed arrays. */
export function constantVector(column: ConstantColumn, length: number): Vector {
  // All-zero validity bits = every row null.
  const valid = column.value === null ? new Uint8Array(Math.ceil(length / 8)) : undefined;
  if (column.type === 'date') return dateVector(new Int32Array(length).fill((column.value as number | null) ?? 0), valid);
  const text = new TextEncoder().encode((column.value as string | null) ?? '');
  const offsets = new Int32Array(length + 1);
  const bytes = new Uint8Array(text.length * length);
  for (let i = 0; i < length; i++) {
    offsets[i + 1] = offsets[i] + text.length;
    bytes.set(text, offsets[i]);
  }
  return utf8Vector(offsets, bytes, valid);
}

/** `table` with the constant columns appended after its own, batch by batch. */
export function withConstantColumns(table: Table, columns: readonly ConstantColumn[]): Table {
  if (columns.length === 0) return table;
  const probe = columns.map((c) => constantVector(c, 0));
  const fields = [...table.schema.fields, ...columns.map((c, i) => new Field(c.name, probe[i].type, true))];
  const schema = new Schema(fields, table.schema.metadata);
  const batches = table.batches.map((batch) => {
    const extra = columns.map((c) => constantVector(c, batch.numRows).data[0]);
    const children = [...batch.data.children, ...extra];
    return new RecordBatch(schema, makeData({ type: new Struct(fields), length: batch.numRows, nullCount: 0, children }));
  });
  if (batches.length === 0) {
    const empty = makeData({ type: new Struct(fields), length: 0, nullCount: 0, children: probe.map((v) => v.data[0]) });
    return new Table([new RecordBatch(schema, empty)]);
  }
  return new Table(batches);
}
