/**
 * The fault-injection suite's tools: a project whose pipelines load a
 * generated taxi month and write it to the lake and to PostgreSQL, the CLI run
 * as a real child process (killed by a signal at a failpoint or a timer), and
 * independent readers of what it left: DuckDB globbing the lake's files the
 * way BigQuery, pyarrow or Spark would, SQL counts, and a walk for temp files.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import pg from 'pg';
import { createPostgresRunStore } from '../../src/runs/postgres-store.ts';
import { Reconciler } from '../../src/runs/reconciler.ts';
import { writeYellowTaxiSample } from '../../src/samples/yellow-taxi.ts';
import { createTestDatabase, type TestDatabase } from '../support/postgres.ts';
import { createTestProject, REPO_ROOT, type TestProject } from '../support/project.ts';

export interface FaultProject extends TestProject {
  readonly db: TestDatabase;
  readonly lake: string;
  /** TMPDIR of the CLI processes: the Parquet encoder's and DuckDB's temp folders go here. */
  readonly tmp: string;
  /** Generated months: `small` and `big` have different rows on every day, so old and new partitions differ. */
  readonly months: { readonly small: string; readonly big: string };
  close(): Promise<void>;
}

const LOAD = `import { loader } from 'pipekit';
export default loader(async (ctx) => ctx.io.http.load(String(ctx.variables.url), {
  columns: { VendorID: 'int64', passenger_count: 'int64', payment_type: 'int64', RatecodeID: 'int64' },
  parseDates: ['tpep_pickup_datetime', 'tpep_dropoff_datetime'],
}));
`;
/** Wide enough that DuckDB's Parquet COPY of it runs for a while: the moment a cancelled process must not exit under. */
const SYNTHETIC = `import { loader } from 'pipekit';
import { tableFromArrays } from 'apache-arrow';
export default loader(async (ctx) => {
  const rows = Number(ctx.variables.rows);
  const a = new Float64Array(rows), b = new Float64Array(rows), c = new Float64Array(rows), d = new Float64Array(rows);
  for (let i = 0; i < rows; i++) { a[i] = Math.random(); b[i] = Math.random(); c[i] = Math.random() * i; d[i] = Math.random() * 1e6; }
  return tableFromArrays({ a, b, c, d });
});
`;
const PARTITIONED = `import { exporter, toDate, withColumn, type Table } from 'pipekit';
export default exporter(async (trips: Table, ctx) => {
  const withDate = withColumn(trips, 'tpep_pickup_date', toDate(trips.getChild('tpep_pickup_datetime')!));
  return (await ctx.io.lake()).writePartitioned(withDate, 'trips', { partitionBy: 'tpep_pickup_date' });
});
`;
const SINGLE = `import { exporter, type Table } from 'pipekit';
export default exporter(async (trips: Table, ctx) => (await ctx.io.lake()).write(trips, 'single/trips.parquet'));
`;
const POSTGRES = `import { exporter, type Table } from 'pipekit';
export default exporter(async (trips: Table, ctx) => (await ctx.io.postgres()).export(trips, { schema: 'ny_taxi', table: 'trips' }));
`;

function pipeline(exporterFile: string, options: { timeout?: string; retry?: number } = {}): string {
  return [
    'blocks:',
    '  - { uuid: load, kind: loader, file: blocks/load.ts }',
    `  - { uuid: export, kind: exporter, file: blocks/${exporterFile}, upstream: [load]${options.timeout ? `, timeout: ${options.timeout}` : ''} }`,
    'variables: { url: "" }',
    `retry: { attempts: ${options.retry ?? 1}, delay: 0s }`,
    '',
  ].join('\n');
}

/**
 * A project with pipelines `to_partitioned`, `to_single`, `to_postgres` (a generated month, `url` variable),
 * `big_single` (4M synthetic rows into one Parquet object), `*_timeout` variants, and two generated months.
 */
