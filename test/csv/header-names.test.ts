import { describe, expect, it } from 'vitest';
import { decodeCsv } from '../../src/io/csv/decode.ts';
import { dedupe } from '../../src/io/csv/header.ts';
import { chunked } from './helpers.ts';

/**
 * pandas' column naming, one rule per case, with the names pandas' own
 * `read_csv` gives (pandas/tests/io/parser/test_mangle_dupes.py and its C
 * parser's `_get_header`).
 */
describe('CSV header names, as pandas read_csv gives them', () => {
  it('numbers repeated names .1, .2, … in order', () => {
    expect(dedupe(['a', 'a', 'b', 'b', 'b'])).toEqual(['a', 'a.1', 'b', 'b.1', 'b.2']);
    expect(dedupe(['a', 'b', 'a'])).toEqual(['a', 'b', 'a.1']);
  });

  it('skips a suffix that a later header already has', () => {
    expect(dedupe(['a', 'a', 'a.1'])).toEqual(['a', 'a.2', 'a.1']);
    expect(dedupe(['a', 'a', 'a.1', 'a.1.1', 'a.1.1.1', 'a.1.1.1.1'])).toEqual(['a', 'a.2', 'a.1', 'a.1.1', 'a.1.1.1', 'a.1.1.1.1']);
    expect(dedupe(['a', 'a', 'a.3', 'a.1', 'a.2', 'a', 'a'])).toEqual(['a', 'a.4', 'a.3', 'a.1', 'a.2', 'a.5', 'a.6']);
  });

  it('names an empty header Unnamed: <position>', () => {
    expect(dedupe(['', 'x', ''])).toEqual(['Unnamed: 0', 'x', 'Unnamed: 2']);
    expect(dedupe([' ', 'x'])).toEqual([' ', 'x']); // only an empty name is blank to pandas
  });

  it('keeps every column of df.to_csv() written with the index, twice and three times', () => {
    // read_csv → to_csv adds the index as a blank-named first column, again on every round trip.
    expect(dedupe(['', 'VendorID', 'passenger_count'])).toEqual(['Unnamed: 0', 'VendorID', 'passenger_count']);
    expect(dedupe(['', 'Unnamed: 0', 'VendorID'])).toEqual(['Unnamed: 0', 'Unnamed: 0.1', 'VendorID']);
    expect(dedupe(['', 'Unnamed: 0', 'Unnamed: 0.1', 'VendorID'])).toEqual(['Unnamed: 0', 'Unnamed: 0.2', 'Unnamed: 0.1', 'VendorID']);
  });

  it('decodes such a file with each value under its own header', async () => {
    const text = ',Unnamed: 0,Unnamed: 0.1,VendorID\n0,10,20,1\n1,11,21,2\n';
    const { table } = await decodeCsv(chunked(text, 5), { sourceName: 'pandas.csv' });
    expect(table.schema.fields.map((f) => f.name)).toEqual(['Unnamed: 0', 'Unnamed: 0.2', 'Unnamed: 0.1', 'VendorID']);
    expect(table.toArray().map((r) => r.toJSON())).toEqual([
      { 'Unnamed: 0': 0n, 'Unnamed: 0.2': 10n, 'Unnamed: 0.1': 20n, VendorID: 1n },
      { 'Unnamed: 0': 1n, 'Unnamed: 0.2': 11n, 'Unnamed: 0.1': 21n, VendorID: 2n },
    ]);
  });
});

describe('column types pandas would give', () => {
  it('reads a column empty in every row as float64 nulls, like pandas (NaN)', async () => {
    const { table } = await decodeCsv(chunked('id,blank,note\n1,,a\n2,,\n'), { sourceName: 'blank.csv' });
    expect(String(table.getChild('blank')!.type)).toBe('Float64');
    expect(table.getChild('blank')!.nullCount).toBe(2);
    expect(String(table.getChild('note')!.type)).toBe('Utf8');
  });
});
