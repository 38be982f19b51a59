/**
 * The five example pipelines, unchanged, on files shaped like pandas writes
 * them with its index (`df.to_csv()` without `index=False`, after a few
 * read/write round trips): `,Unnamed: 0,Unnamed: 0.1,VendorID,…`. Fed by the
 * seeded generators (src/samples), so it always runs. The expected values are
 * computed here from the generated text with plain string splitting and
 * pandas' and Mage's rules written out, not with pipekit's decoder.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Table } from 'apache-arrow';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planRun } from '../../src/engine/run-plan.ts';
import { openSession, type Session } from '../../src/engine/session.ts';
import { TITANIC_HEADER, writeTitanicSample } from '../../src/samples/titanic.ts';
import { yellowTaxiCsv } from '../../src/samples/yellow-taxi.ts';
import { createTestDatabase, type TestDatabase } from '../support/postgres.ts';
import { copyExamplePipelines, createTestProject, type TestProject } from '../support/project.ts';

const ROWS = 3000;
type Value = number | string | null;
type Kind = 'number' | 'text' | 'timestamp';
type Row = Record<string, Value>;

/** pandas' names for the header `,Unnamed: 0,Unnamed: 0.1,<taxi header>` (its C parser's rule, written out). */
const INDEX_NAMES = ['Unnamed: 0', 'Unnamed: 0.2', 'Unnamed: 0.1'];
const TEXT_COLUMNS = new Set(['store_and_fwd_flag']);
const TIME_COLUMNS = new Set(['tpep_pickup_datetime', 'tpep_dropoff_datetime']);
const kindOf = (name: string): Kind => (TEXT_COLUMNS.has(name) ? 'text' : TIME_COLUMNS.has(name) ? 'timestamp' : 'number');
const norm = (kind: Kind, text: string): Value => (text === '' ? null : kind === 'number' ? Number(text) : text);

let db: TestDatabase;
let project: TestProject;
let session: Session;
let taxiHeader: string[];
/** Every trip as pandas would hold it, by pandas column name. */
let trips: Row[];
let titanicPath: string;
let titanicText: string;

/** The taxi sample as written by `df.to_csv()` three times: three index columns, each a different order. */
function writeTaxiWithIndex(path: string): void {
  const lines = [...yellowTaxiCsv({ rows: ROWS, seed: 15 })].join('').split('\n').filter(Boolean);
  const [header, ...body] = lines;
  taxiHeader = [...INDEX_NAMES, ...header.split(',')];
  const n = body.length;
  const index = (i: number) => [i, n - 1 - i, (i * 7) % n];
  writeFileSync(path, `,Unnamed: 0,Unnamed: 0.1,${header}\n${body.map((line, i) => `${index(i).join(',')},${line}`).join('\n')}\n`);
  trips = body.map((line, i) => {
    const cells = [...index(i).map(String), ...line.split(',')];
    return Object.fromEntries(taxiHeader.map((name, c) => [name, norm(kindOf(name), cells[c])]));
  });
}

/** The Zoomcamp transformer: `data[data['passenger_count'] > 0]` (NaN compares false). */
const kept = () => trips.filter((t) => t.passenger_count !== null && (t.passenger_count as number) > 0);

/** Arrow rows as plain values: integers and floats as numbers, timestamps as `YYYY-MM-DD HH:MM:SS`. */
function plainRows(table: Table): Row[] {
  const out: Row[] = [];
  const fields = table.schema.fields;
  for (let i = 0; i < table.numRows; i++) {
    const row: Row = {};
    for (const field of fields) {
      const v = table.getChild(field.name)!.get(i);
      const type = String(field.type);
      row[field.name] =
        v === null
          ? null
          : type.startsWith('Timestamp')
            ? new Date(Number(v)).toISOString().slice(0, 19).replace('T', ' ')
            : type.startsWith('Date')
              ? new Date(Number(v)).toISOString().slice(0, 10)
              : typeof v === 'bigint' || typeof v === 'number'
                ? Number(v)
                : String(v);
    }
    out.push(row);
  }
  return out;
}

