/**
 * The project's PostgreSQL killed under a run (issue 14 items 4, 10): the CLI
 * ends with a ConnectionError saying what to do (no unhandled 'error' event),
 * the table keeps its previous rows, and the next command restarts the
 * server, waits for its crash recovery and converges.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/services/free-port.ts';
import { ensurePostgresRunning, postgresDataDir, stopPostgres } from '../../src/services/postgres-server.ts';
import { faultProject, rawTraces, runCli, type CliRun, type FaultProject } from './harness.ts';

let project: FaultProject;
let port: number;
const credentials = { user: 'postgres', password: 'crash-test' };

beforeAll(async () => {
  port = await freePort();
  project = await faultProject(
    'pgcrash',
    { small: 30_000, big: 120_000 },
    {
      POSTGRES_EMBEDDED: true,
      POSTGRES_HOST: '127.0.0.1',
      POSTGRES_PORT: String(port),
      POSTGRES_USER: credentials.user,
      POSTGRES_PASSWORD: credentials.password,
      POSTGRES_DBNAME: 'ny_taxi',
      RUN_STORE_DBNAME: 'pipekit',
    },
  );
});
afterAll(async () => {
  await stopPostgres(project.root).catch(() => undefined);
  await project?.close();
});

async function query<T = Record<string, unknown>>(sql: string, database = 'ny_taxi'): Promise<T[]> {
  const client = new pg.Client({ host: '127.0.0.1', port, ...credentials, database });
  client.on('error', () => {});
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Runs `to_postgres` on the big month and calls `kill` once its COPY is under way. */
async function runAndKillDuringCopy(kill: (copyBackend: number) => void): Promise<CliRun> {
  const running = runCli(project, 'to_postgres', { vars: { url: project.months.big }, hangMs: 60_000 });
  for (let i = 0; i < 600; i++) {
    const copying = await query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE query LIKE 'COPY %' AND state = 'active'`).catch(
      () => [],
    );
    if (copying.length > 0) {
      kill(copying[0].pid);
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return running;
}

function postmasterPid(): number {
  return Number(readFileSync(join(postgresDataDir(project.root), 'postmaster.pid'), 'utf8').split('\n')[0]);
}

/** SIGKILL to the postmaster and every process it started: what a crashed machine or the OOM killer leaves. */
function crashServer(): void {
  const postmaster = postmasterPid();
  const children = readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return Number(readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ')[1]) === postmaster;
      } catch {
        return false;
      }
    });
  process.kill(postmaster, 'SIGKILL');
  for (const child of children) {
    try {
      process.kill(Number(child), 'SIGKILL');
    } catch {
      // Gone since the listing: a backend whose client disconnected (this test polls on its own connections).
    }
  }
}

describe('PostgreSQL killed in the middle of an export', () => {
  it('first load: the small month', async () => {
    const run = await runCli(project, 'to_postgres', { vars: { url: project.months.small }, hangMs: 120_000 });
    expect(run.code, run.stderr).toBe(0);
    expect(await query('SELECT count(*)::int AS n FROM ny_taxi.trips')).toEqual([{ n: 30_000 }]);
  });

  it('the whole server crashes: a ConnectionError with a hint; the next command restarts it and converges', async () => {
    const run = await runAndKillDuringCopy(() => crashServer());
    expect(run.hung, run.stderr).toBe(false);
    expect(run.code).not.toBe(0);
    expect(rawTraces(run.stdout + run.stderr), run.stderr).toEqual([]);
    expect(run.stderr).toMatch(/connection to PostgreSQL was lost|connection refused/);
    expect(run.stderr).toMatch(/→ .*(next pipekit command|pipekit dev start)/);

    const rerun = await runCli(project, 'to_postgres', { vars: { url: project.months.big }, hangMs: 120_000 });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(await query('SELECT count(*)::int AS n FROM ny_taxi.trips')).toEqual([{ n: 120_000 }]);
  });

  it('the COPY backend crashes: the server recovers on its own, and the next command waits for it', async () => {
    const run = await runAndKillDuringCopy((backend) => process.kill(backend, 'SIGKILL'));
    expect(run.hung, run.stderr).toBe(false);
    expect(rawTraces(run.stdout + run.stderr), run.stderr).toEqual([]);
    // Straight away, while the server is still in recovery.
    const rerun = await runCli(project, 'to_postgres', { vars: { url: project.months.small }, hangMs: 120_000 });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(await query('SELECT count(*)::int AS n FROM ny_taxi.trips')).toEqual([{ n: 30_000 }]);
    const stuck = await query(
      `SELECT count(*)::int AS n FROM pipekit.block_runs b JOIN pipekit.runs r ON r.id = b.run_id WHERE b.status = 'running' AND r.status <> 'running'`,
      'pipekit',
    );
    expect(stuck).toEqual([{ n: 0 }]);
  });

  it('ensurePostgresRunning waits for a server in crash recovery', async () => {
    const client = new pg.Client({ host: '127.0.0.1', port, ...credentials, database: 'ny_taxi' });
    client.on('error', () => {});
    await client.connect();
    const pid = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
    process.kill(pid, 'SIGKILL'); // the postmaster now resets every connection and replays its WAL
    // As the next command would, once the postmaster has noticed (it does so asynchronously).
    for (
      let i = 0;
      i < 100 &&
      (await query('SELECT 1').then(
        () => true,
        () => false,
      ));
      i++
    )
      await new Promise((r) => setTimeout(r, 20));
    const result = await ensurePostgresRunning({ root: project.root, port, ...credentials, database: 'ny_taxi' });
    expect(result.started).toBe(false);
    expect(await query('SELECT 1 AS ok')).toEqual([{ ok: 1 }]);
    await client.end().catch(() => undefined);
  });
});
