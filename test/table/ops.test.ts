import { describe, expect, it } from 'vitest';
import { vectorFromArray, Int64, Utf8, TimestampMicrosecond, Table, Float64 } from 'apache-arrow';
import {
  take,
  concatTables,
  combineBatches,
  filterRows,
  where,
  countWhere,
  renameColumns,
  snakeCase,
  selectColumns,
  withColumn,
  numericValues,
  median,
  fillNull,
  toDate,
  int64Vector,
  timestampVector,
  utf8Vector,
  boolVector,
  dateVector,
} from '../../src/table/index.ts';

function sample(): Table {
  return new Table({
    id: vectorFromArray([1n, null, 3n, -4n, 2n ** 40n], new Int64()),
    name: vectorFromArray(['a', null, 'ccc', 'a longer string than sixteen bytes', 'é'], new Utf8()),
    x: vectorFromArray([0.5, 1.5, null, -2, 10], new Float64()),
    flag: vectorFromArray([true, false, null, true, false]),
  });
}
const rows = (t: Table) =>
  t.toArray().map((r) => JSON.parse(JSON.stringify(r.toJSON(), (_, v) => (typeof v === 'bigint' ? Number(v) : v))));

describe('take', () => {
  it('gathers every type with nulls, repeats and reordering', () => {
    const t = sample();
    const r = take(t, new Int32Array([4, 0, 1, 1, 3]));
    expect(rows(r)).toEqual([rows(t)[4], rows(t)[0], rows(t)[1], rows(t)[1], rows(t)[3]]);
    expect(r.getChild('id')!.nullCount).toBe(2);
    expect(r.getChild('id')!.get(0)).toBe(2n ** 40n);
  });
  it('gathers across record batches and sliced chunks', () => {
    const t = sample();
    const multi = concatTables([t, t.slice(2), t.slice(1, 3)]);
    expect(multi.batches.length).toBe(3);
    const all = rows(multi);
    const idx = new Int32Array([9, 0, 6, 5, 2, 8, 7]);
    expect(rows(take(multi, idx))).toEqual([...idx].map((i) => all[i]));
    expect(rows(combineBatches(multi))).toEqual(all);
    expect(combineBatches(multi).batches.length).toBe(1);
  });
  it('rejects out-of-range indices and mismatched schemas', () => {
    expect(() => take(sample(), new Int32Array([5]))).toThrow(RangeError);
    expect(() => concatTables([sample(), sample().select(['id'])])).toThrow(/another schema/);
  });
});

describe('filters', () => {
  it('drops nulls like pandas boolean indexing', () => {
    const t = sample();
    const kept = where(t, 'id', (v) => v > 0);
    expect(rows(kept).map((r) => r.id)).toEqual([1, 3, 2 ** 40]);
    expect(countWhere(t, 'x', (v) => v > 0)).toBe(3);
    expect(countWhere(t, 'name', (v) => v.startsWith('a'))).toBe(2);
    expect(rows(filterRows(t, new Uint8Array([0, 1, 0, 0, 1]))).map((r) => r.name)).toEqual([null, 'é']);
  });
  it('works over multi-chunk tables', () => {
    const t = concatTables([sample(), sample()]);
    expect(where(t, 'id', (v) => v > 0).numRows).toBe(6);
  });
});

describe('columns', () => {
  it('snake_cases the taxi header', () => {
    expect(['Unnamed: 0', 'Unnamed: 0.1', 'fare-amount ($)'].map(snakeCase)).toEqual(['unnamed_0', 'unnamed_0_1', 'fare_amount_']);
    expect(
      ['VendorID', 'PULocationID', 'DOLocationID', 'RatecodeID', 'tpep_pickup_datetime', 'Trip  Distance', 'store_and_fwd_flag'].map(
        snakeCase,
      ),
    ).toEqual([
      'vendor_id',
      'pu_location_id',
      'do_location_id',
      'ratecode_id',
      'tpep_pickup_datetime',
      'trip_distance',
      'store_and_fwd_flag',
    ]);
  });
  it('renames, selects and adds columns', () => {
    const t = renameColumns(sample(), (n) => n.toUpperCase());
    expect(t.schema.fields.map((f) => f.name)).toEqual(['ID', 'NAME', 'X', 'FLAG']);
    expect(rows(t)[2].NAME).toBe('ccc');
    expect(() => renameColumns(sample(), () => 'same')).toThrow(/which column "id" already becomes/);
    expect(() => selectColumns(sample(), ['nope'])).toThrow(/no column "nope"/);
    const w = withColumn(concatTables([sample(), sample()]), 'n', vectorFromArray([...Array(10).keys()]));
    expect(rows(w)[7].n).toBe(7);
    expect(
      withColumn(sample(), 'x', vectorFromArray([1, 2, 3, 4, 5]))
        .getChild('x')!
        .get(2),
    ).toBe(3);
  });
});

