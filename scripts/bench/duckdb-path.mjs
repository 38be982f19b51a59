/**
 * The DuckDB yardstick (child process of scripts/bench.ts): typed read_csv of the
 * month's CSV.gz, the passenger filter plus a pickup-date column, one Parquet file,
 * and a Hive-partitioned dataset by date. Each phase materialises its result so the
 * phases time separately (DuckDB would otherwise fuse read and write).
 *
 *   node scripts/bench/duckdb-path.mjs <csv.gz> <out-dir>
 *
 * Plain JavaScript run by node itself, so the yardstick's process pays no TypeScript loader
 * (pipekit's runs are compiled too). Prints one JSON line; the parent measures wall time and
 * peak RSS.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const [file, outDir] = process.argv.slice(2);
if (!file || !outDir) throw new Error('usage: duckdb-path.mjs <csv.gz> <out-dir>');
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

// The Zoomcamp's dtype map in DuckDB types (Int64 → BIGINT, float → DOUBLE, parse_dates → TIMESTAMP).
const TYPES = {
  VendorID: 'BIGINT',
  tpep_pickup_datetime: 'TIMESTAMP',
  tpep_dropoff_datetime: 'TIMESTAMP',
  passenger_count: 'BIGINT',
  trip_distance: 'DOUBLE',
  RatecodeID: 'BIGINT',
  store_and_fwd_flag: 'VARCHAR',
  PULocationID: 'BIGINT',
  DOLocationID: 'BIGINT',
  payment_type: 'BIGINT',
  fare_amount: 'DOUBLE',
  extra: 'DOUBLE',
  mta_tax: 'DOUBLE',
  tip_amount: 'DOUBLE',
  tolls_amount: 'DOUBLE',
  improvement_surcharge: 'DOUBLE',
  total_amount: 'DOUBLE',
  congestion_surcharge: 'DOUBLE',
};
const columns = `{${Object.entries(TYPES)
  .map(([k, v]) => `'${k}': '${v}'`)
  .join(', ')}}`;
const quote = (path) => `'${path.replaceAll("'", "''")}'`;

const instance = await DuckDBInstance.create(':memory:');
const db = await instance.connect();
const phases = {};
async function timed(name, sql) {
  const started = performance.now();
  await db.run(sql);
  phases[name] = (performance.now() - started) / 1000;
}

await timed('decode', `CREATE TABLE trips AS SELECT * FROM read_csv(${quote(file)}, header = true, columns = ${columns})`);
await timed(
  'transform',
  `CREATE TABLE kept AS SELECT *, tpep_pickup_datetime::DATE AS tpep_pickup_date FROM trips WHERE passenger_count > 0`,
);
await timed(
  'parquet',
  `COPY (SELECT * EXCLUDE (tpep_pickup_date) FROM kept) TO ${quote(join(outDir, 'nyc_taxi_data.parquet'))} (FORMAT PARQUET)`,
);
await timed('partitioned', `COPY kept TO ${quote(join(outDir, 'nyc_taxi_data'))} (FORMAT PARQUET, PARTITION_BY (tpep_pickup_date))`);
const count = async (table) => Number((await (await db.runAndReadAll(`SELECT count(*) FROM ${table}`)).getRows())[0][0]);
console.log(JSON.stringify({ phases, rowsIn: await count('trips'), rowsOut: await count('kept') }));
db.closeSync();
instance.closeSync();
