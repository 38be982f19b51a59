import type { ChildProcess } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runArgs } from '../../src/cloud/job-args.ts';
import { createCloudRunLauncher } from '../../src/cloud/job-launcher.ts';
import { openSession, type Session } from '../../src/engine/session.ts';
import { createTestDatabase, type TestDatabase } from '../support/postgres.ts';
import { spawnPipekit, runWithBlockRunning } from '../support/cli-process.ts';
import { createTestProject, type TestProject } from '../support/project.ts';
import { startRunApiFake, type RunApiFake, type TaskAttemptStart } from '../support/run-api-fake.ts';

/**
 * Issue 13's "done when": a run's process is killed with SIGKILL mid-block —
 * on a laptop, and as a Cloud Run task the Run API stand-in reports out of
 * memory. One reconcile pass fails it with the reason and posts the alert
 * once; a retry of the tick (or of the task) completes it as attempt 2.
 */
let db: TestDatabase;
let project: TestProject;
let session: Session;
let hooks: Server;
let alerts: { text: string }[] = [];
let fake: RunApiFake;
const children: ChildProcess[] = [];

const HOLD = `import { tableFromArrays } from 'apache-arrow';
import { existsSync } from 'node:fs';
import { loader } from 'pipekit';
export default loader(async (ctx) => {
  ctx.log.info('holding while ' + ctx.variables.hold_file + ' exists');
  while (existsSync(String(ctx.variables.hold_file))) await new Promise((r) => setTimeout(r, 25));
  return tableFromArrays({ n: Float64Array.from([1, 2, 3]) });
});`;

beforeAll(async () => {
  hooks = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      alerts.push(JSON.parse(body));
      res.end('ok');
    });
  });
  await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
  fake = await startRunApiFake();
  db = await createTestDatabase('killed_runs');
  project = createTestProject(
    'killed-runs',
    { ...db.profileValues, ALERT_WEBHOOK_URL: `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hook` },
    {
      'blocks/hold.ts': HOLD,
      'blocks/sink.ts': `import { exporter, type Table } from 'pipekit';\nexport default exporter(async (t: Table) => ({ rows: t.numRows, target: 'nowhere' }));`,
      'held/pipeline.yaml': `blocks:
  - { uuid: hold, kind: loader, file: blocks/hold.ts }
  - { uuid: sink, kind: exporter, file: blocks/sink.ts, upstream: [hold] }
variables:
  hold_file: "{{ project_root }}/hold"
triggers:
  - { name: daily, schedule: "@daily", timezone: UTC }
`,
    },
  );
  session = await openSession({ projectRoot: project.root, profile: 'test', env: { PIPEKIT_RUN_API_ENDPOINT: fake.url } });
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await session?.close();
  await fake?.close();
  await new Promise<void>((r) => hooks?.close(() => r()));
  await db?.drop();
  project?.remove();
});

const hold = () => writeFileSync(join(project.root, 'hold'), '');
const release = () => rmSync(join(project.root, 'hold'), { force: true });

const pipekit = (args: string[], env: Record<string, string> = {}) =>
  spawnPipekit(args, { PIPEKIT_PROJECT: project.root, PIPEKIT_PROFILE: 'test', PIPEKIT_RUN_API_ENDPOINT: fake.url, ...env }, children);

const runHolding = (date: string) => runWithBlockRunning(session.store, 'held', date, 'hold');

