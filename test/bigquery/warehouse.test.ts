import { Table, vectorFromArray } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IoProfile } from '../../src/config/io-profile.ts';
import { ConfigError, ConnectionError, DataError } from '../../src/errors.ts';
import { createBigQueryWarehouse, type BigQueryWarehouse } from '../../src/io/bigquery/warehouse.ts';
import { createGcsStore } from '../../src/io/gcs/store.ts';
import { createLake } from '../../src/io/lake/lake.ts';
import { dateVector, int64Vector, timestampVector } from '../../src/table/index.ts';
import { startBigQueryFake, type BigQueryFake } from '../support/bigquery-fake.ts';
import { startGcsFake, type GcsFake } from '../support/gcs-fake.ts';

const PROJECT = 'pipekit-test-123'; // dashes: Mage bug #4182
let bq: BigQueryFake;
let gcs: GcsFake;
let wh: BigQueryWarehouse;

const profile = (values: Record<string, string> = {}) =>
  new IoProfile({
    name: 'cloud',
    file: '/p/io_config.yaml',
    root: '/p',
    values: { GOOGLE_PROJECT_ID: PROJECT, GOOGLE_LOCATION: 'europe-west1', BIGQUERY_DATASET: 'ny_taxi', WAREHOUSE: 'bigquery', ...values },
  });

beforeAll(async () => {
  gcs = await startGcsFake();
  gcs.createBucket('zoomcamp-lake');
  bq = await startBigQueryFake({ projectId: PROJECT, gcs, pollsUntilDone: 2 });
  wh = await createBigQueryWarehouse({ profile: profile(), client: bq.client(), jobs: { pollMs: 5 } });
});
afterAll(async () => {
  await bq?.close();
  await gcs?.close();
});

const T0 = 1_609_459_200_000_000n; // 2021-01-01 00:00:00 in µs
function trips(n = 3, offset = 0): Table {
  return new Table({
    VendorID: int64Vector(BigInt64Array.from({ length: n }, (_, i) => BigInt(i + offset))),
    trip_distance: vectorFromArray(Array.from({ length: n }, (_, i) => i * 1.5)),
    store_and_fwd_flag: vectorFromArray(Array.from({ length: n }, (_, i) => (i % 2 ? 'Y' : null))),
    tpep_pickup_datetime: timestampVector(BigInt64Array.from({ length: n }, (_, i) => T0 + BigInt(i) * 1_000_001n)),
    tpep_pickup_date: dateVector(Int32Array.from({ length: n }, () => 18628)),
    is_airport: vectorFromArray(Array.from({ length: n }, (_, i) => i === 0)),
  });
}

const since = (start: number) => bq.requests.slice(start);

