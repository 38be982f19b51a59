import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planRun } from '../../src/engine/run-plan.ts';
import { openSession, type Session } from '../../src/engine/session.ts';
import { writeTitanicSample } from '../../src/samples/titanic.ts';
import { createTestDatabase, type TestDatabase } from '../support/postgres.ts';
import { copyExamplePipelines, createTestProject, SHARED_DATA, type TestProject } from '../support/project.ts';

/**
 * The five example pipelines, unchanged, on the real Zoomcamp sample:
 * `../shared/data/yellow_tripdata_2021-01.head.csv` has 22,792 good rows,
 * 489 with zero passengers, 16 pickups on 2020-12-31, and a truncated last line.
 */
const TAXI = join(SHARED_DATA, 'yellow_tripdata_2021-01.head.csv');
const hasShared = existsSync(TAXI);
if (!hasShared) console.warn(`skipping the example-project tests on real data: ${TAXI} is absent`);

let db: TestDatabase;
let project: TestProject;
let session: Session;

beforeAll(async () => {
  if (!hasShared) return;
  db = await createTestDatabase('examples');
  project = createTestProject('examples', { ...db.profileValues, POSTGRES_SCHEMA: 'public' });
  copyExamplePipelines(project.root);
  await writeTitanicSample(join(project.root, 'titanic.csv'));
  session = await openSession({ projectRoot: project.root, profile: 'test' });
});

afterAll(async () => {
  await session?.close();
  await db?.drop();
  project?.remove();
});

async function run(name: string, variables: Record<string, unknown>, executionDate = '2021-01-15T00:00:00Z') {
  const pipeline = session.pipeline(name);
  return session.runPipeline({ pipeline, plan: planRun(pipeline, { executionDate: new Date(executionDate) }), variables });
}

const rows = (r: Awaited<ReturnType<typeof run>>, block: string) => r.blocks.find((b) => b.block === block)?.rowsOut;

describe.skipIf(!hasShared)('the example project on the real taxi sample', () => {
  it('api_to_postgres fails on the truncated last line, naming it, and leaves nothing half-written', async () => {
    const r = await run('api_to_postgres', { taxi_url: TAXI });
    expect(r.status).toBe('failed');
    expect(r.run!.error).toContain('line 22794');
    expect(r.run!.error).toContain("onBadRow: 'skip'");
    expect(r.blocks.find((b) => b.block === 'taxi_to_postgres')!.status).toBe('upstream_failed');
  });

  it('api_to_postgres with bad rows skipped loads 22,792 rows, drops the 489 zero-passenger rides, replaces the table', async () => {
    for (let i = 0; i < 2; i++) {
      const r = await run('api_to_postgres', { taxi_url: TAXI, bad_rows: 'skip' });
      expect(r.status).toBe('succeeded');
      expect(rows(r, 'load_yellow_taxi')).toBe(22_792);
      expect(rows(r, 'drop_zero_passengers')).toBe(22_303);
    }
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const {
        rows: [count],
      } = await client.query('SELECT count(*)::int AS n, min(passenger_count)::int AS min FROM ny_taxi.yellow_taxi_data');
      expect(count).toEqual({ n: 22_303, min: 1 });
      const { rows: columns } = await client.query(
        `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'ny_taxi' AND table_name = 'yellow_taxi_data' AND column_name IN ('vendorid','tpep_pickup_datetime','trip_distance','store_and_fwd_flag') ORDER BY 1`,
      );
      expect(columns).toEqual([
        { column_name: 'store_and_fwd_flag', data_type: 'text' },
        { column_name: 'tpep_pickup_datetime', data_type: 'timestamp without time zone' },
        { column_name: 'trip_distance', data_type: 'double precision' },
        { column_name: 'vendorid', data_type: 'bigint' },
      ]);
      // The Zoomcamp's lower-case SQL runs as written.
      const {
        rows: [byVendor],
      } = await client.query('SELECT count(DISTINCT vendorid)::int AS n, count(pulocationid)::int AS pu FROM ny_taxi.yellow_taxi_data');
      expect(byVendor.pu).toBe(22_303);
    } finally {
      await client.end();
    }
  });

  it('api_to_gcs writes one Parquet object and daily partitions (the 2020-12-31 stragglers included); a rerun replaces them', async () => {
    const first = await run('api_to_gcs', { taxi_url: TAXI, bad_rows: 'skip' });
    expect(first.status).toBe('succeeded');
    const lake = await session.connectors().lake();
    const files = async () => (await lake.store.list('nyc_taxi_data/')).filter((k) => k.endsWith('.parquet'));
    const before = await files();
    expect(before.some((k) => k.includes('tpep_pickup_date=2020-12-31/'))).toBe(true);
    const again = await run('api_to_gcs', { taxi_url: TAXI, bad_rows: 'skip' });
    expect(again.status).toBe('succeeded');
    expect((await files()).length).toBe(before.length);
    const back = await lake.readPartitioned('nyc_taxi_data');
    expect(back.numRows).toBe(22_303);
    const stragglers = await lake.readPartitioned('nyc_taxi_data', { filter: { tpep_pickup_date: ['2020-12-31'] } });
    expect(stragglers.numRows).toBeGreaterThan(0);
    expect((await lake.read('nyc_taxi_data.parquet')).numRows).toBe(22_303);
  });

  it('gcs_to_bigquery loads the object back, snake_cases the columns and writes the warehouse table', async () => {
    const r = await run('gcs_to_bigquery', {});
    expect(r.status).toBe('succeeded');
    expect(rows(r, 'write_taxi_to_warehouse')).toBe(22_303);
    const warehouse = await session.connectors().warehouse();
    try {
      const result = await warehouse.query('SELECT count(*)::BIGINT AS n FROM ny_taxi.yellow_cab_data');
      expect(Number(result.getChild('n')!.get(0))).toBe(22_303);
      const names = (await warehouse.query('SELECT * FROM ny_taxi.yellow_cab_data LIMIT 1')).schema.fields.map((f) => f.name);
      expect(names).toContain('vendor_id');
      expect(names).toContain('pu_location_id');
    } finally {
      await warehouse.close();
    }
  });

  it('api_to_gcs_parameterized keys the object by execution date', async () => {
    const r = await run('api_to_gcs_parameterized', { taxi_url: TAXI, bad_rows: 'skip' }, '2021-01-03T00:00:00Z');
    expect(r.status).toBe('succeeded');
    const lake = await session.connectors().lake();
    expect(await lake.store.exists('2021/01/03/daily-trips.parquet')).toBe(true);
  });

  it('example_pipeline fills missing ages with the median and exports titanic_clean.csv', async () => {
    const r = await run('example_pipeline', { titanic_url: join(project.root, 'titanic.csv') });
    expect(r.status).toBe('succeeded');
    const lake = await session.connectors().lake();
    const clean = await lake.read('titanic_clean.csv');
    expect(clean.numRows).toBe(891);
    expect(clean.getChild('Age')!.nullCount).toBe(0);
  });
});
