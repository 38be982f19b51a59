/**
 * Where api_to_gcs's exporters spend their time, on the bench's month: the
 * month is decoded and filtered as the example blocks do, then written to a
 * local lake as one Parquet object, as a partitioned dataset, and both side by
 * side (as the pipeline runs them). Each step prints wall and process CPU
 * seconds, so a change to the writers shows against the same input.
 *
 *   node bin/run-ts.js scripts/bench/profile-lake-write.ts bench-results/samples/yellow_tripdata_2021-01-1369765.csv.gz [single|partitioned|both ...]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { YELLOW_TAXI_COLUMNS, YELLOW_TAXI_DATES } from '../../pipelines/blocks/yellow-taxi-columns.ts';
import { createHttpLoader } from '../../src/io/http/index.ts';
import { createLocalLake } from '../../src/io/lake/index.ts';
import { toDate, where, withColumn } from '../../src/table/index.ts';

const file = resolve(process.argv[2]);
const steps = process.argv.slice(3).length ? process.argv.slice(3) : ['single', 'partitioned', 'both'];
const step = async <T>(name: string, fn: () => T | Promise<T>): Promise<T> => {
  const t = performance.now();
  const cpu = process.cpuUsage();
  const out = await fn();
  const used = process.cpuUsage(cpu);
  console.log(
    `${name.padEnd(28)} at ${(t / 1000).toFixed(2)} s: ${((performance.now() - t) / 1000).toFixed(3)} s wall  ${((used.user + used.system) / 1e6).toFixed(3)} s CPU  rss ${Math.round(process.memoryUsage().rss / 2 ** 20)} MB`,
  );
  return out;
};

// The decoded month is dropped once filtered, as the engine frees a block's input after its last reader.
const kept = await step('decode, where > 0', async () => {
  const { table } = await createHttpLoader().loadWithReport(file, { columns: YELLOW_TAXI_COLUMNS, parseDates: [...YELLOW_TAXI_DATES] });
  return where(table, 'passenger_count', (n) => n > 0);
});
const folder = mkdtempSync(join(tmpdir(), 'pipekit-profile-lake-'));
const lake = createLocalLake(folder, process.env.CONC ? { partitioned: { concurrency: Number(process.env.CONC) } } : {});
const single = () => lake.write(kept, 'nyc_taxi_data.parquet');
const partitioned = () =>
  lake.writePartitioned(withColumn(kept, 'tpep_pickup_date', toDate(kept.getChild('tpep_pickup_datetime')!)), 'nyc_taxi_data', {
    partitionBy: 'tpep_pickup_date',
  });
try {
  for (const name of steps) {
    if (name === 'single') await step('single object', single);
    else if (name === 'partitioned') await step('partitioned', partitioned);
    else if (name === 'both') {
      const t = performance.now();
      const took = (what: string) => () => console.log(`  ${what} done after ${((performance.now() - t) / 1000).toFixed(3)} s`);
      await step('single + partitioned', () => Promise.all([single().then(took('single')), partitioned().then(took('partitioned'))]));
    } else throw new Error(`unknown step ${name}: single, partitioned or both`);
  }
} finally {
  rmSync(folder, { recursive: true, force: true });
}
console.log(`peak rss ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`);
