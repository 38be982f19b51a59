/**
 * The bench's project: bench-results/project/, inside the repo so block files
 * resolve `import … from 'pipekit'` through package.json's self-reference.
 * The example pipelines and blocks are copied from pipelines/ as they are, with
 * an io_config whose `local` profile points at the bench's own PostgreSQL, plus
 * bench-only pipelines: the partitioned write alone (the example runs it next to
 * the single-file write, which would blur its timing), a 200-block no-op DAG, a
 * 1-block one (start-up figures) and a monthly backfill on small data.
 */
import { cpSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BenchPostgres } from './cluster.ts';

export const REPO = resolve(import.meta.dirname, '../..');
export const RESULTS = join(REPO, 'bench-results');
export const PROJECT = join(RESULTS, 'project');
export const EXAMPLE_PIPELINES = ['api_to_postgres', 'api_to_gcs', 'gcs_to_bigquery'] as const;
export const NOOP_BLOCKS = 200;
export const BACKFILL_MONTHS = 12;

export interface ProjectFiles {
  /** The month the example pipelines read (their local-profile taxi_url). */
  readonly month: string;
  /** `yellow_tripdata_YYYY-MM.csv.gz` per backfill month, small. */
  readonly backfillMonths: ReadonlyMap<string, string>;
}

export function writeBenchProject(pg: BenchPostgres, files: ProjectFiles): void {
  rmSync(PROJECT, { recursive: true, force: true });
  mkdirSync(join(PROJECT, '.pipekit', 'samples'), { recursive: true });
  cpSync(join(REPO, 'pipelines', 'blocks'), join(PROJECT, 'blocks'), { recursive: true });
  for (const name of EXAMPLE_PIPELINES) cpSync(join(REPO, 'pipelines', name), join(PROJECT, name), { recursive: true });
  symlinkSync(files.month, join(PROJECT, '.pipekit', 'samples', 'yellow_tripdata_2021-01.csv.gz'));
  for (const [month, file] of files.backfillMonths) symlinkSync(file, join(PROJECT, '.pipekit', 'samples', `small_${month}.csv.gz`));

  writeFileSync(
    join(PROJECT, 'io_config.yaml'),
    [
      'version: 0.1.1',
      '# Written by scripts/bench.ts for one bench run: its own PostgreSQL, lake and warehouse.',
      'local:',
      `  POSTGRES_HOST: ${pg.host}`,
      `  POSTGRES_PORT: "${pg.port}"`,
      `  POSTGRES_USER: ${pg.user}`,
      `  POSTGRES_PASSWORD: ${pg.password}`,
      '  POSTGRES_DBNAME: ny_taxi',
      '  POSTGRES_SCHEMA: public',
      '  RUN_STORE_DBNAME: pipekit',
      '  LAKE_URI: .pipekit/lake',
      '  WAREHOUSE: duckdb',
      '  DUCKDB_PATH: .pipekit/warehouse.duckdb',
      '  WORKSPACE_URI: .pipekit/workspace',
      '  WORKSPACE_RETENTION: 1h',
      '',
    ].join('\n'),
  );

  const block = (uuid: string, kind: string, file: string, upstream: string[] = []) =>
    `  - uuid: ${uuid}\n    kind: ${kind}\n    file: ${file}\n${upstream.length ? `    upstream: [${upstream.join(', ')}]\n` : ''}`;
  const pipeline = (name: string, body: string) => {
    mkdirSync(join(PROJECT, name), { recursive: true });
    writeFileSync(join(PROJECT, name, 'pipeline.yaml'), body);
  };

  pipeline(
    'api_to_gcs_partitioned',
    'description: bench only — the month into Hive partitions by pickup date, with no other writer alongside\nblocks:\n' +
      block('load_yellow_taxi', 'loader', 'blocks/load_yellow_taxi.ts') +
      block('drop_zero_passengers', 'transformer', 'blocks/drop_zero_passengers.ts', ['load_yellow_taxi']) +
      block('taxi_to_lake_partitioned', 'exporter', 'blocks/taxi_to_lake_partitioned.ts', ['drop_zero_passengers']) +
      'variables:\n  taxi_url: "{{ project_root }}/.pipekit/samples/yellow_tripdata_2021-01.csv.gz"\n  bad_rows: fail\n',
  );

  // A binary tree: block i waits for block (i-1)/2, so the DAG is both deep (8 levels) and wide.
  writeFileSync(
    join(PROJECT, 'blocks', 'noop.ts'),
    "import { transformer } from 'pipekit';\n\n/** Does nothing: the bench measures the engine around it. */\nexport default transformer(async () => undefined);\n",
  );
  writeFileSync(
    join(PROJECT, 'blocks', 'noop_root.ts'),
    "import { loader } from 'pipekit';\n\nexport default loader(async () => undefined);\n",
  );
  let noop = `description: bench only — ${NOOP_BLOCKS} blocks that do nothing\nconcurrency: 8\nblocks:\n`;
  for (let i = 0; i < NOOP_BLOCKS; i++) {
    noop += i === 0 ? block('b0', 'loader', 'blocks/noop_root.ts') : block(`b${i}`, 'transformer', 'blocks/noop.ts', [`b${(i - 1) >> 1}`]);
  }
  pipeline('noop_200', noop);
  pipeline(
    'noop_1',
    `description: bench only — one block that does nothing (start-up figures)\nblocks:\n${block('b0', 'loader', 'blocks/noop_root.ts')}`,
  );

  pipeline(
    'monthly_taxi',
    'description: bench only — one small month per run, for backfills\nblocks:\n' +
      block('load_yellow_taxi', 'loader', 'blocks/load_yellow_taxi.ts') +
      block('drop_zero_passengers', 'transformer', 'blocks/drop_zero_passengers.ts', ['load_yellow_taxi']) +
      block('taxi_to_lake_partitioned', 'exporter', 'blocks/taxi_to_lake_partitioned.ts', ['drop_zero_passengers']) +
      `variables:\n  taxi_url: "{{ project_root }}/.pipekit/samples/small_{{ execution_date | date('%Y-%m') }}.csv.gz"\n  bad_rows: fail\n`,
  );
}
