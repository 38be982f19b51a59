/**
 * `npm run bench` (GitHub issue 6): pipekit against the Mage way (pandas),
 * DuckDB and the `psql \copy` floor on a generated taxi month, interleaved and
 * repeated, each path in its own process; start-up figures beside `node -e 0`
 * (issue 16); then engine overhead (200-block no-op DAG, 12-month backfill at
 * --parallel 1 and one worker per core).
 *
 *   npm run bench                                 # 3 rounds on the full month (1,369,765 rows)
 *   npm run bench -- --rounds 1 --rows 100000     # a quick look
 *   npm run bench -- --skip-overhead
 *   npm run bench -- --only none --skip-overhead --startup-instructions   # start-up alone, instructions counted too
 *
 * Everything lands in bench-results/ (git-ignored): the cached month, the
 * bench project with its own PostgreSQL (never the demo's on 54329), logs,
 * and bench-<date>.json with every sample.
 */
import { Command, InvalidArgumentError } from 'commander';
import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { staleReason } from '../bin/launch.js';
import { openSession } from '../src/engine/session.ts';
import { YELLOW_TAXI_2021_01_ROWS, writeYellowTaxiSample } from '../src/samples/yellow-taxi.ts';
import { startBenchPostgres } from './bench/cluster.ts';
import { measure } from './bench/measure.ts';
import { benchPaths, type Sample } from './bench/paths.ts';
import { BACKFILL_MONTHS, PROJECT, REPO, RESULTS, writeBenchProject } from './bench/project.ts';
import { markdown, summarise, targets, type Overhead } from './bench/report.ts';
import { measureStartup } from './bench/startup.ts';

const integer = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
};
const opts = new Command('bench')
  .option('--rounds <n>', 'interleaved rounds; medians are reported', integer, 3)
  .option('--rows <n>', 'rows in the generated month', integer, YELLOW_TAXI_2021_01_ROWS)
  .option('--backfill-rows <n>', 'rows per month in the backfill (big enough that process start does not dominate)', integer, 200_000)
  .option('--only <ids>', 'comma-separated path ids (pipekit:api_to_postgres, pandas:postgres, floor:psql, duckdb, …)')
  .option('--skip-overhead', 'skip the no-op DAG and backfill measurements')
  .option('--startup-rounds <n>', 'interleaved rounds of the start-up figures', integer, 5)
  .option('--skip-startup', 'skip the start-up figures')
  .option('--startup-instructions', "also count each start-up process's instructions with valgrind (load-independent; ~30 s each)")
  .parse()
  .opts<{
    rounds: number;
    rows: number;
    backfillRows: number;
    only?: string;
    skipOverhead?: boolean;
    startupRounds: number;
    skipStartup?: boolean;
    startupInstructions?: boolean;
  }>();

// Every figure is of the compiled CLI, as users run it: a stale dist/ would make bin/pipekit.js
// fall back to the sources through tsx and measure the transpiler instead.
const stale = staleReason();
if (stale) {
  console.log(`bench: ${stale}, so dist/ is rebuilt first`);
  execFileSync(process.execPath, [join(REPO, 'scripts/build.mjs')], { stdio: 'inherit' });
}

mkdirSync(join(RESULTS, 'samples'), { recursive: true });
const log = join(RESULTS, `bench-${stamp()}.log`);
writeFileSync(log, '');

// The month is generated once per (rows, seed) and kept: generating is not what we measure.
const csvGz = join(RESULTS, 'samples', `yellow_tripdata_2021-01-${opts.rows}.csv.gz`);
const csv = csvGz.replace(/\.gz$/, '');
await cached(csvGz, (tmp) => writeYellowTaxiSample(tmp, { rows: opts.rows, seed: 1, month: '2021-01' }));
await cached(csv, (tmp) => pipeline(createReadStream(csvGz), createGunzip(), createWriteStream(tmp)));
const backfillMonths = new Map<string, string>();
for (let m = 1; m <= BACKFILL_MONTHS; m++) {
  const month = `2021-${String(m).padStart(2, '0')}`;
  const file = join(RESULTS, 'samples', `yellow_tripdata_${month}-${opts.backfillRows}.csv.gz`);
  await cached(file, (tmp) => writeYellowTaxiSample(tmp, { rows: opts.backfillRows, seed: m, month }));
  backfillMonths.set(month, file);
}

