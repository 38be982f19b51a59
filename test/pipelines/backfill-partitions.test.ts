/**
 * A daily pipeline backfilled over a month into the warehouse, with its SQL
 * exporter scoped to the run's interval (`sql: { partition: pickup_date }`).
 * Run twice, the second time with one day failing half-way through its
 * write, the table holds exactly one copy of every row. Seeded data, so it
 * always runs; the expected rows come from the generated text.
 */
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackfill } from '../../src/engine/backfill.ts';
import { openSession, type Session } from '../../src/engine/session.ts';
import { yellowTaxiCsv } from '../../src/samples/yellow-taxi.ts';
import { createTestDatabase, type TestDatabase } from '../support/postgres.ts';
import { createTestProject, REPO_ROOT, type TestProject } from '../support/project.ts';

const FAIL_DAY = '2021-01-16';
let db: TestDatabase;
let project: TestProject;
let session: Session;
/** Trip ids (the pandas index column) per pickup day of January. */
const expected = new Map<string, number[]>();

const PIPELINE = `description: One day of trips into the warehouse, the day's rows replaced on every run
blocks:
  - uuid: trips_of_the_day
    kind: loader
    file: blocks/trips_of_the_day.ts
  - uuid: write_day
    kind: exporter
    file: blocks/write_day.sql
    upstream: [trips_of_the_day]
    sql: { connection: warehouse, dataset: ny_taxi, table: daily_trips, partition: pickup_date }
retry: { attempts: 1 }
`;

// The test's own loader: the month with the Zoomcamp's types, cut to the run's day. On the failing
// day its fare column turns to text half-way, which the table's DOUBLE column refuses mid-insert.
const TRIPS_OF_THE_DAY = `import { loader, toDate, where, withColumn } from 'pipekit';
import { vectorFromArray } from 'apache-arrow';
import { YELLOW_TAXI_COLUMNS, YELLOW_TAXI_DATES } from './yellow-taxi-columns.ts';

export default loader(async (ctx) => {
  const trips = await ctx.io.http.load(String(ctx.variables.taxi_url), { columns: YELLOW_TAXI_COLUMNS, parseDates: YELLOW_TAXI_DATES });
  const [start, end] = [ctx.intervalStart.getTime(), ctx.intervalEnd.getTime()];
  let day = where(trips, 'tpep_pickup_datetime', (t) => t >= start && t < end);
  day = withColumn(day, 'pickup_date', toDate(day.getChild('tpep_pickup_datetime')!));
  if (ctx.ds === ctx.variables.fail_day) {
    const fares = day.getChild('fare_amount')!.toArray() as Float64Array;
    day = withColumn(day, 'fare_amount', vectorFromArray([...fares].map((f, i) => (i < fares.length / 2 ? String(f) : 'oops'))));
  }
  return day;
});
`;

beforeAll(async () => {
  db = await createTestDatabase('backfill_partitions');
  project = createTestProject('backfill-partitions', db.profileValues);
  cpSync(join(REPO_ROOT, 'pipelines', 'blocks'), join(project.root, 'blocks'), { recursive: true });
  project.write('daily_to_warehouse/pipeline.yaml', PIPELINE);
  project.write('blocks/trips_of_the_day.ts', TRIPS_OF_THE_DAY);
  project.write('blocks/write_day.sql', 'SELECT * FROM {{ df_1 }}\n');
  // 3,100 trips over the month, with a pandas index column as the trip id.
  const [header, ...body] = [...yellowTaxiCsv({ rows: 3100, seed: 31 })].join('').split('\n').filter(Boolean);
  writeFileSync(join(project.root, 'month.csv'), `,${header}\n${body.map((line, i) => `${i},${line}`).join('\n')}\n`);
  body.forEach((line, id) => {
    const pickup = line.split(',')[1];
    if (!pickup.startsWith('2021-01')) return; // the previous evening's stragglers are in no January interval
    const day = pickup.slice(0, 10);
    expected.set(day, [...(expected.get(day) ?? []), id]);
  });
  session = await openSession({ projectRoot: project.root, profile: 'test' });
});

afterAll(async () => {
  await session?.close();
  await db?.drop();
  project?.remove();
});

async function tripsPerDay(): Promise<Map<string, number[]>> {
  const warehouse = await session.connectors().warehouse();
  const table = await warehouse.query(
    'SELECT CAST(pickup_date AS VARCHAR) AS day, "Unnamed: 0" AS id FROM ny_taxi.daily_trips ORDER BY 1, 2',
  );
  const out = new Map<string, number[]>();
  for (let i = 0; i < table.numRows; i++) {
    const day = String(table.getChild('day')!.get(i));
    out.set(day, [...(out.get(day) ?? []), Number(table.getChild('id')!.get(i))]);
  }
  return out;
}

describe('a 31-day backfill into the warehouse, partition by partition', () => {
  it('run twice, with one day failing half-way the second time, leaves exactly one copy of every row', async () => {
    const pipeline = session.pipeline('daily_to_warehouse');
    const backfill = (variables: Record<string, unknown>) =>
      runBackfill(session, {
        pipeline,
        start: new Date('2021-01-01T00:00:00Z'),
        end: new Date('2021-01-31T00:00:00Z'),
        every: 'day',
        parallel: 2, // two dates at once in this process, on one DuckDB file
        variables: { taxi_url: join(project.root, 'month.csv'), ...variables },
      });
    const first = await backfill({});
    expect(first.runs.map((r) => r.status)).toEqual(Array(31).fill('succeeded'));
    expect(await tripsPerDay()).toEqual(expected);

    const second = await backfill({ fail_day: FAIL_DAY });
    const failed = second.runs.filter((r) => r.status !== 'succeeded');
    expect(failed.map((r) => r.run!.executionDate.toISOString().slice(0, 10))).toEqual([FAIL_DAY]);
    expect(failed[0].run!.error).toMatch(/oops/);
    const after = await tripsPerDay();
    expect(after).toEqual(expected);
    const ids = [...after.values()].flat();
    expect(new Set(ids).size).toBe(ids.length);
  });
});
