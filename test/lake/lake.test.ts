import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Decimal, Table, Type, makeData, makeVector } from 'apache-arrow';
import { createLocalLake } from '../../src/io/lake/lake.ts';
import { ConfigError, NotFoundError } from '../../src/errors.ts';
import type { Lake } from '../../src/io/types.ts';
import { taxiLikeTable } from '../parquet/taxi-like.ts';

let folder: string;
let lake: Lake;
beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'pipekit-lake-'));
  lake = createLocalLake(folder);
});
afterEach(async () => {
  await rm(folder, { recursive: true, force: true });
});

const rows = (t: Table) => t.toArray().map((r) => r.toJSON());
const TYPES = {
  VendorID: 'int64',
  passenger_count: 'int64',
  RatecodeID: 'int64',
  PULocationID: 'int64',
  DOLocationID: 'int64',
  payment_type: 'int64',
  tpep_pickup_datetime: 'timestamp',
  tpep_dropoff_datetime: 'timestamp',
  store_and_fwd_flag: 'string',
} as const;

describe('createLocalLake: single objects', () => {
  const table = taxiLikeTable({ rows: 200, stragglers: 2, nullEvery: 7 });

  for (const key of ['trips.parquet', 'TRIPS.PARQUET', 'trips.csv', 'trips.csv.gz', 'Trips.CSV.GZ', 'trips.json']) {
    it(`round-trips ${key}`, async () => {
      const result = await lake.write(table, `out/${key}`);
      expect(result).toEqual({ rows: 200, target: lake.store.url(`out/${key}`) });
      const back = await lake.read(`out/${key}`, { columns: TYPES });
      expect(back.numRows).toBe(200);
      expect(back.schema.fields.map((f) => f.name)).toEqual(table.schema.fields.map((f) => f.name));
      expect(back.getChild('tpep_pickup_datetime')!.type.typeId).toBe(Type.Timestamp);
      expect(back.getChild('VendorID')!.nullCount).toBe(table.getChild('VendorID')!.nullCount);
      expect(rows(back.slice(0, 20))).toEqual(rows(table.slice(0, 20)));
    });
  }

  it('writes Parquet with DuckDB: the same rows and types as parquet-wasm, spread over row groups; decimals fall back to parquet-wasm', async () => {
    const big = taxiLikeTable({ rows: 300_000, days: 31, stragglers: 5, nullEvery: 11 });
    await lake.write(big, 'month.parquet');
    const back = await lake.read('month.parquet');
    expect(back.numRows).toBe(big.numRows);
    expect(back.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual(big.schema.fields.map((f) => `${f.name}:${f.type}`));
    for (const i of [0, 1, 131_071, 131_072, 299_999]) expect(back.get(i)!.toJSON(), `row ${i}`).toEqual(big.get(i)!.toJSON());
    for (const f of big.schema.fields) expect(back.getChild(f.name)!.nullCount, f.name).toBe(big.getChild(f.name)!.nullCount);
    const { ParquetFile } = await import('parquet-wasm');
    const file = await ParquetFile.fromFile(new Blob([(await readFile(join(folder, 'month.parquet'))) as Uint8Array<ArrayBuffer>]));
    expect(file.metadata().numRowGroups()).toBe(3); // 131,072 rows a group, as parquet-wasm writes them

    const decimals = new Table({
      amount: makeVector(
        makeData({ type: new Decimal(2, 10, 128), length: 3, data: Uint32Array.from([1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0]) }),
      ),
    });
    await lake.write(decimals, 'decimals.parquet');
    expect((await lake.read('decimals.parquet')).getChild('amount')!.type.typeId).toBe(Type.Decimal);
  });

  it('writes real gzip for .csv.gz and plain text for .csv', async () => {
    await lake.write(table, 'a.csv.gz');
    await lake.write(table, 'a.csv');
    const gz = await readFile(join(folder, 'a.csv.gz'));
    expect(gunzipSync(gz).toString()).toBe((await readFile(join(folder, 'a.csv'))).toString());
    expect((await readFile(join(folder, 'a.csv'), 'utf8')).split('\n')[0]).toContain('VendorID');
  });

  it('writes newline-delimited JSON records', async () => {
    await lake.write(table.slice(0, 2), 'two.json');
    const lines = (await readFile(join(folder, 'two.json'), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0]).tpep_pickup_datetime).toMatch(/^2020-12-31T\d\d:\d\d:\d\d\.\d{6}$/);
  });

  it('a missing object is an error naming its URI, never an empty table', async () => {
    for (const key of ['none.parquet', 'none.csv', 'none.csv.gz', 'none.json']) {
      const read = lake.read(`x/${key}`);
      await expect(read).rejects.toThrow(NotFoundError);
      await expect(lake.read(`x/${key}`)).rejects.toThrow(lake.store.url(`x/${key}`));
    }
  });

  it('an unknown extension is an error naming the key and the supported list', async () => {
    const attempt = lake.write(table, 'trips.xlsx');
    await expect(attempt).rejects.toThrow(ConfigError);
    const error = (await lake.write(table, 'trips.xlsx').catch((e) => e)) as ConfigError;
    expect(error.message).toContain('trips.xlsx');
    expect(error.hint).toMatch(/\.parquet, \.csv\.gz, \.csv, \.json/);
    await expect(lake.read('trips')).rejects.toThrow(ConfigError);
  });
});

describe('the real January 2021 sample', () => {
  const repoRoot = resolve(fileURLToPath(import.meta.url), '../../..');
  const sample = resolve(repoRoot, '../shared/data/yellow_tripdata_2021-01.head.csv');
  const available = existsSync(sample) && existsSync(resolve(repoRoot, 'src/io/csv/decode.ts'));

  it.skipIf(!available)(`partitions it by pickup date (needs ${sample} and src/io/csv/decode.ts)`, async () => {
    const { decodeCsv } = await import('../../src/io/csv/decode.ts');
    // The sample is the head of the month: its last line is cut short, hence 'skip'.
    const { table: raw } = await decodeCsv(createReadStream(sample), { sourceName: sample, columns: TYPES, onBadRow: 'skip' });
    const { withPickupDate } = await import('./pickup-date.ts');
    const result = await lake.writePartitioned(withPickupDate(raw), 'nyc_taxi_data', { partitionBy: 'tpep_pickup_date' });
    const straggler = result.partitions.find((p) => p.value === '2020-12-31');
    expect(straggler?.rows).toBe(16);
    expect(result.partitions.reduce((n, p) => n + p.rows, 0)).toBe(raw.numRows);
    const back = await lake.readPartitioned('nyc_taxi_data', { filter: { tpep_pickup_date: ['2020-12-31'] } });
    expect(back.numRows).toBe(16);
  });
});
