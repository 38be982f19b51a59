import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retriedTaskDate } from '../../src/engine/retried-task.ts';
import { createPostgresRunStore } from '../../src/runs/postgres-store.ts';
import type { RunOwner } from '../../src/runs/model.ts';
import type { NewRun, RunStore } from '../../src/runs/store.ts';
import { createTestDatabase, type TestDatabase } from '../support/postgres.ts';

/** The run store's owner columns, its migration, and who may take a dedupe key's run over. */
let db: TestDatabase;
let pool: pg.Pool;
let store: RunStore;

/** The tables as the first release created them: no attempt, no owner. */
const FIRST_RELEASE_SQL = `
CREATE SCHEMA pipekit;
CREATE TABLE pipekit.backfills (id text PRIMARY KEY, pipeline text NOT NULL, start_date timestamptz NOT NULL, end_date timestamptz NOT NULL,
  every text NOT NULL, variables jsonb NOT NULL DEFAULT '{}', status text NOT NULL, execution_dates timestamptz[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(), finished_at timestamptz);
CREATE TABLE pipekit.runs (id text PRIMARY KEY, pipeline text NOT NULL, trigger text NOT NULL, execution_date timestamptz NOT NULL,
  interval_start timestamptz NOT NULL, interval_end timestamptz NOT NULL, profile text NOT NULL, variables jsonb NOT NULL DEFAULT '{}',
  status text NOT NULL, created_at timestamptz NOT NULL DEFAULT clock_timestamp(), started_at timestamptz, finished_at timestamptz, error text,
  backfill_id text REFERENCES pipekit.backfills(id) ON DELETE SET NULL, resumed_from text, dedupe_key text);
CREATE UNIQUE INDEX runs_dedupe_key ON pipekit.runs (dedupe_key) WHERE dedupe_key IS NOT NULL;
INSERT INTO pipekit.runs (id, pipeline, trigger, execution_date, interval_start, interval_end, profile, status)
VALUES ('20200101T000000-old000', 'p', 'manual', '2020-01-01', '2020-01-01', '2020-01-02', 'local', 'running');
INSERT INTO pipekit.backfills (id, pipeline, start_date, end_date, every, status) VALUES ('bf-old', 'p', '2020-01-01', '2020-01-02', 'day', 'succeeded');
`;

beforeAll(async () => {
  db = await createTestDatabase('store_attempts');
  pool = new pg.Pool({ connectionString: db.url });
  await pool.query(FIRST_RELEASE_SQL);
  store = await createPostgresRunStore(pool);
});

afterAll(async () => {
  await store?.close();
  await db?.drop();
});

const day = new Date('2021-06-01T00:00:00Z');
let n = 0;
const newRun = (dedupeKey: string, owner: RunOwner): NewRun => ({
  id: `20210601T000000-${String(++n).padStart(6, '0')}`,
  pipeline: 'p',
  trigger: 'daily',
  executionDate: day,
  intervalStart: day,
  intervalEnd: day,
  profile: 'cloud',
  variables: {},
  backfillId: null,
  resumedFrom: null,
  dedupeKey,
  owner,
});
const task = (execution: string, index: number, attempt: number): RunOwner => ({
  host: 'localhost',
  pid: 1,
  processStart: null,
  cloudExecution: `projects/x/locations/r/jobs/j/executions/${execution}`,
  cloudTaskIndex: index,
  cloudTaskAttempt: attempt,
});