describe('a run killed with SIGKILL on a laptop', () => {
  it('is failed with the reason by one reconcile pass, alerted once, and a rerun of the tick completes it as attempt 2', async () => {
    alerts = [];
    hold();
    const first = pipekit(['run', 'held', '--trigger', 'daily', '--execution-date', '2021-01-01', '--quiet']);
    const run = await runHolding('2021-01-01');
    expect(run.owner).toMatchObject({ pid: first.child.pid, cloudExecution: null });
    // Alive, it is left alone.
    expect((await session.reconciler.reconcile()).ended).toEqual([]);
    first.child.kill('SIGKILL');
    await first.done;

    const report = await session.reconciler.reconcile();
    expect(report.ended.map((e) => e.run.id)).toEqual([run.id]);
    const failed = (await session.store.getRun(run.id))!;
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(new RegExp(`its process \\(pid ${first.child.pid} on .+\\) is gone`));
    const blocks = await session.store.getBlockRuns(run.id);
    expect(blocks.map((b) => [b.block, b.status])).toEqual([
      ['hold', 'failed'],
      ['sink', 'cancelled'],
    ]);
    // A second pass (another reader, the console) finds nothing to do and alerts nobody again.
    expect((await session.reconciler.reconcile()).ended).toEqual([]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.text).toContain(`held failed: run ${run.id}`);

    release();
    const again = await pipekit(['run', 'held', '--trigger', 'daily', '--execution-date', '2021-01-01', '--quiet']).done;
    expect(again.code).toBe(0);
    const retried = (await session.store.getRun(run.id))!;
    expect(retried).toMatchObject({ status: 'succeeded', attempt: 2, error: null });
    expect(
      (await session.store.listRuns({ pipeline: 'held' })).filter((r) => r.executionDate.toISOString().startsWith('2021-01-01')),
    ).toHaveLength(1);
    const logs = await session.store.getLogs(run.id);
    expect(logs.some((l) => /attempt 2 takes the run over \(attempt 1 failed: its process/.test(l.message))).toBe(true);
    expect(alerts).toHaveLength(1);
  }, 60_000);

  it('`pipekit runs` reconciles before it lists, and says what it ended', async () => {
    hold();
    const first = pipekit(['run', 'held', '--execution-date', '2021-02-01', '--quiet']);
    const run = await runHolding('2021-02-01');
    first.child.kill('SIGKILL');
    await first.done;
    release();
    const listed = await pipekit(['runs', 'held']).done;
    expect(listed.code).toBe(0);
    expect(listed.stderr).toContain(`run ${run.id} of held failed: its process (pid ${first.child.pid}`);
    expect(listed.stdout).toMatch(new RegExp(`${run.id}.*failed`));
    // The tick retried in the test before: one run, its second attempt.
    expect(listed.stdout).toMatch(/2021-01-01 00:00:00Z\s+\S+ succeeded \(attempt 2\)/);
  }, 60_000);
});

describe('a Cloud Run task killed for out of memory (Run API stand-in)', () => {
  it("is failed with Google's reason in one pass, alerted once, and the retried task completes it as attempt 2", async () => {
    alerts = [];
    fake.maxRetries.set('pipekit-held', 1);
    const attempts: TaskAttemptStart[] = [];
    fake.onTaskAttempt = (start) => attempts.push(start);
    const container = (start: TaskAttemptStart) =>
      pipekit(start.args, { ...start.env, GOOGLE_CLOUD_PROJECT: 'proj', PIPEKIT_REGION: 'europe-west1' });

    hold();
    const launcher = createCloudRunLauncher(
      { project: 'proj', region: 'europe-west1', prefix: 'pipekit' },
      { env: { PIPEKIT_RUN_API_ENDPOINT: fake.url } },
    );
    const { execution } = await launcher.launch({
      pipeline: 'held',
      args: runArgs({ pipeline: 'held', trigger: 'daily', executionDate: new Date('2021-04-01T00:00:00Z') }),
    });
    await expect.poll(() => attempts.length).toBe(1);
    const first = container(attempts[0]!);
    const run = await runHolding('2021-04-01');
    expect(run.owner).toMatchObject({ cloudExecution: execution, cloudTaskIndex: 0, cloudTaskAttempt: 0 });

    // The kernel's OOM killer: SIGKILL, then Cloud Run reports the attempt and retries the task.
    first.child.kill('SIGKILL');
    await first.done;
    fake.endAttempt(execution, 0, 'oom');
    expect(attempts).toHaveLength(2);

    const report = await session.reconciler.reconcile();
    expect(report.ended.map((e) => e.run.id)).toEqual([run.id]);
    const failed = (await session.store.getRun(run.id))!;
    expect(failed.status).toBe('failed');
    expect(failed.error).toContain('Cloud Run task 0 (attempt 0) of pipekit-held-');
    expect(failed.error).toContain('out of memory (signal 9): Container terminated: Memory limit of 512 MiB exceeded');
    expect((await session.reconciler.reconcile()).ended).toEqual([]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.text).toContain('held failed');

    release();
    const retry = await container(attempts[1]!).done;
    expect(retry.code).toBe(0);
    fake.endAttempt(execution, 0, 'succeeded');
    const done = (await session.store.getRun(run.id))!;
    expect(done).toMatchObject({ status: 'succeeded', attempt: 2, error: null });
    expect(done.owner).toMatchObject({ cloudExecution: execution, cloudTaskAttempt: 1 });
    expect(alerts).toHaveLength(1);
    fake.onTaskAttempt = undefined;
  }, 60_000);

  it('a running task is alive; a timed-out one fails with the timeout; a cancelled execution cancels its run', async () => {
    fake.maxRetries.set('pipekit-held', 0);
    const attempts: TaskAttemptStart[] = [];
    fake.onTaskAttempt = (start) => attempts.push(start);
    hold();
    const launcher = createCloudRunLauncher(
      { project: 'proj', region: 'europe-west1', prefix: 'pipekit' },
      { env: { PIPEKIT_RUN_API_ENDPOINT: fake.url } },
    );
    const runFor = async (date: string) => {
      const { execution } = await launcher.launch({
        pipeline: 'held',
        args: runArgs({ pipeline: 'held', executionDate: new Date(`${date}T00:00:00Z`) }),
      });
      await expect.poll(() => attempts.some((a) => a.execution === execution)).toBe(true);
      const start = attempts.find((a) => a.execution === execution)!;
      const container = pipekit(start.args, { ...start.env, GOOGLE_CLOUD_PROJECT: 'proj', PIPEKIT_REGION: 'europe-west1' });
      return { execution, container, run: await runHolding(date) };
    };
    const slow = await runFor('2021-05-01');
    const stopped = await runFor('2021-05-02');
    expect((await session.reconciler.reconcile()).ended).toEqual([]);

    slow.container.child.kill('SIGKILL');
    fake.endAttempt(slow.execution, 0, 'timeout');
    stopped.container.child.kill('SIGKILL');
    fake.endAttempt(stopped.execution, 0, 'cancelled');
    const ended = new Map((await session.reconciler.reconcile()).ended.map((e) => [e.run.id, e.dead]));
    expect(ended.get(slow.run.id)).toMatchObject({
      status: 'failed',
      reason: expect.stringContaining('timed out (signal 15): The task has been running for longer than its configured timeout'),
    });
    expect(ended.get(stopped.run.id)).toMatchObject({ status: 'cancelled', reason: expect.stringContaining('was cancelled') });
    release();
    fake.onTaskAttempt = undefined;
    expect(existsSync(join(project.root, 'hold'))).toBe(false);
  }, 60_000);
});
