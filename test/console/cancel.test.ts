import type { ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCloudExecutor } from '../../src/console/cloud-executor.ts';
import { startConsole, type ConsoleServer } from '../../src/console/server.ts';
import { openSession, type Session } from '../../src/engine/session.ts';
import { runWithBlockRunning, spawnPipekit } from '../support/cli-process.ts';
import { createTestDatabase, type TestDatabase } from '../support/postgres.ts';
import { createTestProject, type TestProject } from '../support/project.ts';
import { startRunApiFake, type RunApiFake, type TaskAttemptStart } from '../support/run-api-fake.ts';

/**
 * The console's Cancel for runs it did not start itself: a CLI run on this
 * machine, a run whose process is gone, and in the cloud a run's execution,
 * a backfill's executions, and a retry fanned out as tasks again.
 */
let db: TestDatabase;
let project: TestProject;
let session: Session;
let fake: RunApiFake;
let local: ConsoleServer;
let cloud: ConsoleServer;
const children: ChildProcess[] = [];
const CLOUD_ENV = { GOOGLE_CLOUD_PROJECT: 'proj', PIPEKIT_REGION: 'europe-west1' };

beforeAll(async () => {
  fake = await startRunApiFake();
  db = await createTestDatabase('console_cancel');
  project = createTestProject('console-cancel', db.profileValues, {
    'blocks/hold.ts': `import { existsSync } from 'node:fs';
import { loader } from 'pipekit';
export default loader(async (ctx) => {
  while (existsSync(String(ctx.variables.hold_file)) && !ctx.signal.aborted) await new Promise((r) => setTimeout(r, 25));
  ctx.signal.throwIfAborted();
  return { rows: 1, target: ctx.ds };
});`,
    'held/pipeline.yaml': `blocks:
  - { uuid: hold, kind: loader, file: blocks/hold.ts }
variables:
  hold_file: "{{ project_root }}/hold"
resources: { parallelism: 4 }
`,
  });
  session = await openSession({ projectRoot: project.root, profile: 'test', env: { PIPEKIT_RUN_API_ENDPOINT: fake.url } });
  local = await startConsole({ session, port: 0, env: {} });
  const target = { project: 'proj', region: 'europe-west1', prefix: 'pipekit' };
  cloud = await startConsole({
    session,
    port: 0,
    env: {},
    executor: createCloudExecutor(session, target, { env: { PIPEKIT_RUN_API_ENDPOINT: fake.url } }),
  });
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await cloud?.close();
  await local?.close();
  await session?.close();
  await fake?.close();
  await db?.drop();
  project?.remove();
});

const hold = () => writeFileSync(join(project.root, 'hold'), '');
const release = () => rmSync(join(project.root, 'hold'), { force: true });
const pipekit = (args: readonly string[], env: Record<string, string> = {}) =>
  spawnPipekit(args, { PIPEKIT_PROJECT: project.root, PIPEKIT_PROFILE: 'test', PIPEKIT_RUN_API_ENDPOINT: fake.url, ...env }, children);