export async function faultProject(
  name: string,
  rows: { small: number; big: number },
  profile: Record<string, unknown> = {},
): Promise<FaultProject> {
  const db = await createTestDatabase(`faults_${name}`);
  const project = createTestProject(
    `faults-${name}`,
    { ...db.profileValues, ...profile },
    {
      'blocks/load.ts': LOAD,
      'blocks/synthetic.ts': SYNTHETIC,
      'big_single/pipeline.yaml':
        'blocks:\n  - { uuid: load, kind: loader, file: blocks/synthetic.ts }\n  - { uuid: export, kind: exporter, file: blocks/single.ts, upstream: [load] }\nvariables: { rows: 4000000 }\n',
      'big_single_timeout/pipeline.yaml':
        'blocks:\n  - { uuid: load, kind: loader, file: blocks/synthetic.ts }\n  - { uuid: export, kind: exporter, file: blocks/single.ts, upstream: [load], timeout: 200ms }\nvariables: { rows: 4000000 }\n',
      'blocks/partitioned.ts': PARTITIONED,
      'blocks/single.ts': SINGLE,
      'blocks/postgres.ts': POSTGRES,
      'to_partitioned/pipeline.yaml': pipeline('partitioned.ts'),
      'to_single/pipeline.yaml': pipeline('single.ts'),
      'to_postgres/pipeline.yaml': pipeline('postgres.ts'),
      'to_partitioned_timeout/pipeline.yaml': pipeline('partitioned.ts', { timeout: '150ms' }),
    },
  );
  const tmp = join(project.root, 'tmp');
  mkdirSync(tmp, { recursive: true });
  const months = { small: join(project.root, 'small.csv.gz'), big: join(project.root, 'big.csv.gz') };
  await writeYellowTaxiSample(months.small, { rows: rows.small, seed: 1 });
  await writeYellowTaxiSample(months.big, { rows: rows.big, seed: 2 });
  return {
    ...project,
    db,
    lake: join(project.root, 'lake'),
    tmp,
    months,
    async close() {
      await db.drop();
      project.remove();
    },
  };
}

export interface CliRun {
  /** Exit code, or null when a signal ended it. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
  /** Still alive `hangMs` after it started (or after the kill): then SIGKILLed by the harness. */
  readonly hung: boolean;
  /** From the run's summary on stdout to the process's end; undefined when no summary was printed. */
  readonly afterSummaryMs?: number;
}

export interface RunOptions {
  /** `<name>[@n]:<SIGNAL>`, see src/io/failpoints.ts. */
  readonly failpoint?: string;
  /** Sends this signal after `afterMs`. */
  readonly kill?: { readonly signal: NodeJS.Signals; readonly afterMs: number };
  readonly vars?: Record<string, string>;
  readonly env?: Record<string, string>;
  readonly hangMs?: number;
}

/** Runs `pipekit run <pipeline>` on the project in a child process. */
export function runCli(project: FaultProject, pipelineName: string, options: RunOptions = {}): Promise<CliRun> {
  const args = [join(REPO_ROOT, 'bin/pipekit.js'), '--project', project.root, '--profile', 'test', 'run', pipelineName, '-q'];
  for (const [k, v] of Object.entries(options.vars ?? {})) args.push('--var', `${k}=${v}`);
  const started = Date.now();
  const child = spawn(process.execPath, args, {
    cwd: project.root,
    env: { ...process.env, CI: '1', TMPDIR: project.tmp, PIPEKIT_FAILPOINT: options.failpoint ?? '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let summaryAt: number | undefined;
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
    // The summary's first line: `<pipeline> <run id>  <status>  <time>`.
    if (summaryAt === undefined && new RegExp(`^${pipelineName} \\S+ .*(succeeded|failed|cancelled)`, 'm').test(stdout))
      summaryAt = Date.now();
  });
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  let hung = false;
  const hangMs = options.hangMs ?? 30_000;
  let hangTimer = setTimeout(() => ((hung = true), child.kill('SIGKILL')), hangMs);
  const killTimer = options.kill
    ? setTimeout(() => {
        child.kill(options.kill!.signal);
        // From the kill on, the process must end promptly.
        clearTimeout(hangTimer);
        hangTimer = setTimeout(() => ((hung = true), child.kill('SIGKILL')), 15_000);
      }, options.kill.afterMs)
    : undefined;
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(hangTimer);
      clearTimeout(killTimer);
      resolve({
        code,
        signal,
        stdout,
        stderr,
        ms: Date.now() - started,
        hung,
        afterSummaryMs: summaryAt === undefined ? undefined : Date.now() - summaryAt,
      });
    });
  });
}

/** What must never reach a user: raw stack frames, unhandled events, Node's crash banner. */
export function rawTraces(output: string): string[] {
  return output
    .split('\n')
    .filter(
      (line) =>
        /^\s+at .+(:\d+:\d+\)?|\(native\))$/.test(line) || /Unhandled '?error'? event|UnhandledPromiseRejection|node:internal/.test(line),
    );
}

let duck: Promise<DuckDBInstance> | undefined;

/** Rows per partition as a glob reader sees them (DuckDB over every `*.parquet`, Hive partitioning). */
export async function globbedRowsPerDay(folder: string): Promise<Map<string, number>> {
  const files = walk(folder).filter((f) => f.endsWith('.parquet'));
  if (files.length === 0) return new Map();
  const connection = await (await (duck ??= DuckDBInstance.create(':memory:'))).connect();
  try {
    const reader = await connection.runAndReadAll(
      `SELECT CAST(tpep_pickup_date AS VARCHAR) AS day, count(*)::INTEGER AS n FROM read_parquet('${folder.replaceAll("'", "''")}/**/*.parquet', hive_partitioning = 1) GROUP BY 1`,
    );
    return new Map(reader.getRows().map(([day, n]) => [String(day), Number(n)]));
  } finally {
    connection.closeSync();
  }
}