const byIndex = (rows: Row[]) => [...rows].sort((a, b) => (a['Unnamed: 0'] as number) - (b['Unnamed: 0'] as number));
const renamed = (rows: Row[], rename: (name: string) => string) =>
  rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [rename(k), v])));

beforeAll(async () => {
  db = await createTestDatabase('pandas_index');
  project = createTestProject('pandas-index', { ...db.profileValues, POSTGRES_SCHEMA: 'public' });
  copyExamplePipelines(project.root);
  writeTaxiWithIndex(join(project.root, 'taxi-with-index.csv'));
  // Titanic read with pandas and written back with df.to_csv(): the index as a first, unnamed column.
  const raw = join(project.root, 'titanic-raw.csv');
  await writeTitanicSample(raw, { seed: 7 });
  const [header, ...body] = readFileSync(raw, 'utf8').split('\n').filter(Boolean);
  expect(header).toBe(TITANIC_HEADER);
  titanicText = `,${header}\n${body.map((line, i) => `${i},${line}`).join('\n')}\n`;
  titanicPath = join(project.root, 'titanic-with-index.csv');
  writeFileSync(titanicPath, titanicText);
  session = await openSession({ projectRoot: project.root, profile: 'test' });
});

afterAll(async () => {
  await session?.close();
  await db?.drop();
  project?.remove();
});

async function run(name: string, variables: Record<string, unknown>, executionDate = '2021-01-15T00:00:00Z') {
  const pipeline = session.pipeline(name);
  const result = await session.runPipeline({ pipeline, plan: planRun(pipeline, { executionDate: new Date(executionDate) }), variables });
  expect(result.run?.error ?? null).toBeNull();
  expect(result.status).toBe('succeeded');
  return result;
}

