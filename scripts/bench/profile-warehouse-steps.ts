/**
 * Where gcs_to_bigquery's time and memory go, step by step, on the month the
 * bench wrote to the lake: the lake read (row group by row group), the
 * column renames, and the DuckDB warehouse's SQL export (CREATE TABLE AS over
 * the Arrow input, read in place through the pipekit_arrow table function).
 * The process's peak RSS so far is printed after each step, so the step that
 * set it shows.
 *
 *   node bin/run-ts.js scripts/bench/profile-warehouse-steps.ts bench-results/project/.pipekit/lake/nyc_taxi_data.parquet
 */
import { openAsBlob, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { wasmMemory } from 'parquet-wasm';
import { createDuckDbWarehouse } from '../../src/io/duckdb/index.ts';
import { readParquetRowGroups } from '../../src/io/parquet/index.ts';
import { renameColumns, snakeCase } from '../../src/table/index.ts';

const mb = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MB`;
async function step<T>(name: string, fn: () => Promise<T> | T): Promise<T> {
  const t = performance.now();
  const out = await fn();
  const m = process.memoryUsage();
  console.log(
    `${name.padEnd(34)} ${((performance.now() - t) / 1000).toFixed(3)} s  rss ${mb(m.rss)} (process peak so far ${mb(process.resourceUsage().maxRSS * 1024)}), arrays ${mb(m.arrayBuffers)}, wasm ${mb(wasmMemory().buffer.byteLength)}`,
  );
  return out;
}

const file = resolve(process.argv[2]);
const table = await step('read lake parquet by row group', async () => readParquetRowGroups(await openAsBlob(file), { source: file }));
const renamed = await step('rename columns', () => renameColumns(table, snakeCase));
const db = join(tmpdir(), `pipekit-profile-${process.pid}.duckdb`);
const warehouse = await createDuckDbWarehouse({ path: db });
await step('warehouse.writeSql (scan + CTAS)', () =>
  warehouse.writeSql('SELECT * FROM {{ df_1 }}', { df_1: renamed }, { dataset: 'ny_taxi', table: 'yellow_cab_data', ifExists: 'replace' }),
);
await warehouse.close();
rmSync(db, { force: true });
rmSync(`${db}.wal`, { force: true });
console.log(`peak rss ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`);
