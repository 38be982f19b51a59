import { describe, expect, it } from 'vitest';
import { Float64, Int64, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { concatTables, filterRows, maskToIndices, take } from '../../src/table/index.ts';

const rows = (t: Table) =>
  t.toArray().map((r) => JSON.parse(JSON.stringify(r.toJSON(), (_, v) => (typeof v === 'bigint' ? Number(v) : v))));

/** Long runs of kept rows (like the taxi filter) go through keepRuns; the result must equal take's. */
describe('filterRows by runs', () => {
  const n = 400;
  const part = (from: number) => {
    const ids = Array.from({ length: n }, (_, i) => (i % 37 === 0 ? null : BigInt(from + i)));
    return new Table({
      id: vectorFromArray(ids, new Int64()),
      name: vectorFromArray(
        ids.map((v, i) => (v === null ? null : `row ${from + i}${'x'.repeat(i % 20)}`)),
        new Utf8(),
      ),
      x: vectorFromArray(
        ids.map((_, i) => (i % 11 === 0 ? null : i / 4)),
        new Float64(),
      ),
      flag: vectorFromArray(ids.map((_, i) => (i % 13 === 0 ? null : i % 3 === 0))),
    });
  };
  const table = concatTables([part(0), part(n), part(2 * n).slice(100, 300)]);

  it('equals take for masks dropping a few rows, whole batches, and sliced chunks', () => {
    const mask = new Uint8Array(table.numRows).map((_, i) => (i % 97 === 5 || (i >= n && i < 2 * n) ? 0 : 1));
    const kept = filterRows(table, mask);
    expect(kept.batches.length).toBe(1); // one batch, like take
    expect(rows(kept)).toEqual(rows(take(table, maskToIndices(mask))));
    expect(kept.getChild('id')!.nullCount).toBe(take(table, maskToIndices(mask)).getChild('id')!.nullCount);
  });

  it('keeps everything and nothing', () => {
    expect(rows(filterRows(table, new Uint8Array(table.numRows).fill(1)))).toEqual(rows(table));
    expect(filterRows(table, new Uint8Array(table.numRows)).numRows).toBe(0);
  });
});

/** Indices in long runs (a partition of a time-ordered month) are gathered a run at a time; the rows must be the row-by-row ones. */
describe('take by runs', () => {
  const part = (from: number, n: number) =>
    new Table({
      id: vectorFromArray(
        Array.from({ length: n }, (_, i) => (i % 37 === 0 ? null : BigInt(from + i))),
        new Int64(),
      ),
      name: vectorFromArray(
        Array.from({ length: n }, (_, i) => (i % 41 === 0 ? null : `row ${from + i}${'x'.repeat(i % 20)}`)),
        new Utf8(),
      ),
      x: vectorFromArray(
        Array.from({ length: n }, (_, i) => i / 4),
        new Float64(),
      ),
    });
  const table = concatTables([part(0, 300), part(300, 300), part(600, 300).slice(50, 250)]);
  const all = rows(table);

  it('equals the rows at the indices, for runs within and across chunks, repeated and out of order', () => {
    // Runs of 100 that start mid-chunk and cross chunk ends (250-349, 550-649), one row repeated, then a run backwards in the file.
    const indices = Int32Array.from([
      ...Array.from({ length: 100 }, (_, i) => 250 + i),
      ...Array.from({ length: 100 }, (_, i) => 550 + i),
      ...Array.from({ length: 5 }, () => 7),
      ...Array.from({ length: 120 }, (_, i) => 10 + i),
    ]);
    const taken = take(table, indices);
    expect(rows(taken)).toEqual([...indices].map((i) => all[i]));
    expect(taken.getChild('id')!.nullCount).toBe([...indices].filter((i) => all[i].id === null).length);
  });
});