const pg = await startBenchPostgres();
let session: Awaited<ReturnType<typeof openSession>> | undefined;
try {
  await pg.createDatabase('ny_taxi');
  await pg.createDatabase('pipekit');
  writeBenchProject(pg, { month: csvGz, backfillMonths });
  session = await openSession({ projectRoot: PROJECT, profile: 'local' });
  const pandasParquet = hasPyarrow();
  const all = benchPaths({ pg, session, csvGz, csv, log, pandasParquet });
  const only = opts.only?.split(',').map((s) => s.trim());
  const paths = only ? all.filter((p) => only.includes(p.id)) : all;
  const samples = new Map<string, Sample[]>(paths.map((p) => [p.id, []]));

  console.log(
    `bench: ${opts.rows.toLocaleString('en-US')} rows, ${opts.rounds} round(s), ${paths.length} paths; ${pg.version}; load ${loadAverage()}; log ${log}`,
  );
  const startup = opts.skipStartup ? null : await measureStartup(log, opts.startupRounds, { instructions: opts.startupInstructions });
  if (!pandasParquet) console.log('bench: pyarrow is not installable from Debian 12 apt, so the pandas Parquet paths are skipped');
  for (let round = 0; round < opts.rounds; round++) {
    // Rotate the order each round so no path always runs on a cold (or warm) page cache.
    const order = paths.map((_, i) => paths[(i + round) % paths.length]);
    for (const path of order) {
      const sample = await path.run();
      samples.get(path.id)!.push(sample);
      console.log(
        `  round ${round + 1} ${path.label.padEnd(52)} ${sample.wallS.toFixed(2)} s  ${sample.cpuS.toFixed(2)} CPU-s  ${Math.round(sample.peakRssMB)} MB  ${phaseText(sample.phases)}`,
      );
    }
  }

  const overhead = opts.skipOverhead ? null : await measureOverhead();
  const summary = summarise(paths, samples);
  const tgts = targets(summary, overhead, startup);
  const machine = machineLine(pg.version, opts.rows, opts.rounds);
  const table = markdown(summary, tgts, overhead, startup, machine);
  console.log(`\n${table}\n`);
  const out = join(RESULTS, `bench-${stamp()}.json`);
  writeFileSync(
    out,
    JSON.stringify(
      { date: new Date().toISOString(), machine, rows: opts.rows, rounds: opts.rounds, summary, overhead, startup, targets: tgts },
      null,
      2,
    ),
  );
  console.log(`bench: figures in ${out}`);
} finally {
  await session?.close();
  await pg.stop();
}

async function measureOverhead(): Promise<Overhead> {
  const cli = (...args: string[]) =>
    measure(process.execPath, [join(REPO, 'bin/pipekit.js'), '--project', PROJECT, '--profile', 'local', ...args, '--quiet'], {
      cwd: REPO,
      log,
    });
  const noopWall: number[] = [];
  const noopRun: number[] = [];
  for (let i = 0; i < 3; i++) {
    const m = await cli('run', 'noop_200');
    const [run] = await session!.store.listRuns({ pipeline: 'noop_200', limit: 1 });
    if (run?.status !== 'succeeded') throw new Error(`noop_200 run ${run?.status} (see ${log})`);
    noopWall.push(m.wallS);
    noopRun.push((run.finishedAt!.getTime() - run.startedAt!.getTime()) / 1000);
  }
  // Up to the core count: one worker process per core.
  const parallel = Math.max(2, availableParallelism());
  const wall: Record<number, number[]> = { 1: [], [parallel]: [] };
  const cores: Record<number, number[]> = { 1: [], [parallel]: [] };
  for (let i = 0; i < 2; i++) {
    for (const p of [1, parallel]) {
      const m = await cli(
        'backfill',
        'monthly_taxi',
        '--start',
        '2021-01-01',
        '--end',
        '2021-12-01',
        '--every',
        'month',
        '--parallel',
        String(p),
      );
      wall[p].push(m.wallS);
      cores[p].push(m.cpuS / m.wallS);
    }
  }
  const { median } = await import('./bench/measure.ts');
  const result: Overhead = {
    noopRunS: median(noopRun),
    noopWallS: median(noopWall),
    parallel,
    backfillRows: opts.backfillRows,
    backfillP1S: median(wall[1]),
    backfillPNS: median(wall[parallel]),
    backfillP1Cores: median(cores[1]),
    backfillPNCores: median(cores[parallel]),
  };
  console.log(
    `  overhead: noop_200 run ${result.noopRunS.toFixed(2)} s (process ${result.noopWallS.toFixed(2)} s); ` +
      `backfill p1 ${result.backfillP1S.toFixed(2)} s on ${result.backfillP1Cores.toFixed(2)} cores, p${parallel} ${result.backfillPNS.toFixed(2)} s on ${result.backfillPNCores.toFixed(2)} cores`,
  );
  return result;
}

async function cached(file: string, make: (tmp: string) => Promise<unknown>): Promise<void> {
  if (existsSync(file)) return;
  // Written under a temporary name first, so an interrupted bench never leaves half a month behind.
  const tmp = file.replace(/(\.csv(\.gz)?)$/, `.partial$1`);
  await make(tmp);
  renameSync(tmp, file);
}

function hasPyarrow(): boolean {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import pyarrow'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function phaseText(phases: Readonly<Record<string, number>>): string {
  return Object.entries(phases)
    .map(([k, v]) => `${k} ${v.toFixed(2)}`)
    .join(', ');
}

function loadAverage(): string {
  return execFileSync('cat', ['/proc/loadavg']).toString().split(' ').slice(0, 3).join(' ');
}

function machineLine(pgVersion: string, rows: number, rounds: number): string {
  const cpu = cpus();
  return (
    `${new Date().toISOString().slice(0, 10)} · ${cpu.length} cores (${cpu[0]?.model.trim()}) · ${Math.round(totalmem() / 2 ** 30)} GB RAM · ` +
    `Node ${process.version} · ${pgVersion}, stock settings · ${rows.toLocaleString('en-US')} rows × 18 columns · median of ${rounds} interleaved rounds · load average at start ${loadAverage()}`
  );
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').slice(0, 13);
}
