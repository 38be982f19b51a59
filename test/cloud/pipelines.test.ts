import { createReadStream, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planRun } from '../../src/engine/run-plan.ts';
import { openSession, type Session } from '../../src/engine/session.ts';
import { yellowTaxiCsv } from '../../src/samples/yellow-taxi.ts';
import { startBigQueryFake, type BigQueryFake } from '../support/bigquery-fake.ts';
import { startGcsFake, type GcsFake } from '../support/gcs-fake.ts';
import { createTestDatabase, type TestDatabase } from '../support/postgres.ts';
import { copyExamplePipelines, createTestProject, SHARED_DATA, type TestProject } from '../support/project.ts';

/**
 * The example pipelines, unchanged, on the repo's own `cloud` profile: the
 * lake on GCS, the warehouse on BigQuery, Postgres as Cloud SQL would be
 * reached, with the environment Cloud Run gives the jobs. Google's APIs are
 * local fakes that record the real client libraries' requests. The taxi file
 * is the real Zoomcamp head when ../shared has it, else a seeded sample, so
 * the tests always run.
 */
const SHARED_TAXI = join(SHARED_DATA, 'yellow_tripdata_2021-01.head.csv');
const hasShared = existsSync(SHARED_TAXI);
if (!hasShared) console.warn(`the cloud-profile pipeline tests use a seeded taxi sample: ${SHARED_TAXI} is absent`);
let TAXI = SHARED_TAXI;
/** What the pipelines keep (passenger_count > 0) and the pickup days among those rows. */
let expected = { kept: 22_303, days: 3 }; // the real head: 2020-12-31 and the first two days of January
const PROJECT = 'zoomcamp-pipekit-42';
const BUCKET = 'zoomcamp-lake';

let gcs: GcsFake;
let bq: BigQueryFake;
let db: TestDatabase;
let project: TestProject;
let session: Session;
let http: Server;
let taxiUrl: string;
let pandasKept: number;