/** Rows in one Parquet file as DuckDB reads it; undefined when the file is not there. */
export async function parquetRows(file: string): Promise<number | undefined> {
  if (!walk(join(file, '..')).includes(file)) return undefined;
  const connection = await (await (duck ??= DuckDBInstance.create(':memory:'))).connect();
  try {
    const reader = await connection.runAndReadAll(`SELECT count(*)::INTEGER FROM read_parquet('${file.replaceAll("'", "''")}')`);
    return Number(reader.getRows()[0][0]);
  } finally {
    connection.closeSync();
  }
}

/** Rows per pickup day of a generated month, read from its CSV by DuckDB (the expected partition sizes). */
export async function csvRowsPerDay(file: string): Promise<Map<string, number>> {
  const connection = await (await (duck ??= DuckDBInstance.create(':memory:'))).connect();
  try {
    const reader = await connection.runAndReadAll(
      `SELECT CAST(CAST(tpep_pickup_datetime AS DATE) AS VARCHAR), count(*)::INTEGER FROM read_csv('${file}', header = true, all_varchar = true) GROUP BY 1`,
    );
    return new Map(reader.getRows().map(([day, n]) => [String(day), Number(n)]));
  } finally {
    connection.closeSync();
  }
}

/** Whether every partition holds exactly the rows of `a` or exactly those of `b`; returns the offending days. */
export function notOldNorNew(seen: Map<string, number>, a: Map<string, number>, b: Map<string, number>): string[] {
  const days = new Set([...a.keys(), ...b.keys()]);
  const bad = [...seen]
    .filter(([day, n]) => n !== a.get(day) && n !== b.get(day))
    .map(([day, n]) => `${day}: ${n} rows (old ${a.get(day)}, new ${b.get(day)})`);
  const unknown = [...seen.keys()].filter((d) => !days.has(d));
  return [...bad, ...unknown.map((d) => `${d}: a day in neither month`)];
}

/** Temp files and folders pipekit left under `folders`: `*.pipekit-tmp` files and `pipekit-*` temp folders. */
export function leftovers(...folders: string[]): string[] {
  return folders.flatMap((folder) =>
    walk(folder, true).filter((p) => /\.pipekit-tmp$/.test(p) || /\/pipekit-(parquet|duckdb)-[^/]*$/.test(p)),
  );
}

/** `SELECT count(*)` of a table in the project's database; null when it does not exist. */
export async function pgCount(db: TestDatabase, table: string): Promise<number | null> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT to_regclass($1) IS NOT NULL AS present`, [table]);
    if (!rows[0].present) return null;
    return Number((await client.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
  } finally {
    await client.end();
  }
}

/**
 * Reconciles the project's runs as `pipekit runs` and the console do (runs
 * whose process is gone end as failed), then counts runs and blocks still `running`.
 */
export async function runningAfterReconcile(db: TestDatabase): Promise<{ runs: number; blocks: number }> {
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  try {
    const store = await createPostgresRunStore(pool);
    await new Reconciler({ store, log: () => {} }).reconcile();
    const { rows } = await pool.query(
      `SELECT (SELECT count(*) FROM pipekit.runs WHERE status = 'running')::int AS runs, (SELECT count(*) FROM pipekit.block_runs WHERE status = 'running')::int AS blocks`,
    );
    return rows[0];
  } finally {
    await pool.end();
  }
}

/** Block statuses of the project's runs, newest run first. */
export async function runStatuses(db: TestDatabase): Promise<{ run: string; status: string; blocks: Record<string, string> }[]> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    const runs = await client.query(`SELECT id, status FROM pipekit.runs ORDER BY created_at DESC`);
    const blocks = await client.query(`SELECT run_id, block, status FROM pipekit.block_runs`);
    return runs.rows.map((r) => ({
      run: r.id,
      status: r.status,
      blocks: Object.fromEntries(blocks.rows.filter((b) => b.run_id === r.id).map((b) => [b.block, b.status])),
    }));
  } finally {
    await client.end();
  }
}

function walk(folder: string, withFolders = false): string[] {
  let entries;
  try {
    entries = readdirSync(folder, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const path = join(folder, e.name);
    if (e.isDirectory()) return [...(withFolders ? [path] : []), ...walk(path, withFolders)];
    return [path];
  });
}
