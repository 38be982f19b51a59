import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { Table } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError } from '../../src/errors.ts';
import { decodeCsv } from '../../src/io/csv/decode.ts';
import { createGcsStore } from '../../src/io/gcs/store.ts';
import { createLake } from '../../src/io/lake/lake.ts';
import type { Lake, ObjectStore } from '../../src/io/types.ts';
import { toDate, withColumn } from '../../src/table/index.ts';
import { TAXI_COLUMNS, TAXI_DATES, hasSharedData, sharedData } from '../csv/helpers.ts';
import { startGcsFake, type GcsFake } from '../support/gcs-fake.ts';

let gcs: GcsFake;
let store: ObjectStore;
let lake: Lake;
beforeAll(async () => {
  gcs = await startGcsFake();
  gcs.createBucket('zoomcamp-lake');
  store = createGcsStore({ uri: 'gs://zoomcamp-lake/pipekit', storage: gcs.client() });
  lake = createLake(store);
});
afterAll(() => gcs?.close());

/** The taxi head as the Zoomcamp `api_to_gcs` transformer makes it: with `tpep_pickup_date`. */
async function taxiSample(): Promise<Table> {
  const file = resolve(sharedData, 'yellow_tripdata_2021-01.head.csv');
  const { table } = await decodeCsv(createReadStream(file), {
    sourceName: file,
    columns: TAXI_COLUMNS,
    parseDates: TAXI_DATES,
    onBadRow: 'skip',
  });
  return withColumn(table, 'tpep_pickup_date', toDate(table.getChild('tpep_pickup_datetime')!));
}

function rowsPerDay(table: Table): Map<string, number> {
  const out = new Map<string, number>();
  const days = table.getChild('tpep_pickup_date')!;
  for (let i = 0; i < days.length; i++) {
    const v = days.get(i) as number | Date;
    const day = typeof v === 'number' ? new Date(v).toISOString().slice(0, 10) : v.toISOString().slice(0, 10);
    out.set(day, (out.get(day) ?? 0) + 1);
  }
  return out;
}

const dataFiles = async () => (await store.list('nyc_taxi_data/')).filter((k) => k.endsWith('.parquet'));

describe('the lake on GCS: single objects', () => {
  it.each([
    'trips/2021/01/05/daily-trips.parquet',
    'trips/2021/01/05/daily-trips.csv',
    'trips/2021/01/05/daily-trips.csv.gz',
    'trips/2021/01/05/daily-trips.json',
  ])('writes and reads %s', async (key) => {
    const { Table: T, vectorFromArray } = await import('apache-arrow');
    const table = new T({ id: vectorFromArray([1, 2, 3]), name: vectorFromArray(['a', 'b', null]) });
    const result = await lake.write(table, key);
    expect(result).toEqual({ rows: 3, target: `gs://zoomcamp-lake/pipekit/${key}` });
    const back = await lake.read(key);
    expect(back.numRows).toBe(3);
    expect(back.getChild('name')!.toArray()).toEqual(['a', 'b', null]);
  });

  it('a missing object is an error, never an empty table', async () => {
    await expect(lake.read('trips/2099/01/01/daily-trips.parquet')).rejects.toBeInstanceOf(NotFoundError);
    await expect(lake.read('trips/2099/01/01/daily-trips.csv')).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe.skipIf(!hasSharedData)('the lake on GCS: the taxi sample partitioned by pickup date', () => {
  let taxi: Table;
  let expected: Map<string, number>;
  beforeAll(async () => {
    taxi = await taxiSample();
    expected = rowsPerDay(taxi);
  });

  it('writes one partition per pickup date, incl. the 2020-12-31 stragglers, with matching row counts', async () => {
    const result = await lake.writePartitioned(taxi, 'nyc_taxi_data', { partitionBy: 'tpep_pickup_date' });
    expect(result.rows).toBe(taxi.numRows);
    expect(result.target).toBe('gs://zoomcamp-lake/pipekit/nyc_taxi_data/');
    expect(new Map(result.partitions.map((p) => [p.value, p.rows]))).toEqual(expected);
    expect(result.partitions.map((p) => p.value)).toContain('2020-12-31');
    expect(expected.get('2020-12-31')).toBeGreaterThan(0);
    const files = await dataFiles();
    expect(files).toHaveLength(expected.size);
    expect(files[0]).toMatch(/^nyc_taxi_data\/tpep_pickup_date=2020-12-31\/part-00000\.parquet$/);
    const back = await lake.readPartitioned('nyc_taxi_data');
    expect(back.numRows).toBe(taxi.numRows);
    expect(rowsPerDay(back)).toEqual(expected);
  });

  it('a rerun of the same dates replaces the same objects', async () => {
    const before = await dataFiles();
    await lake.writePartitioned(taxi, 'nyc_taxi_data', { partitionBy: 'tpep_pickup_date' });
    const after = await dataFiles();
    expect(after).toEqual(before);
    expect(rowsPerDay(await lake.readPartitioned('nyc_taxi_data'))).toEqual(expected);
    const oneDay = await lake.readPartitioned('nyc_taxi_data', { filter: { tpep_pickup_date: ['2021-01-01'] } });
    expect(oneDay.numRows).toBe(expected.get('2021-01-01'));
  });

  it('a write that dies part-way leaves each partition with its old or its new rows, never both', async () => {
    let writes = 0;
    const dying: ObjectStore = {
      ...store,
      write: async (key, data, o) => {
        if (++writes > 1) throw new Error('process killed');
        return store.write(key, data, o);
      },
    };
    const doubled = new Table([...taxi.batches, ...taxi.batches]);
    await expect(
      createLake(dying, { partitioned: { concurrency: 1 } }).writePartitioned(doubled, 'nyc_taxi_data', {
        partitionBy: 'tpep_pickup_date',
      }),
    ).rejects.toThrow();
    expect(await dataFiles()).toHaveLength(expected.size);
    const after = rowsPerDay(await lake.readPartitioned('nyc_taxi_data'));
    expect([...after].filter(([day, n]) => n === 2 * expected.get(day)!)).toHaveLength(1);
    expect([...after].filter(([day, n]) => n === expected.get(day)!)).toHaveLength(expected.size - 1);

    await lake.writePartitioned(taxi, 'nyc_taxi_data', { partitionBy: 'tpep_pickup_date' });
    expect(await dataFiles()).toHaveLength(expected.size);
    expect(rowsPerDay(await lake.readPartitioned('nyc_taxi_data'))).toEqual(expected);
  });
});

if (!hasSharedData) console.warn(`skipping GCS taxi partition tests: ${sharedData} is absent`);
