/**
 * The paths the bench compares, each one child process per round:
 * pipekit's example pipelines through the real CLI (phases from the run
 * store's block timings), the Mage way in pandas, DuckDB, and the `psql \copy`
 * floor. Every path reports the same shape so the report can line them up.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Session } from '../../src/engine/session.ts';
import type { BenchPostgres } from './cluster.ts';
import { measure } from './measure.ts';
import { PROJECT, REPO, RESULTS } from './project.ts';

export interface Sample {
  readonly wallS: number;
  /** User + system CPU seconds of the whole process: fairer than wall while other work shares the cores. */
  readonly cpuS: number;
  readonly peakRssMB: number;
  /** Seconds per phase: decode, transform, export (and finer ones where a path has them). */
  readonly phases: Readonly<Record<string, number>>;
  readonly rowsIn: number;
  readonly rowsOut: number;
}

export interface BenchPath {
  readonly id: string;
  readonly label: string;
  readonly family: 'pipekit' | 'pandas' | 'duckdb' | 'floor';
  run(): Promise<Sample>;
}

export interface PathContext {
  readonly pg: BenchPostgres;
  readonly session: Session;
  /** The month, gzipped and plain (psql reads the plain file). */
  readonly csvGz: string;
  readonly csv: string;
  readonly log: string;
  readonly pandasParquet: boolean;
}

/** Block → phase, per example pipeline. Exporters that run side by side are also summed into `export` as a span. */
const PIPEKIT_PHASES: Record<string, Record<string, string>> = {
  api_to_postgres: { load_yellow_taxi: 'decode', drop_zero_passengers: 'transform', taxi_to_postgres: 'export', count_trips: 'check' },
  api_to_gcs: {
    load_yellow_taxi: 'decode',
    drop_zero_passengers: 'transform',
    taxi_to_lake_parquet: 'parquet',
    taxi_to_lake_partitioned: 'partitioned',
  },
  api_to_gcs_partitioned: { load_yellow_taxi: 'decode', drop_zero_passengers: 'transform', taxi_to_lake_partitioned: 'partitioned' },
  gcs_to_bigquery: { load_taxi_from_lake: 'decode', standardise_columns: 'transform', write_taxi_to_warehouse: 'export' },
};

export function benchPaths(ctx: PathContext): BenchPath[] {
  const pipekit = (pipeline: string, label: string): BenchPath => ({
    id: `pipekit:${pipeline}`,
    label,
    family: 'pipekit',
    run: () => runPipekit(ctx, pipeline),
  });
  const pandas = (what: string, label: string): BenchPath => ({
    id: `pandas:${what}`,
    label,
    family: 'pandas',
    run: async () => {
      const lake = join(RESULTS, 'pandas-lake');
      rmSync(lake, { recursive: true, force: true });
      await ctx.pg.query('ny_taxi', 'DROP TABLE IF EXISTS ny_taxi.mage_yellow_taxi_data');
      const m = await measure('/usr/bin/python3', [join(REPO, 'scripts/bench/mage_path.py'), ctx.csvGz, what, lake], {
        cwd: REPO,
        env: ctx.pg.env('ny_taxi'),
        log: ctx.log,
      });
      return fromJson(m);
    },
  });
  const paths: BenchPath[] = [
    pipekit('api_to_postgres', 'pipekit api_to_postgres'),
    pandas('postgres', 'pandas (Mage) api_to_postgres'),
    {
      id: 'floor:psql',
      label: 'psql \\copy (floor)',
      family: 'floor',
      run: async () => {
        await ctx.pg.query('ny_taxi', FLOOR_DDL);
        const copy = `\\copy ny_taxi.floor_taxi FROM '${ctx.csv}' WITH (FORMAT csv, HEADER true)`;
        const m = await measure('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', copy], {
          cwd: REPO,
          env: ctx.pg.env('ny_taxi'),
          log: ctx.log,
        });
        const rows = Number((await ctx.pg.query('ny_taxi', 'SELECT count(*) AS n FROM ny_taxi.floor_taxi')).rows[0].n);
        return { wallS: m.wallS, cpuS: m.cpuS, peakRssMB: m.peakRssMB, phases: { export: m.wallS }, rowsIn: rows, rowsOut: rows };
      },
    },
    pipekit('api_to_gcs', 'pipekit api_to_gcs (single + partitioned)'),
    pipekit('api_to_gcs_partitioned', 'pipekit api_to_gcs, partitioned only'),
    {
      id: 'duckdb',
      label: 'DuckDB read_csv → filter → parquet',
      family: 'duckdb',
      run: async () =>
        fromJson(
          await measure(process.execPath, [join(REPO, 'scripts/bench/duckdb-path.mjs'), ctx.csvGz, join(RESULTS, 'duckdb-lake')], {
            cwd: REPO,
            log: ctx.log,
          }),
        ),
    },
    pipekit('gcs_to_bigquery', 'pipekit gcs_to_bigquery (lake → DuckDB warehouse)'),
  ];
  if (ctx.pandasParquet) {
    paths.push(pandas('parquet', 'pandas (Mage) to_parquet single'), pandas('partitioned', 'pandas (Mage) write_to_dataset'));
  }
  return paths;
}