describe('BigQuery export: Parquet load jobs', () => {
  it('replace: creates the dataset in GOOGLE_LOCATION, uploads Parquet with an explicit schema and WRITE_TRUNCATE, polls the job', async () => {
    const start = bq.requests.length;
    const result = await wh.export(trips(), { dataset: 'ny_taxi', table: 'yellow_taxi_data' });
    expect(result).toEqual({ rows: 3, target: `bigquery://${PROJECT}/ny_taxi.yellow_taxi_data` });
    const calls = since(start);
    const created = calls.find((c) => c.method === 'POST' && c.path.endsWith('/datasets'))!;
    expect(created.body).toMatchObject({ datasetReference: { datasetId: 'ny_taxi' }, location: 'europe-west1' });
    const upload = calls.find((c) => c.path === `/upload/bigquery/v2/projects/${PROJECT}/jobs`)!;
    expect(upload.query.uploadType).toBe('multipart');
    expect(upload.mediaBytes).toBeGreaterThan(100);
    expect(upload.body.jobReference).toMatchObject({ projectId: PROJECT, location: 'europe-west1' });
    expect(upload.body.configuration.load).toEqual({
      destinationTable: { projectId: PROJECT, datasetId: 'ny_taxi', tableId: 'yellow_taxi_data' },
      sourceFormat: 'PARQUET',
      writeDisposition: 'WRITE_TRUNCATE',
      createDisposition: 'CREATE_IF_NEEDED',
      schema: {
        fields: [
          { name: 'VendorID', type: 'INT64', mode: 'NULLABLE' },
          { name: 'trip_distance', type: 'FLOAT64', mode: 'NULLABLE' },
          { name: 'store_and_fwd_flag', type: 'STRING', mode: 'NULLABLE' },
          { name: 'tpep_pickup_datetime', type: 'TIMESTAMP', mode: 'NULLABLE' },
          { name: 'tpep_pickup_date', type: 'DATE', mode: 'NULLABLE' },
          { name: 'is_airport', type: 'BOOL', mode: 'NULLABLE' },
        ],
      },
    });
    const jobId = upload.body.jobReference.jobId;
    const polls = calls.filter((c) => c.method === 'GET' && c.path.endsWith(`/jobs/${jobId}`));
    expect(polls.length).toBe(2); // RUNNING, then DONE: awaited, not fired and forgotten
    expect(polls[0].query.location).toBe('europe-west1');
    expect(await bq.sql('SELECT count(*) FROM ny_taxi.yellow_taxi_data')).toEqual([['3']]);

    await wh.export(trips(5), { dataset: 'ny_taxi', table: 'yellow_taxi_data', ifExists: 'replace' });
    expect(await bq.sql('SELECT count(*) FROM ny_taxi.yellow_taxi_data')).toEqual([['5']]);
  });

  it('append: WRITE_APPEND after checking the table schema', async () => {
    const start = bq.requests.length;
    const result = await wh.export(trips(2, 100), { dataset: 'ny_taxi', table: 'yellow_taxi_data', ifExists: 'append' });
    expect(result.rows).toBe(2);
    const upload = since(start).find((c) => c.path.startsWith('/upload/'))!;
    expect(upload.body.configuration.load).toMatchObject({ sourceFormat: 'PARQUET', writeDisposition: 'WRITE_APPEND' });
    expect(since(start).some((c) => c.method === 'GET' && c.path.endsWith('/tables/yellow_taxi_data'))).toBe(true);
    expect(await bq.sql('SELECT count(*) FROM ny_taxi.yellow_taxi_data')).toEqual([['7']]);
  });

  it('fail: WRITE_EMPTY into a new table; a non-empty table is a clear error', async () => {
    const start = bq.requests.length;
    await wh.export(trips(), { dataset: 'ny_taxi', table: 'fresh', ifExists: 'fail' });
    expect(since(start).find((c) => c.path.startsWith('/upload/'))!.body.configuration.load.writeDisposition).toBe('WRITE_EMPTY');
    const error = await wh.export(trips(), { dataset: 'ny_taxi', table: 'fresh', ifExists: 'fail' }).catch((e) => e);
    expect(error).toBeInstanceOf(DataError);
    expect(error.message).toContain(`bigquery://${PROJECT}/ny_taxi.fresh`);
    expect(error.message).toContain('already has 3 rows');
  });

  it('schema mismatch on append names the columns', async () => {
    const bad = new Table({
      VendorID: vectorFromArray(['one', 'two']),
      tip_amount: vectorFromArray([1.5, 2]),
    });
    const error = await wh.export(bad, { dataset: 'ny_taxi', table: 'yellow_taxi_data', ifExists: 'append' }).catch((e) => e);
    expect(error).toBeInstanceOf(DataError);
    expect(error.message).toContain('VendorID is INT64 in the table but STRING in the data');
    expect(error.message).toContain('tip_amount (FLOAT64) is not in the table');
    expect(error.hint).toContain('replace');
  });

  it('a failed job surfaces status.errorResult (the server-side schema check)', async () => {
    // Skip our pre-check by loading through loadFromUri: BigQuery's own error must come through.
    const lake = createLake(createGcsStore({ uri: 'gs://zoomcamp-lake/bad', storage: gcs.client() }));
    await lake.write(new Table({ VendorID: vectorFromArray(['x']) }), 'one.parquet');
    const error = await wh
      .loadFromUri('gs://zoomcamp-lake/bad/one.parquet', { dataset: 'ny_taxi', table: 'yellow_taxi_data', ifExists: 'append' })
      .catch((e) => e);
    expect(error).toBeInstanceOf(DataError);
    expect(error.message).toMatch(
      /job pipekit_\w+ failed: Provided Schema does not match Table pipekit-test-123:ny_taxi.yellow_taxi_data. Field VendorID has changed type from INTEGER to STRING/,
    );
  });

  it('a dataset in another location is a clear error naming both locations', async () => {
    bq.createDataset('eu_taxi', 'EU');
    const error = await wh.export(trips(), { dataset: 'eu_taxi', table: 't' }).catch((e) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('cloud.GOOGLE_LOCATION');
    expect(error.message).toContain(`dataset ${PROJECT}.eu_taxi is in location EU, but GOOGLE_LOCATION is europe-west1`);
    expect(error.hint).toContain('GOOGLE_LOCATION: EU');
  });

  it('permission denied names the permission and the role', async () => {
    bq.deny((c) => (c.path.startsWith('/upload/') ? 'bigquery.jobs.create' : undefined));
    try {
      const error = await wh.export(trips(), { dataset: 'ny_taxi', table: 'denied' }).catch((e) => e);
      expect(error).toBeInstanceOf(ConnectionError);
      expect(error.message).toContain('bigquery.jobs.create');
      expect(error.hint).toContain('roles/bigquery.jobUser');
    } finally {
      bq.deny(undefined);
    }
  });

  it('rejects bad names before any request', async () => {
    await expect(wh.export(trips(), { dataset: 'ny-taxi', table: 't' })).rejects.toBeInstanceOf(ConfigError);
    await expect(wh.export(trips(), { dataset: 'ny_taxi', table: 'a`b' })).rejects.toBeInstanceOf(ConfigError);
  });
});

describe('BigQuery query, SQL blocks, loads by URI', () => {
  it('query returns typed Arrow columns', async () => {
    const table = await wh.query(
      `SELECT VendorID, trip_distance, store_and_fwd_flag, tpep_pickup_datetime, tpep_pickup_date, is_airport FROM \`${PROJECT}.ny_taxi.fresh\` ORDER BY VendorID`,
    );
    expect(table.numRows).toBe(3);
    expect(Object.fromEntries(table.schema.fields.map((f) => [f.name, String(f.type)]))).toEqual({
      VendorID: 'Int64',
      trip_distance: 'Float64',
      store_and_fwd_flag: 'Utf8',
      tpep_pickup_datetime: 'Timestamp<MICROSECOND>',
      tpep_pickup_date: 'Date32<DAY>',
      is_airport: 'Bool',
    });
    expect(table.getChild('VendorID')!.toArray()).toEqual(BigInt64Array.from([0n, 1n, 2n]));
    expect(table.getChild('tpep_pickup_datetime')!.data[0].values[2]).toBe(T0 + 2_000_002n); // microseconds kept
    expect(table.getChild('store_and_fwd_flag')!.toArray()).toEqual([null, 'Y', null]);
    expect(table.getChild('is_airport')!.toArray()).toEqual([true, false, false]);
  });

  it('runSql stages inputs as expiring tables, quotes their names, writes the target with its policy, drops the stages', async () => {
    const start = bq.requests.length;
    const simple = 'SELECT VendorID, count(*) AS trips FROM {{ df_1 }} GROUP BY VendorID ORDER BY VendorID';
    const result = await wh.runSql(
      simple,
      { df_1: trips(4), unused: trips(1) },
      { dataset: 'ny_taxi', table: 'trips_by_vendor', ifExists: 'replace' },
    );
    expect(result.numRows).toBe(4);
    expect(result.schema.fields.map((f) => f.name)).toEqual(['VendorID', 'trips']);
    const calls = since(start);
    const createStage = calls.find((c) => c.method === 'POST' && c.path.endsWith('/tables'))!;
    const stageName = createStage.body.tableReference.tableId as string;
    expect(stageName).toMatch(/^_pipekit_stage_[0-9a-f]{8}_df_1$/);
    expect(Number(createStage.body.expirationTime)).toBeGreaterThan(Date.now());
    expect(calls.filter((c) => c.method === 'POST' && c.path.endsWith('/tables'))).toHaveLength(1); // `unused` is not staged
    const query = bq
      .jobs()
      .map((j) => j.configuration.query)
      .filter(Boolean)
      .at(-1);
    expect(query.query).toBe(
      `SELECT VendorID, count(*) AS trips FROM \`${PROJECT}.ny_taxi.${stageName}\` GROUP BY VendorID ORDER BY VendorID`,
    );
    expect(query).toMatchObject({
      useLegacySql: false,
      destinationTable: { projectId: PROJECT, datasetId: 'ny_taxi', tableId: 'trips_by_vendor' },
      writeDisposition: 'WRITE_TRUNCATE',
      createDisposition: 'CREATE_IF_NEEDED',
    });
    expect(calls.some((c) => c.method === 'DELETE' && c.path.endsWith(`/tables/${stageName}`))).toBe(true);
    expect(bq.table('ny_taxi', stageName)).toBeUndefined();

    await wh.runSql(simple, { df_1: trips(2) }, { dataset: 'ny_taxi', table: 'trips_by_vendor', ifExists: 'append' });
    expect(
      bq
        .jobs()
        .map((j) => j.configuration.query)
        .filter(Boolean)
        .at(-1).writeDisposition,
    ).toBe('WRITE_APPEND');
    expect(await bq.sql('SELECT count(*) FROM ny_taxi.trips_by_vendor')).toEqual([['6']]);
  });

  it('writeSql runs the query into the target and reads only the row count (maxResults 0)', async () => {
    const start = bq.requests.length;
    const result = await wh.writeSql(
      'SELECT * FROM {{ df_1 }}',
      { df_1: trips(5) },
      { dataset: 'ny_taxi', table: 'written', ifExists: 'replace' },
    );
    expect(result).toEqual({ rows: 5, target: `bigquery://${PROJECT}/ny_taxi.written` });
    const reads = since(start).filter((c) => c.method === 'GET' && /\/queries\//.test(c.path));
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.every((c) => c.query.maxResults === '0')).toBe(true);
    expect(await bq.sql('SELECT count(*) FROM ny_taxi.written')).toEqual([['5']]);
  });

  it('a failing query surfaces the job error and still drops the stages', async () => {
    const start = bq.requests.length;
    const error = await wh.runSql('SELECT no_such_column FROM {{ df_1 }}', { df_1: trips(1) }).catch((e) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.message).toMatch(/job pipekit_\w+ failed: .*no_such_column/);
    expect(since(start).some((c) => c.method === 'DELETE')).toBe(true);
  });

  it('loadFromUri loads a Hive-partitioned lake dataset from GCS server-side', async () => {
    const lake = createLake(createGcsStore({ uri: 'gs://zoomcamp-lake/pipekit', storage: gcs.client() }));
    const data = new Table({
      VendorID: int64Vector(BigInt64Array.from([1n, 2n, 2n])),
      tpep_pickup_date: dateVector(Int32Array.from([18627, 18628, 18628])),
    });
    await lake.writePartitioned(data, 'nyc_taxi_data', { partitionBy: 'tpep_pickup_date' });
    const start = bq.requests.length;
    const result = await wh.loadFromUri(
      'gs://zoomcamp-lake/pipekit/nyc_taxi_data/',
      { dataset: 'ny_taxi', table: 'from_lake' },
      {
        hivePartitioning: { sourceUriPrefix: 'gs://zoomcamp-lake/pipekit/nyc_taxi_data' },
      },
    );
    expect(result.rows).toBe(3);
    const load = since(start).find((c) => c.method === 'POST' && c.path.endsWith('/jobs'))!.body.configuration.load;
    expect(load).toMatchObject({
      sourceUris: ['gs://zoomcamp-lake/pipekit/nyc_taxi_data/*.parquet'],
      sourceFormat: 'PARQUET',
      writeDisposition: 'WRITE_TRUNCATE',
      hivePartitioningOptions: { mode: 'AUTO', sourceUriPrefix: 'gs://zoomcamp-lake/pipekit/nyc_taxi_data/' },
    });
    expect(since(start).some((c) => c.path.startsWith('/upload/'))).toBe(false);
    expect(await bq.sql('SELECT CAST(tpep_pickup_date AS VARCHAR), count(*) FROM ny_taxi.from_lake GROUP BY 1 ORDER BY 1')).toEqual([
      ['2020-12-31', '1'],
      ['2021-01-01', '2'],
    ]);
  });

  it('export through a staging store: Parquet staged in the lake bucket, loaded by URI, then deleted', async () => {
    const staging = createGcsStore({ uri: 'gs://zoomcamp-lake/pipekit', storage: gcs.client() });
    const staged = await createBigQueryWarehouse({ profile: profile(), client: bq.client(), stagingStore: staging, jobs: { pollMs: 5 } });
    const start = bq.requests.length;
    const result = await staged.export(trips(4), { dataset: 'ny_taxi', table: 'staged' });
    expect(result.rows).toBe(4);
    const load = since(start).find((c) => c.method === 'POST' && c.path.endsWith('/jobs'))!.body.configuration.load;
    expect(load.sourceUris[0]).toMatch(/^gs:\/\/zoomcamp-lake\/pipekit\/_pipekit_staging\/bigquery\/pipekit_\w+\.parquet$/);
    expect(load).toMatchObject({ sourceFormat: 'PARQUET', writeDisposition: 'WRITE_TRUNCATE' });
    expect(gcs.names('zoomcamp-lake').filter((n) => n.includes('_pipekit_staging'))).toEqual([]);
  });
});
