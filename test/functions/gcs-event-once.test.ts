import type { ChildProcess } from 'node:child_process';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { CloudEvent, HTTP } from 'cloudevents';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSession, type Session } from '../../src/engine/session.ts';
import { spawnPipekit } from '../support/cli-process.ts';
import { createTestDatabase, type TestDatabase } from '../support/postgres.ts';
import { createTestProject, type TestProject } from '../support/project.ts';
import { startRunApiFake, type RunApiFake, type TaskAttemptStart } from '../support/run-api-fake.ts';

/**
 * Eventarc delivers at least once, and redelivers when the function fails:
 * the same CloudEvent reaching gcsTrigger twice starts two executions, and
 * the jobs — deduplicating on the event id — record exactly one run.
 */
let db: TestDatabase;
let project: TestProject;
let session: Session;
let fake: RunApiFake;
const children: ChildProcess[] = [];
const saved = { ...process.env };

beforeAll(async () => {
  fake = await startRunApiFake();
  db = await createTestDatabase('gcs_event_once');
  project = createTestProject('gcs-event-once', db.profileValues, {
    'blocks/count.ts': `import { loader } from 'pipekit';\nexport default loader(async (ctx) => ({ rows: 1, target: String((ctx.variables.event as { uri: string }).uri) }));`,
    'landed/pipeline.yaml': `blocks:
  - { uuid: count, kind: loader, file: blocks/count.ts }
triggers:
  - { name: on_upload, gcs: { bucket: landing, prefix: taxi/ } }
`,
  });
  Object.assign(process.env, {
    PIPEKIT_PROJECT: project.root,
    PIPEKIT_JOB_PREFIX: 'pk',
    GOOGLE_CLOUD_PROJECT: 'demo-project',
    PIPEKIT_REGION: 'europe-west1',
    PIPEKIT_API_TOKEN: 'test-token-0123456789',
    PIPEKIT_RUN_API_ENDPOINT: fake.url,
  });
  await import('../../functions/index.ts');
  session = await openSession({ projectRoot: project.root, profile: 'test', env: {} });
});

afterAll(async () => {
  process.env = saved;
  for (const child of children) child.kill('SIGKILL');
  await session?.close();
  await fake?.close();
  await db?.drop();
  project?.remove();
});

const finalized = (id: string) =>
  new CloudEvent({
    id,
    type: 'google.cloud.storage.object.v1.finalized',
    source: '//storage.googleapis.com/projects/_/buckets/landing',
    subject: 'objects/taxi/2021-01.csv',
    data: { bucket: 'landing', name: 'taxi/2021-01.csv', size: '10', generation: '1' },
  });

const deliver = (event: CloudEvent<unknown>) => {
  const message = HTTP.binary(event);
  return request(getTestServer('gcsTrigger'))
    .post('/')
    .set(message.headers as Record<string, string>)
    .send(message.body as string);
};

const container = (start: TaskAttemptStart) =>
  spawnPipekit(
    start.args,
    {
      ...start.env,
      PIPEKIT_PROJECT: project.root,
      PIPEKIT_PROFILE: 'test',
      GOOGLE_CLOUD_PROJECT: 'demo-project',
      PIPEKIT_REGION: 'europe-west1',
    },
    children,
  );

describe('a GCS event delivered twice', () => {
  it('starts exactly one run; another event starts another', async () => {
    const attempts: TaskAttemptStart[] = [];
    fake.onTaskAttempt = (start) => attempts.push(start);
    expect((await deliver(finalized('event-1'))).status).toBe(204);
    expect((await deliver(finalized('event-1'))).status).toBe(204);
    await expect.poll(() => attempts.length).toBe(2);
    expect(attempts.map((a) => a.args.slice(0, 6))).toEqual([
      ['run', 'landed', '--trigger', 'on_upload', '--event-id', 'event-1'],
      ['run', 'landed', '--trigger', 'on_upload', '--event-id', 'event-1'],
    ]);
    const both = await Promise.all(attempts.map((a) => container(a).done));
    expect(both.map((r) => r.code)).toEqual([0, 0]);
    expect(both.filter((r) => r.stdout.includes('already has a run'))).toHaveLength(1);
    const runs = await session.store.listRuns({ pipeline: 'landed' });
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: 'succeeded', trigger: 'on_upload', dedupeKey: 'landed:on_upload:event:event-1' });

    expect((await deliver(finalized('event-2'))).status).toBe(204);
    await expect.poll(() => attempts.length).toBe(3);
    expect((await container(attempts[2]!).done).code).toBe(0);
    expect(await session.store.listRuns({ pipeline: 'landed' })).toHaveLength(2);
  }, 60_000);
});
