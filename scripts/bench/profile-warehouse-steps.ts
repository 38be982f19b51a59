/**
 * Times what the DuckDB warehouse does with a SQL exporter's input and output
 * (src/io/duckdb/arrow-io.ts), on the month the bench wrote to the lake:
 * staging the input as uncompressed Parquet (tableToIPC + parquet-wasm) and
 * reading the whole result back (parquet-wasm → Arrow), which is where
 * gcs_to_bigquery's export phase goes.
 *
 *   node bin/run-ts.js scripts/bench/profile-warehouse-steps.ts bench-results/project/.pipekit/lake/nyc_taxi_data.parquet
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { tableToIPC } from 'apache-arrow';
import { readParquet, writeParquet } from '../../src/io/parquet/index.ts';

const step = <T>(name: string, fn: () => T): T => {
  const t = performance.now();
  const out = fn();
  console.log(`${name.padEnd(40)} ${((performance.now() - t) / 1000).toFixed(3)} s  rss ${Math.round(process.memoryUsage().rss / 2 ** 20)} MB`);
  return out;
};
const bytes = new Uint8Array(readFileSync(resolve(process.argv[2])));
const table = step('read lake parquet (snappy)', () => readParquet(bytes, { source: 'lake' }));
step('tableToIPC (the copy into wasm input)', () => tableToIPC(table, 'stream').byteLength);
const staged = step('stage: writeParquet none, no dictionary', () => writeParquet(table, { compression: 'none', dictionary: false }));
step('fetch back: readParquet of the result', () => readParquet(staged, { source: 'result' }));
console.log(`peak rss ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`);