describe('a pandas-written CSV with its index columns, through the five example pipelines', () => {
  it("api_to_postgres: every column under its own (Mage-cleaned) name with pandas' values; the Zoomcamp's lower-case SQL runs", async () => {
    await run('api_to_postgres', { taxi_url: join(project.root, 'taxi-with-index.csv') });
    const clean = (name: string) => name.replace(/[^A-Za-z0-9_]/g, '_').toLowerCase(); // Mage's clean_name, for these names
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows: columns } = await client.query(
        `SELECT column_name FROM information_schema.columns WHERE table_schema = 'ny_taxi' AND table_name = 'yellow_taxi_data' ORDER BY ordinal_position`,
      );
      expect(columns.map((c) => c.column_name)).toEqual(taxiHeader.map(clean));
      const select = taxiHeader.map((n) => `${clean(n)}::text AS "${n}"`).join(', ');
      const { rows } = await client.query(`SELECT ${select} FROM ny_taxi.yellow_taxi_data`);
      const back = rows.map((r) => Object.fromEntries(taxiHeader.map((n) => [n, norm(kindOf(n), r[n] ?? '')])));
      expect(byIndex(back)).toEqual(byIndex(kept()));
      // The course's check query, as written in its SQL block: unquoted, lower case.
      const { rows: perVendor } = await client.query(
        'SELECT vendorid, count(pulocationid)::int AS trips FROM ny_taxi.yellow_taxi_data GROUP BY vendorid ORDER BY vendorid',
      );
      const expected = new Map<number, number>();
      for (const t of kept()) if (t.VendorID !== null) expected.set(t.VendorID as number, (expected.get(t.VendorID as number) ?? 0) + 1);
      expect(perVendor.filter((r) => r.vendorid !== null).map((r) => [Number(r.vendorid), r.trips])).toEqual(
        [...expected].sort((a, b) => a[0] - b[0]),
      );
    } finally {
      await client.end();
    }
  });

  it("api_to_gcs: the Parquet object and the partitioned dataset keep every column with pandas' values", async () => {
    await run('api_to_gcs', { taxi_url: join(project.root, 'taxi-with-index.csv') });
    const lake = await session.connectors().lake();
    const single = await lake.read('nyc_taxi_data.parquet');
    expect(single.schema.fields.map((f) => f.name)).toEqual(taxiHeader);
    expect(byIndex(plainRows(single))).toEqual(byIndex(kept()));
    const partitioned = await lake.readPartitioned('nyc_taxi_data');
    expect(new Set(partitioned.schema.fields.map((f) => f.name))).toEqual(new Set([...taxiHeader, 'tpep_pickup_date']));
    const withDate = kept().map((t) => ({ ...t, tpep_pickup_date: (t.tpep_pickup_datetime as string).slice(0, 10) }));
    const order = (r: Row) =>
      Object.fromEntries(
        Object.keys(r)
          .sort()
          .map((k) => [k, r[k]]),
      );
    expect(byIndex(plainRows(partitioned)).map(order)).toEqual(byIndex(withDate).map(order));
  });

  it("gcs_to_bigquery: the warehouse table has every column, snake_cased, with pandas' values", async () => {
    await run('gcs_to_bigquery', {});
    const warehouse = await session.connectors().warehouse();
    const table = await warehouse.query('SELECT * FROM ny_taxi.yellow_cab_data');
    const snake: Record<string, string> = {
      'Unnamed: 0': 'unnamed_0',
      'Unnamed: 0.2': 'unnamed_0_2',
      'Unnamed: 0.1': 'unnamed_0_1',
      VendorID: 'vendor_id',
      RatecodeID: 'ratecode_id',
      PULocationID: 'pu_location_id',
      DOLocationID: 'do_location_id',
    };
    const rename = (n: string) => snake[n] ?? n;
    expect(table.schema.fields.map((f) => f.name)).toEqual(taxiHeader.map(rename));
    const sort = (rows: Row[]) => [...rows].sort((a, b) => (a.unnamed_0 as number) - (b.unnamed_0 as number));
    expect(sort(plainRows(table))).toEqual(sort(renamed(kept(), rename)));
  });

  it("api_to_gcs_parameterized: the day's object has every column with pandas' values", async () => {
    await run('api_to_gcs_parameterized', { taxi_url: join(project.root, 'taxi-with-index.csv') }, '2021-01-03T00:00:00Z');
    const lake = await session.connectors().lake();
    const table = await lake.read('2021/01/03/daily-trips.parquet');
    expect(table.schema.fields.map((f) => f.name)).toEqual(taxiHeader);
    expect(byIndex(plainRows(table))).toEqual(byIndex(kept()));
  });

  it("example_pipeline: the index column is read as Unnamed: 0 and left out; nulls filled with Mage's median", async () => {
    const r = await run('example_pipeline', { titanic_url: titanicPath });
    expect(r.blocks.find((b) => b.block === 'load_titanic')!.rowsOut).toBe(891);
    const lake = await session.connectors().lake();
    const clean = plainRows(await lake.read('titanic_clean.csv'));
    // Independently: split the text (quoted names hold the only commas), then Mage's block rule.
    const columns = ['Age', 'Fare', 'Parch', 'Pclass', 'SibSp', 'Survived'];
    const [header, ...lines] = titanicText.split('\n').filter(Boolean);
    const names = header.split(',');
    expect(names[0]).toBe('');
    const cells = lines.map((line) => line.replace(/"[^"]*"/g, 'NAME').split(','));
    const expected: Row[] = cells.map(() => ({}));
    for (const column of columns) {
      const at = names.indexOf(column);
      const values = cells.map((c) => (c[at] === '' ? null : Number(c[at])));
      const sorted = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
      const median = sorted[Math.floor(sorted.length / 2)];
      values.forEach((v, i) => (expected[i][column] = v ?? median));
    }
    expect(clean).toEqual(expected);
  });
});