beforeAll(async () => {
  gcs = await startGcsFake();
  gcs.createBucket(BUCKET);
  bq = await startBigQueryFake({ projectId: PROJECT, gcs });
  db = await createTestDatabase('cloud_pipelines');
  project = createTestProject('cloud', {});
  // The repository's io_config.yaml too: its cloud profile is what these runs use.
  copyExamplePipelines(project.root, { ioConfig: true });
  if (!hasShared) {
    const text = [...yellowTaxiCsv({ rows: 4000, seed: 11 })].join('');
    TAXI = join(project.root, 'seeded-taxi.csv');
    writeFileSync(TAXI, text);
    const kept = text
      .split('\n')
      .slice(1)
      .filter(Boolean)
      .map((line) => line.split(','))
      .filter((cells) => cells[3] !== '' && Number(cells[3]) > 0);
    expected = { kept: kept.length, days: new Set(kept.map((cells) => cells[1].slice(0, 10))).size };
  }
  // pandas' df.to_csv() with its index, twice: `,Unnamed: 0,VendorID,…` (served at /pandas-index.csv).
  const [header, ...lines] = [...yellowTaxiCsv({ rows: 1500, seed: 5 })].join('').split('\n').filter(Boolean);
  const pandasFile = join(project.root, 'pandas-index.csv');
  writeFileSync(pandasFile, `,Unnamed: 0,${header}\n${lines.map((line, i) => `${i},${lines.length - 1 - i},${line}`).join('\n')}\n`);
  pandasKept = lines.filter((line) => Number(line.split(',')[3] || 0) > 0).length;
  http = createServer((req, res) =>
    createReadStream(req.url?.endsWith('/pandas-index.csv') ? pandasFile : TAXI).pipe(res.writeHead(200, { 'content-type': 'text/csv' })),
  );
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  taxiUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}/yellow_tripdata_2021-01.csv`;
  const workspace = join(project.root, 'nfs-workspace');
  mkdirSync(workspace, { recursive: true });
  session = await openSession({
    projectRoot: project.root,
    profile: 'cloud',
    env: {
      GOOGLE_CLOUD_PROJECT: PROJECT,
      PIPEKIT_LAKE_BUCKET: BUCKET,
      PIPEKIT_BQ_LOCATION: 'US',
      PIPEKIT_DB_HOST: db.host,
      PIPEKIT_DB_PORT: String(db.port),
      PIPEKIT_DB_USER: db.user,
      PIPEKIT_DB_PASSWORD: db.password,
      PIPEKIT_DB_NAME: db.database,
      PIPEKIT_RUNS_DB_NAME: db.database,
      PIPEKIT_DB_SSLMODE: 'disable',
      PIPEKIT_WORKSPACE: workspace,
    },
    clients: { storage: gcs.client(), bigquery: bq.client(PROJECT) },
  });
});

afterAll(async () => {
  await session?.close();
  await new Promise((resolve) => (http ? http.close(resolve) : resolve(undefined)));
  await bq?.close();
  await gcs?.close();
  await db?.drop();
  project?.remove();
});

async function run(name: string, variables: Record<string, unknown> = {}) {
  const pipeline = session.pipeline(name);
  return session.runPipeline({ pipeline, plan: planRun(pipeline, { executionDate: new Date('2021-01-15T00:00:00Z') }), variables });
}

describe('example pipelines on the cloud profile (GCS + BigQuery fakes)', () => {
  it('api_to_gcs writes gs://…/lake/nyc_taxi_data.parquet and one partition per pickup date', async () => {
    const r = await run('api_to_gcs', { taxi_url: taxiUrl, bad_rows: 'skip' });
    expect(r.run!.error).toBeNull();
    expect(r.status).toBe('succeeded');
    const names = gcs.names(BUCKET);
    expect(names).toContain('lake/nyc_taxi_data.parquet');
    const partitions = new Set(names.filter((n) => n.startsWith('lake/nyc_taxi_data/')).map((n) => n.split('/')[2]));
    expect(partitions.has('tpep_pickup_date=2020-12-31')).toBe(true);
    expect([...partitions].filter((p) => p?.startsWith('tpep_pickup_date=2021-01-')).length).toBeGreaterThan(1);
  });

  it('gcs_to_bigquery reads the object back and writes ny_taxi.yellow_cab_data with an awaited query job', async () => {
    const r = await run('gcs_to_bigquery');
    expect(r.run!.error).toBeNull();
    expect(r.blocks.find((b) => b.block === 'write_taxi_to_warehouse')!.rowsOut).toBe(expected.kept);
    expect(await bq.sql('SELECT count(*) FROM ny_taxi.yellow_cab_data')).toEqual([[String(expected.kept)]]);
    expect(bq.table('ny_taxi', 'yellow_cab_data')!.schema.map((f) => f.name)).toContain('vendor_id');
    const query = bq.jobs().find((j) => j.configuration?.query?.destinationTable?.tableId === 'yellow_cab_data');
    expect(query.configuration.query).toMatchObject({ writeDisposition: 'WRITE_TRUNCATE', useLegacySql: false });
    expect(bq.requests.some((c) => c.method === 'GET' && /\/jobs\//.test(c.path))).toBe(true);
  });

  it('api_to_postgres loads Postgres the way it reaches Cloud SQL (host, user and password from the job environment)', async () => {
    const r = await run('api_to_postgres', { taxi_url: taxiUrl, bad_rows: 'skip' });
    expect(r.run!.error).toBeNull();
    expect(r.blocks.find((b) => b.block === 'taxi_to_postgres')!.rowsOut).toBe(expected.kept);
    expect(r.blocks.find((b) => b.block === 'count_trips')!.rowsOut).toBe(expected.days);
  });

  it('a pandas-written file with its index columns goes to GCS and on to BigQuery, every column under a valid name', async () => {
    const url = taxiUrl.replace(/[^/]+$/, 'pandas-index.csv');
    const toLake = await run('api_to_gcs', { taxi_url: url, object_key: 'pandas_index.parquet' });
    expect(toLake.run!.error).toBeNull();
    const toWarehouse = await run('gcs_to_bigquery', { object_key: 'pandas_index.parquet' });
    expect(toWarehouse.run!.error).toBeNull();
    expect(await bq.sql('SELECT count(*), count(DISTINCT unnamed_0), count(DISTINCT unnamed_0_1) FROM ny_taxi.yellow_cab_data')).toEqual([
      [String(pandasKept), String(pandasKept), String(pandasKept)],
    ]);
    expect(
      bq
        .table('ny_taxi', 'yellow_cab_data')!
        .schema.map((f) => f.name)
        .slice(0, 3),
    ).toEqual(['unnamed_0', 'unnamed_0_1', 'vendor_id']);
  });
});