/** The table pipekit and Mage would create for the month, for the psql floor (all rows, header skipped). */
const FLOOR_DDL = `DROP TABLE IF EXISTS ny_taxi.floor_taxi;
CREATE SCHEMA IF NOT EXISTS ny_taxi;
CREATE TABLE ny_taxi.floor_taxi ("VendorID" bigint, tpep_pickup_datetime timestamp, tpep_dropoff_datetime timestamp,
  passenger_count bigint, trip_distance double precision, "RatecodeID" bigint, store_and_fwd_flag text, "PULocationID" bigint,
  "DOLocationID" bigint, payment_type bigint, fare_amount double precision, extra double precision, mta_tax double precision,
  tip_amount double precision, tolls_amount double precision, improvement_surcharge double precision, total_amount double precision,
  congestion_surcharge double precision)`;

async function runPipekit(ctx: PathContext, pipeline: string): Promise<Sample> {
  // As the pandas path's table: each round loads into a table that does not exist yet (the
  // Zoomcamp's first run). A table kept between rounds keeps its statistics, and with them
  // count_trips plans a sort spilled to disk (~0.55 s) where a new table's query hashes (~0.22 s).
  if (pipeline === 'api_to_postgres') await ctx.pg.query('ny_taxi', 'DROP TABLE IF EXISTS ny_taxi.yellow_taxi_data');
  if (pipeline === 'gcs_to_bigquery' && !existsSync(join(PROJECT, '.pipekit/lake/nyc_taxi_data.parquet'))) {
    await measure(
      process.execPath,
      [join(REPO, 'bin/pipekit.js'), '--project', PROJECT, '--profile', 'local', 'run', 'api_to_gcs', '--quiet'],
      { cwd: REPO, log: ctx.log },
    );
  }
  const m = await measure(
    process.execPath,
    [join(REPO, 'bin/pipekit.js'), '--project', PROJECT, '--profile', 'local', 'run', pipeline, '--quiet'],
    { cwd: REPO, log: ctx.log },
  );
  const [run] = await ctx.session.store.listRuns({ pipeline, limit: 1 });
  if (run?.status !== 'succeeded') throw new Error(`pipekit ${pipeline}: latest run is ${run?.status ?? 'missing'} (see ${ctx.log})`);
  const blocks = await ctx.session.store.getBlockRuns(run.id);
  const phases: Record<string, number> = {};
  let exportStart = Infinity;
  let exportEnd = -Infinity;
  for (const b of blocks) {
    const phase = PIPEKIT_PHASES[pipeline]?.[b.block];
    if (!phase || !b.startedAt || !b.finishedAt) continue;
    phases[phase] = (b.finishedAt.getTime() - b.startedAt.getTime()) / 1000;
    if (phase !== 'decode' && phase !== 'transform' && phase !== 'check') {
      exportStart = Math.min(exportStart, b.startedAt.getTime());
      exportEnd = Math.max(exportEnd, b.finishedAt.getTime());
    }
  }
  phases.export = (exportEnd - exportStart) / 1000;
  if (run.startedAt && run.finishedAt) phases.run = (run.finishedAt.getTime() - run.startedAt.getTime()) / 1000;
  const byBlock = new Map(blocks.map((b) => [b.block, b.rowsOut ?? NaN]));
  const first = Object.keys(PIPEKIT_PHASES[pipeline])[0];
  const second = Object.keys(PIPEKIT_PHASES[pipeline])[1];
  return {
    wallS: m.wallS,
    cpuS: m.cpuS,
    peakRssMB: m.peakRssMB,
    phases,
    rowsIn: byBlock.get(first) ?? NaN,
    rowsOut: byBlock.get(second) ?? NaN,
  };
}

function fromJson(m: { wallS: number; cpuS: number; peakRssMB: number; json: Record<string, unknown> | null }): Sample {
  const json = m.json ?? {};
  return {
    wallS: m.wallS,
    cpuS: m.cpuS,
    peakRssMB: m.peakRssMB,
    phases: (json.phases as Record<string, number>) ?? {},
    rowsIn: Number(json.rowsIn ?? NaN),
    rowsOut: Number(json.rowsOut ?? NaN),
  };
}
