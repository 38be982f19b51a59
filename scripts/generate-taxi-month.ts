/**
 * Writes a generated yellow-taxi month (see src/samples/yellow-taxi.ts).
 *
 *   node bin/run-ts.js scripts/generate-taxi-month.ts --rows 1369765 --seed 1 --month 2021-01 --out yellow_tripdata_2021-01.csv.gz
 */
import { Command, InvalidArgumentError } from 'commander';
import { resolve } from 'node:path';
import { YELLOW_TAXI_2021_01_ROWS, writeYellowTaxiSample } from '../src/samples/yellow-taxi.ts';

const integer = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
};

const program = new Command('generate-taxi-month')
  .description('Write a seeded, realistic NYC yellow-taxi month as CSV (.csv.gz gzipped).')
  .option('--rows <n>', 'rows to write', integer, YELLOW_TAXI_2021_01_ROWS)
  .option('--seed <n>', 'random seed: same seed, same file', integer, 1)
  .option('--month <yyyy-mm>', 'month of the pickups', '2021-01')
  .option('--out <file>', 'output file', 'yellow_tripdata_2021-01.csv.gz')
  .parse();

const { rows, seed, month, out } = program.opts<{ rows: number; seed: number; month: string; out: string }>();
const started = performance.now();
await writeYellowTaxiSample(resolve(out), { rows, seed, month });
console.log(`${rows} rows → ${resolve(out)} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
