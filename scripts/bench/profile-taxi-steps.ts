/**
 * Times the steps inside the example blocks on the bench's month, in one process,
 * to find where a phase's time goes (the bench only sees whole blocks):
 * decode, the transformer's count + filter + its test, and the engine's
 * Arrow IPC save of a block output (what every block pays in the run store's timing).
 *
 *   node bin/run-ts.js scripts/bench/profile-taxi-steps.ts bench-results/samples/yellow_tripdata_2021-01-1369765.csv.gz
 */
import { RecordBatchStreamWriter } from 'apache-arrow';
import { createWriteStream, rmSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { resolve } from 'node:path';
import { createHttpLoader } from '../../src/io/http/index.ts';
import { countWhere, where } from '../../src/table/index.ts';
import { YELLOW_TAXI_COLUMNS, YELLOW_TAXI_DATES } from '../../pipelines/blocks/yellow-taxi-columns.ts';

const file = resolve(process.argv[2]);
const step = async <T>(name: string, fn: () => T | Promise<T>): Promise<T> => {
  const t = performance.now();
  const out = await fn();
  console.log(
    `${name.padEnd(28)} ${((performance.now() - t) / 1000).toFixed(3)} s  rss ${Math.round(process.memoryUsage().rss / 2 ** 20)} MB`,
  );
  return out;
};
const loader = createHttpLoader();
const { table } = await step('decode', () =>
  loader.loadWithReport(file, { columns: YELLOW_TAXI_COLUMNS, parseDates: [...YELLOW_TAXI_DATES] }),
);
console.log(`  ${table.numRows} rows in ${table.batches.length} batches`);
await step('countWhere == 0', () => countWhere(table, 'passenger_count', (n) => n === 0));
const kept = await step('where > 0', () => where(table, 'passenger_count', (n) => n > 0));
await step('test countWhere on output', () => countWhere(kept, 'passenger_count', (n) => n === 0));
await step('IPC save of the output', async () => {
  const writer = new RecordBatchStreamWriter();
  const done = pipeline(writer.toNodeStream() as unknown as Readable, createWriteStream('/tmp/pipekit-profile.arrow'));
  for (const batch of kept.batches) writer.write(batch);
  writer.finish();
  await done;
});
rmSync('/tmp/pipekit-profile.arrow', { force: true });
console.log(`peak rss ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`);