/** What Cloud Run would start for a task attempt: the job's container. */
const container = (start: TaskAttemptStart) => pipekit(start.args, { ...start.env, ...CLOUD_ENV });
const post = (server: ConsoleServer, path: string, body: unknown = {}) =>
  fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${server.token}` },
    body: JSON.stringify(body),
  });

describe('console cancel on a laptop', () => {
  it('cancels a run the CLI is running (SIGINT, as Ctrl-C): the CLI records it cancelled and exits 130', async () => {
    hold();
    const cli = pipekit(['run', 'held', '--execution-date', '2021-01-01', '--quiet']);
    const run = await runWithBlockRunning(session.store, 'held', '2021-01-01', 'hold');
    const res = await post(local, `/api/runs/${run.id}/cancel`);
    expect(res.status).toBeLessThan(300);
    expect((await session.store.getRun(run.id))!.status).toBe('cancelled');
    expect((await cli.done).code).toBe(130);
    release();
  }, 60_000);

  it('cancels a run whose process is gone, saying so; a finished run answers 409', async () => {
    hold();
    const cli = pipekit(['run', 'held', '--execution-date', '2021-01-02', '--quiet']);
    const run = await runWithBlockRunning(session.store, 'held', '2021-01-02', 'hold');
    cli.child.kill('SIGKILL');
    await cli.done;
    const res = await post(local, `/api/runs/${run.id}/cancel`);
    expect(res.status).toBeLessThan(300);
    const cancelled = (await session.store.getRun(run.id))!;
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.error).toMatch(/^cancelled from the console; its process \(pid \d+ on .+\) is gone/);
    const again = await post(local, `/api/runs/${run.id}/cancel`);
    expect(again.status).toBe(409);
    expect((await again.json()).error.message).toContain('has already cancelled');
    release();
  }, 60_000);
});

describe('console reads', () => {
  it('show a run whose process is gone as failed, with the reason, not as running forever', async () => {
    hold();
    const cli = pipekit(['run', 'held', '--execution-date', '2021-01-03', '--quiet']);
    const run = await runWithBlockRunning(session.store, 'held', '2021-01-03', 'hold');
    cli.child.kill('SIGKILL');
    await cli.done;
    release();
    const runs: { id: string; status: string; error: string }[] = await (await fetch(`${local.url}/api/runs?pipeline=held`)).json();
    expect(runs.find((r) => r.id === run.id)).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/its process \(pid \d+ on .+\) is gone/),
    });
    const detail = await (await fetch(`${local.url}/api/runs/${run.id}`)).json();
    expect(detail.blocks.map((b: { status: string }) => b.status)).toEqual(['failed']);
  }, 60_000);
});

describe('console cancel in the cloud (Run API stand-in)', () => {
  it('cancels a run by cancelling its execution; the container gets SIGTERM and the run is recorded cancelled', async () => {
    const attempts: TaskAttemptStart[] = [];
    fake.onTaskAttempt = (start) => attempts.push(start);
    const containers = new Map<string, ReturnType<typeof container>>();
    fake.onCancel = (execution) => containers.get(execution.name)?.child.kill('SIGTERM');
    hold();
    const started = await (await post(cloud, '/api/pipelines/held/runs', { executionDate: '2021-02-01' })).json();
    await expect.poll(() => attempts.length).toBe(1);
    containers.set(started.execution, container(attempts[0]!));
    const run = await runWithBlockRunning(session.store, 'held', '2021-02-01', 'hold');
    expect(run.owner?.cloudExecution).toBe(started.execution);

    const res = await post(cloud, `/api/runs/${run.id}/cancel`);
    expect(res.status).toBeLessThan(300);
    expect(fake.cancels()).toEqual([started.execution]);
    await expect.poll(async () => (await session.store.getRun(run.id))!.status).toBe('cancelled');
    expect(fake.execution(started.execution).cancelled).toBe(true);
    await containers.get(started.execution)!.done;
    expect((await session.store.getRun(run.id))!.status).toBe('cancelled');
    release();
  }, 60_000);

  it('cancels a backfill (its execution and what is left), then retries the dates that did not succeed as tasks again', async () => {
    fake.reset();
    const attempts: TaskAttemptStart[] = [];
    fake.onTaskAttempt = (start) => attempts.push(start);
    const containers: ReturnType<typeof container>[] = [];
    fake.onCancel = () => containers.forEach((c) => c.child.kill('SIGTERM'));
    hold();
    const started = await (
      await post(cloud, '/api/pipelines/held/backfills', { start: '2021-03-01', end: '2021-03-04', every: 'day', parallel: 4 })
    ).json();
    await expect.poll(() => attempts.length).toBe(4);
    // Only task 0 gets a machine before the cancel: it holds its first date.
    containers.push(container(attempts.find((a) => a.taskIndex === 0)!));
    const run = await runWithBlockRunning(session.store, 'held', '2021-03-01', 'hold');
    expect(run.backfillId).toBe(started.backfillId);
    // One run of a backfill is cancelled with its backfill: its execution runs the others too.
    expect((await post(cloud, `/api/runs/${run.id}/cancel`)).status).toBe(409);

    expect((await post(cloud, `/api/backfills/${started.backfillId}/cancel`)).status).toBeLessThan(300);
    expect(fake.cancels()).toEqual([started.execution]);
    expect((await session.store.getRun(run.id))!.status).toBe('cancelled');
    expect((await session.store.getBackfill(started.backfillId))!.status).toBe('cancelled');
    await containers[0]!.done;

    release();
    attempts.length = 0;
    const retry = await post(cloud, `/api/backfills/${started.backfillId}/retry`);
    expect(retry.status).toBeLessThan(300);
    const { execution } = await retry.json();
    const launched = fake.runJobs().at(-1)!;
    expect(launched.args).toEqual(['backfill', 'held', '--retry', started.backfillId]);
    expect(launched.taskCount).toBe(4);
    await expect.poll(() => attempts.length).toBe(4);
    const results = await Promise.all(attempts.map((a) => container(a).done));
    expect(results.map((r) => r.code)).toEqual([0, 0, 0, 0]);
    const runs = await session.store.listRuns({ backfillId: started.backfillId });
    const succeeded = runs
      .filter((r) => r.status === 'succeeded')
      .map((r) => r.executionDate.toISOString().slice(0, 10))
      .sort();
    expect(succeeded).toEqual(['2021-03-01', '2021-03-02', '2021-03-03', '2021-03-04']);
    const backfill = (await session.store.getBackfill(started.backfillId))!;
    expect(backfill.status).toBe('succeeded');
    expect(backfill.cloudExecutions).toEqual([started.execution, execution]);
    // A finished backfill is refused, never overwritten with `cancelled`.
    expect((await post(cloud, `/api/backfills/${started.backfillId}/cancel`)).status).toBe(409);
    expect((await session.store.getBackfill(started.backfillId))!.status).toBe('succeeded');
  }, 90_000);
});