describe('values, median, fillNull, toDate', () => {
  it('reads int64 as doubles with validity', () => {
    const { values, valid } = numericValues(sample(), 'id');
    expect([...values].filter((_, i) => (valid![i >> 3] >> (i & 7)) & 1)).toEqual([1, 3, -4, 2 ** 40]);
    expect(median(sample(), 'x')).toBe(1);
    expect(median(new Table({ a: vectorFromArray([3, null, 1, 2, 4], new Float64()) }), 'a')).toBe(2.5);
  });
  it('fills nulls keeping types', () => {
    const t = sample();
    expect(rows(fillNull(t, 'x', 7)).map((r) => r.x)).toEqual([0.5, 1.5, 7, -2, 10]);
    expect(fillNull(t, 'id', 0).getChild('id')!.toArray()).toEqual(new BigInt64Array([1n, 0n, 3n, -4n, 2n ** 40n]));
    expect(rows(fillNull(t, 'name', 'unknown')).map((r) => r.name)).toEqual([
      'a',
      'unknown',
      'ccc',
      'a longer string than sixteen bytes',
      'é',
    ]);
    expect(rows(fillNull(t, 'flag', true)).map((r) => r.flag)).toEqual([true, false, true, true, false]);
    expect(() => fillNull(t, 'x', 'oops')).toThrow(TypeError);
    expect(fillNull(concatTables([t, t]), 'x', 0).getChild('x')!.nullCount).toBe(0);
  });
  it('takes the day of naive timestamps, before 1970 too', () => {
    const micros = new BigInt64Array([1609459199_000000n, 1609459200_000000n, 0n, -1n]);
    const valid = new Uint8Array([0b1011]);
    const days = toDate(timestampVector(micros, valid));
    expect(days.data[0].values).toEqual(new Int32Array([18627, 18628, 0, -1]));
    expect(days.get(2)).toBe(null);
  });
  it('builds vectors from typed arrays', () => {
    expect(int64Vector(new BigInt64Array([5n, 6n]), null).get(1)).toBe(6n);
    expect(utf8Vector(new Int32Array([0, 2, 2]), new TextEncoder().encode('hi'), new Uint8Array([1])).toArray()).toEqual(['hi', null]);
    expect(boolVector(new Uint8Array([0b10]), 2).toArray()).toEqual([false, true]);
    expect(dateVector(new Int32Array([18628])).type.toString()).toBe('Date32<DAY>');
    expect(timestampVector(new BigInt64Array([1n])).type).toBeInstanceOf(TimestampMicrosecond);
  });
});

describe('median rules', () => {
  it("averages the two middle values (pandas), or takes the upper one (Mage's example block)", async () => {
    const { tableFromArrays } = await import('apache-arrow');
    const t = tableFromArrays({ x: Float64Array.of(4, 1, 3, 2, Number.NaN) });
    expect(median(t, 'x')).toBe(2.5);
    expect(median(t, 'x', { even: 'upper' })).toBe(3);
    expect(median(tableFromArrays({ x: Float64Array.of(3, 1, 2) }), 'x', { even: 'upper' })).toBe(2);
  });
});

describe('withColumn replacing a column', () => {
  it("takes the new vector's type into the schema (a Float64 column replaced by strings stays strings)", async () => {
    const { tableFromArrays, vectorFromArray } = await import('apache-arrow');
    const t = withColumn(tableFromArrays({ a: Float64Array.of(1, 2), b: Int32Array.of(3, 4) }), 'a', vectorFromArray(['x', 'y']));
    expect(t.schema.fields.map((f) => [f.name, String(f.type)])).toEqual([
      ['a', 'Dictionary<Int32, Utf8>'],
      ['b', 'Int32'],
    ]);
    expect(t.getChild('a')!.toJSON()).toEqual(['x', 'y']);
  });
});