describe('the run store', () => {
  it('migrates a store made by the first release: old runs read as attempt 1 without an owner', async () => {
    const old = (await store.getRun('20200101T000000-old000'))!;
    expect(old).toMatchObject({ attempt: 1, owner: null, status: 'running' });
    expect((await store.getBackfill('bf-old'))!.cloudExecutions).toEqual([]);
    // Runs without an owner cannot be judged: they are active, and left to whoever knows.
    expect((await store.activeRuns()).map((r) => r.id)).toContain(old.id);
    // Opening it again (every command does) changes nothing.
    await createPostgresRunStore(pool);
  });

  it('records the owner, and a later attempt of the same Cloud Run task takes the run over even while it says running', async () => {
    const first = await store.createRun(newRun('p:daily:a', task('e1', 0, 0)), ['b1', 'b2']);
    expect(first.outcome).toBe('created');
    expect(first.run.owner).toEqual(task('e1', 0, 0));
    await store.updateRun(first.run.id, { status: 'running' });
    await store.updateBlockRun(first.run.id, 'b1', { status: 'succeeded' });

    // Another task (or a scheduler tick delivered twice) finds it live: a duplicate.
    expect((await store.createRun(newRun('p:daily:a', task('e1', 1, 0)), ['b1', 'b2'], { takeOver: 'retry' })).outcome).toBe('duplicate');
    expect((await store.createRun(newRun('p:daily:a', task('e2', 0, 0)), ['b1', 'b2'], { takeOver: 'retry' })).outcome).toBe('duplicate');

    const retried = await store.createRun(newRun('p:daily:a', task('e1', 0, 1)), ['b1', 'b2']);
    expect(retried.outcome).toBe('took-over');
    expect(retried.run).toMatchObject({ id: first.run.id, attempt: 2, status: 'queued', error: null, owner: task('e1', 0, 1) });
    expect((await store.getBlockRuns(first.run.id)).map((b) => b.status)).toEqual(['queued', 'queued']);
  });

  it('a failed run of a tick is retried (`retry`), but not by an event or backfill claim (`same-task`); a succeeded one never', async () => {
    const first = await store.createRun(newRun('p:daily:b', task('e3', 0, 0)), []);
    await store.updateRun(first.run.id, { status: 'failed', error: 'boom' });
    expect((await store.createRun(newRun('p:daily:b', task('e4', 0, 0)), [], { takeOver: 'same-task' })).outcome).toBe('duplicate');
    const again = await store.createRun(newRun('p:daily:b', task('e4', 0, 0)), [], { takeOver: 'retry' });
    expect(again).toMatchObject({ outcome: 'took-over', run: { id: first.run.id, attempt: 2 } });
    const logs = await store.getLogs(first.run.id);
    expect(logs.at(-1)!.message).toBe('attempt 2 takes the run over (attempt 1 failed: boom)');

    await store.updateRun(first.run.id, { status: 'succeeded' });
    expect((await store.createRun(newRun('p:daily:b', task('e5', 0, 0)), [], { takeOver: 'retry' })).outcome).toBe('duplicate');
    expect((await store.createRun(newRun('p:daily:b', task('e4', 0, 1)), [], { takeOver: 'retry' })).outcome).toBe('duplicate');
  });

  it('a retried task finds the date its task ran before (its tick, not the one latest by now)', async () => {
    const owner = task('e7', 2, 0);
    expect(await retriedTaskDate(store, owner)).toBeUndefined();
    await store.createRun(newRun('p:hourly:2021-06-01T00:00:00.000Z', owner), []);
    expect(await retriedTaskDate(store, owner)).toBeUndefined(); // a first attempt computes its own tick
    expect(await retriedTaskDate(store, task('e7', 2, 1))).toEqual(day);
    expect(await retriedTaskDate(store, task('e7', 1, 1))).toBeUndefined();
  });

  it('markDead ends a run once, at the attempt it was judged at', async () => {
    const run = (await store.createRun(newRun('p:daily:c', task('e6', 0, 0)), ['b1'])).run;
    await store.updateRun(run.id, { status: 'running' });
    await store.updateBlockRun(run.id, 'b1', { status: 'running' });
    expect(await store.markDead(run.id, 2, { status: 'failed', reason: 'wrong attempt' })).toBe(false);
    const both = await Promise.all([1, 2].map(() => store.markDead(run.id, 1, { status: 'failed', reason: 'out of memory' })));
    expect(both.sort()).toEqual([false, true]);
    expect(await store.getRun(run.id)).toMatchObject({ status: 'failed', error: 'out of memory' });
    expect(await store.getBlockRuns(run.id)).toMatchObject([{ status: 'failed', error: 'out of memory' }]);
  });
});
