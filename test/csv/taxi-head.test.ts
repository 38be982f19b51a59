import { createReadStream, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeCsv } from '../../src/io/csv/decode.ts';
import { DataError } from '../../src/errors.ts';
import { countWhere, toDate } from '../../src/table/index.ts';
import { TAXI_COLUMNS, TAXI_DATES, chunked, hasSharedData, sharedData } from './helpers.ts';

const file = resolve(sharedData, 'yellow_tripdata_2021-01.head.csv');
const read = (onBadRow: 'fail' | 'skip') =>
  decodeCsv(createReadStream(file), { sourceName: file, columns: TAXI_COLUMNS, parseDates: TAXI_DATES, onBadRow });

describe.skipIf(!hasSharedData)('the real January 2021 head (yellow_tripdata_2021-01.head.csv)', () => {
  it('fails on the truncated last line, naming line 22794', async () => {
    const error = await read('fail').catch((e) => e);
    expect(error).toBeInstanceOf(DataError);
    expect(error.row).toBe(22794);
    expect(error.value).toBe('1,2021-0');
    expect(error.message).toContain('line 22794');
    expect(error.hint).toContain("onBadRow: 'skip'");
  });

  it('skips it and reads 22,792 typed rows', async () => {
    const { table, report } = await read('skip');
    expect(table.numRows).toBe(22792);
    expect(report).toMatchObject({ rows: 22792, badRows: 1 });
    expect(report.badRowSamples[0].line).toBe(22794);
    const types = Object.fromEntries(table.schema.fields.map((f) => [f.name, String(f.type)]));
    expect(types).toMatchObject({
      VendorID: 'Int64',
      passenger_count: 'Int64',
      trip_distance: 'Float64',
      store_and_fwd_flag: 'Utf8',
      tpep_pickup_datetime: 'Timestamp<MICROSECOND>',
      tpep_dropoff_datetime: 'Timestamp<MICROSECOND>',
      congestion_surcharge: 'Float64',
    });
    expect(table.schema.fields.map((f) => f.name)).toEqual(readFileSync(file, 'latin1').split('\n')[0].split(','));
    expect(countWhere(table, 'passenger_count', (v) => v === 0)).toBe(489);
    const days = toDate(table.getChild('tpep_pickup_datetime')!);
    let before = 0;
    for (let i = 0; i < days.length; i++) if (days.get(i)! < Date.UTC(2021, 0, 1)) before++;
    expect(before).toBe(16);
    // Line 3 of the file: 1,2021-01-01 00:51:20,2021-01-01 00:52:19,1,.20,1,N,238,151,2,3,0.5,0.5,0,0,0.3,4.3,0
    const row = table.get(1)!.toJSON();
    expect(row.trip_distance).toBe(0.2);
    expect(row.VendorID).toBe(1n);
    expect(row.PULocationID).toBe(238n);
    expect(row.tpep_pickup_datetime).toBe(Date.UTC(2021, 0, 1, 0, 51, 20));
    expect(row.total_amount).toBe(4.3);
    expect(table.get(0)!.toJSON().trip_distance).toBe(2.1);
  });

  it('gives the same table when the bytes arrive in odd-sized pieces', async () => {
    const bytes = readFileSync(file);
    const whole = (await read('skip')).table;
    const { table } = await decodeCsv(chunked(bytes, 4093), {
      sourceName: file,
      columns: TAXI_COLUMNS,
      parseDates: TAXI_DATES,
      onBadRow: 'skip',
    });
    expect(table.numRows).toBe(whole.numRows);
    expect(table.get(22791)!.toJSON()).toEqual(whole.get(22791)!.toJSON());
  });
});
