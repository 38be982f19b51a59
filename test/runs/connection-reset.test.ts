import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planRun } from '../../src/engine/run-plan.ts';
import { newRunId } from '../../src/engine/runner.ts';
import { openSession, type Session } from '../../src/engine/session.ts';
import { memorySink } from '../../src/log/logger.ts';
import { isConnectionLoss } from '../../src/runs/connection-loss.ts';
import { createTestDatabase, type TestDatabase } from '../support/postgres.ts';
import { createTestProject, type TestProject } from '../support/project.ts';

/**
 * Cloud Run's maintenance events break a job's outbound VPC connections
 * (Cloud SQL over private IP). Here the server ends the connection
 * (pg_terminate_backend) while a statement is in flight on it: held on a
 * lock by another session, so the kill lands mid-statement every time.
 */
let db: TestDatabase;
let project: TestProject;
let session: Session;
let admin: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase('connection_reset');
  project = createTestProject('connection-reset', db.profileValues, {
    'blocks/rows.ts': `import { tableFromArrays } from 'apache-arrow';
import { loader } from 'pipekit';
export default loader(async () => tableFromArrays({ n: Int32Array.from({ length: 1000 }, (_, i) => i) }));`,
    'blocks/to_postgres.ts': `import { exporter, type Table } from 'pipekit';
export default exporter(async (t: Table, ctx) => (await ctx.io.postgres()).export(t, { schema: 'public', table: 'numbers', ifExists: 'replace' }));`,
    'exporting/pipeline.yaml': `blocks:
  - { uuid: rows, kind: loader, file: blocks/rows.ts }
  - { uuid: to_postgres, kind: exporter, file: blocks/to_postgres.ts, upstream: [rows], retry: { attempts: 2, delay: 10ms } }
`,
  });
  session = await openSession({ projectRoot: project.root, profile: 'test', env: {} });
  admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
});

afterAll(async () => {
  await admin?.end();
  await session?.close();
  await db?.drop();
  project?.remove();
});

/** Ends every connection of this database that waits on a lock (as a migration would end them all). */
async function terminateWaiting(): Promise<number> {
  for (let i = 0; i < 400; i++) {
    const { rows } = await admin.query(
      `SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity
       WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'`,
    );
    if (rows.length > 0) return rows.length;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('nothing waited on the lock');
}

describe('a connection reset under a run', () => {
  it('a status write in flight is written again on a fresh connection', async () => {
    const spec = session.pipeline('exporting');
    const run = await session.store.createRun(
      {
        id: newRunId(),
        pipeline: spec.name,
        trigger: 'manual',
        executionDate: new Date(),
        intervalStart: new Date(),
        intervalEnd: new Date(),
        profile: 'test',
        variables: {},
        backfillId: null,
        resumedFrom: null,
        dedupeKey: null,
      },
      ['rows', 'to_postgres'],
    );
    const blocker = new pg.Client({ connectionString: db.url });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('SELECT * FROM pipekit.runs WHERE id = $1 FOR UPDATE', [run.run.id]);
    const write = session.store.updateRun(run.run.id, { status: 'running', startedAt: new Date() });
    expect(await terminateWaiting()).toBe(1);
    await blocker.query('COMMIT');
    await blocker.end();
    await write;
    expect((await session.store.getRun(run.run.id))!.status).toBe('running');
  });

  it("an export in flight fails as retriable and the block's retry writes the table; the run is recorded whole", async () => {
    await admin.query('CREATE TABLE IF NOT EXISTS public.numbers (n int)');
    const blocker = new pg.Client({ connectionString: db.url });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE public.numbers IN ACCESS EXCLUSIVE MODE');
    const spec = session.pipeline('exporting');
    const logs = memorySink();
    const result = session.runPipeline({ pipeline: spec, plan: planRun(spec, {}), sinks: [logs] });
    expect(await terminateWaiting()).toBe(1);
    await blocker.query('COMMIT');
    await blocker.end();
    const done = await result;
    expect(done.status).toBe('succeeded');
    const exporter = done.blocks.find((b) => b.block === 'to_postgres')!;
    expect(exporter).toMatchObject({ status: 'succeeded', attempts: 2, rowsOut: 1000 });
    expect(logs.records.some((l) => l.block === 'to_postgres' && /attempt 1 failed: .*terminat/i.test(l.message))).toBe(true);
    expect((await admin.query('SELECT count(*)::int AS n FROM public.numbers')).rows[0].n).toBe(1000);
  });

  it('tells a broken connection from a wrong statement', () => {
    expect(isConnectionLoss({ code: '57P01', message: 'terminating connection due to administrator command' })).toBe(true);
    expect(isConnectionLoss(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isConnectionLoss({ code: 'ECONNRESET' })).toBe(true);
    expect(isConnectionLoss({ code: '23505', message: 'duplicate key value violates unique constraint' })).toBe(false);
    expect(isConnectionLoss({ code: '42P01', message: 'relation does not exist' })).toBe(false);
  });
});
