import { getTestServer } from '@google-cloud/functions-framework/testing';
import { CloudEvent, HTTP } from 'cloudevents';
import request from 'supertest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { planTasks } from '../../src/cloud/backfill.ts';
import { startRunApiFake, type RunApiFake } from '../support/run-api-fake.ts';

const TOKEN = 'test-token-0123456789';
const JOB = 'projects/demo-project/locations/europe-west1/jobs';
let fake: RunApiFake;
let root: string;
const saved = { ...process.env };

/** A project folder with three pipelines: loaders only (the functions never import blocks). */
function writeProject(dir: string): void {
  writeFileSync(join(dir, 'io_config.yaml'), stringify({ version: 1, local: { WORKSPACE_URI: '.pipekit/workspace' } }));
  const pipelines: Record<string, unknown[]> = {
    yellow_taxi: [
      { name: 'on_upload', gcs: { bucket: 'landing', prefix: 'taxi/' } },
      { name: 'from_api', api: true, variables: { source: 'api' } },
    ],
    green_taxi: [
      { name: 'any_landing', gcs: { bucket: 'landing' } },
      { name: 'off', gcs: { bucket: 'landing', prefix: 'taxi/' }, enabled: false },
    ],
    weekly_report: [{ name: 'weekly', schedule: '@weekly' }],
  };
  for (const [name, triggers] of Object.entries(pipelines)) {
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, 'load.ts'), 'export default {};\n');
    writeFileSync(
      join(dir, name, 'pipeline.yaml'),
      stringify({ blocks: [{ uuid: 'load', kind: 'loader', file: `${name}/load.ts` }], triggers, resources: { parallelism: 4 } }),
    );
  }
}

beforeAll(async () => {
  fake = await startRunApiFake();
  root = mkdtempSync(join(tmpdir(), 'pipekit-functions-'));
  writeProject(root);
  Object.assign(process.env, {
    PIPEKIT_PROJECT: root,
    PIPEKIT_JOB_PREFIX: 'pk',
    GOOGLE_CLOUD_PROJECT: 'demo-project',
    PIPEKIT_REGION: 'europe-west1',
    PIPEKIT_API_TOKEN: TOKEN,
    PIPEKIT_RUN_API_ENDPOINT: fake.url,
  });
  await import('../../functions/index.ts');
});

afterEach(() => fake.reset());

afterAll(async () => {
  process.env = saved;
  await fake?.close();
  rmSync(root, { recursive: true, force: true });
});

const post = (fn: string, body: unknown, token: string | null = TOKEN) => {
  const r = request(getTestServer(fn)).post('/').set('content-type', 'application/json');
  return (token === null ? r : r.set('authorization', `Bearer ${token}`)).send(JSON.stringify(body));
};

describe('apiTrigger', () => {
  it('runs the pipeline job with the variables and execution date as container args', async () => {
    const res = await post('apiTrigger', {
      pipeline: 'yellow_taxi',
      variables: { month: '2021-01', color: 'yellow', limit: 5, note: '42' },
      execution_date: '2021-01-01',
    });
    expect(res.status).toBe(202);
    expect(res.body.execution).toBe(`${JOB}/pk-yellow-taxi/executions/pk-yellow-taxi-00001`);
    const [call] = fake.runJobs();
    expect(call!.job).toBe(`${JOB.replace('/jobs', '')}/jobs/pk-yellow-taxi`);
    expect(call!.args).toEqual([
      'run',
      'yellow_taxi',
      '--execution-date',
      '2021-01-01T00:00:00.000Z',
      '--var',
      'color=yellow',
      '--var',
      'limit=5',
      '--var',
      'month=2021-01',
      '--var',
      'note="42"',
    ]);
    expect(call!.taskCount).toBeUndefined();
    expect((call!.raw as { overrides: { containerOverrides: { clearArgs: boolean }[] } }).overrides.containerOverrides[0]!.clearArgs).toBe(
      false,
    );
  });

  it('passes an api trigger by name', async () => {
    const res = await post('apiTrigger', { pipeline: 'yellow_taxi', trigger: 'from_api' });
    expect(res.status).toBe(202);
    expect(fake.runJobs()[0]!.args).toEqual(['run', 'yellow_taxi', '--trigger', 'from_api']);
  });

  it.each([
    [{ variables: {} }, 'pipeline'],
    [{ pipeline: 'yellow_taxi', execution_date: 'yesterday' }, 'execution_date'],
    [{ pipeline: 'yellow_taxi', variables: ['a'] }, 'variables'],
    [{ pipeline: 'yellow_taxi', pipline: 'x' }, 'body'],
    [{ pipeline: 'yellow_taxi', trigger: 'weekly' }, 'trigger'],
  ])('400 naming the field for %j, nothing started', async (body, field) => {
    const res = await post('apiTrigger', body);
    expect(res.status).toBe(400);
    expect(res.body.error.field).toBe(field);
    expect(res.body.error.message).toMatch(field === 'body' ? /unknown field pipline/ : new RegExp(field));
    expect(fake.runJobs()).toHaveLength(0);
  });

  it('400 for a body that is not a JSON object', async () => {
    const res = await request(getTestServer('apiTrigger'))
      .post('/')
      .set('authorization', `Bearer ${TOKEN}`)
      .set('content-type', 'application/json')
      .send('[1,2]');
    expect(res.status).toBe(400);
    expect(fake.runJobs()).toHaveLength(0);
  });

  it('404 for an unknown pipeline, listing the known ones', async () => {
    const res = await post('apiTrigger', { pipeline: 'purple_taxi' });
    expect(res.status).toBe(404);
    expect(res.body.error.message).toContain('yellow_taxi');
    expect(fake.runJobs()).toHaveLength(0);
  });

  it.each([[null], ['wrong-token'], ['']])('401 for token %j, before the body is even read', async (token) => {
    const res = await post('apiTrigger', { pipeline: 'purple_taxi' }, token);
    expect(res.status).toBe(401);
    expect(fake.requests).toHaveLength(0);
  });

  it('refuses everything when no token is configured (fail closed)', async () => {
    delete process.env.PIPEKIT_API_TOKEN;
    try {
      const res = await post('apiTrigger', { pipeline: 'yellow_taxi' }, 'anything');
      expect(res.status).toBe(503);
      expect(res.body.error.message).toMatch(/PIPEKIT_API_TOKEN/);
      expect(fake.requests).toHaveLength(0);
    } finally {
      process.env.PIPEKIT_API_TOKEN = TOKEN;
    }
  });

  it('405 on GET', async () => {
    const res = await request(getTestServer('apiTrigger')).get('/').set('authorization', `Bearer ${TOKEN}`);
    expect(res.status).toBe(405);
  });

  it('404 when the pipeline has no deployed job', async () => {
    fake.missingJobs.add('pk-weekly-report');
    const res = await post('apiTrigger', { pipeline: 'weekly_report' });
    expect(res.status).toBe(404);
    expect(res.body.error.message).toMatch(/pk-weekly-report does not exist/);
  });
});

describe('backfill', () => {
  it('one execution, one task per day (end included), sharing a new backfill id', async () => {
    const res = await post('backfill', {
      pipeline: 'yellow_taxi',
      start: '2021-01-01',
      end: '2021-01-07',
      every: 'day',
      variables: { color: 'yellow' },
    });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ runs: 7, taskCount: 7, parallelism: 4 });
    expect(res.body.backfillId).toMatch(/^bf-\d{8}T\d{6}-[0-9a-f]{6}$/);
    const [call] = fake.runJobs();
    expect(call!.taskCount).toBe(7);
    expect(call!.args).toEqual([
      'backfill',
      'yellow_taxi',
      '--start',
      '2021-01-01T00:00:00.000Z',
      '--end',
      '2021-01-07T00:00:00.000Z',
      '--every',
      'day',
      '--backfill-id',
      res.body.backfillId,
      '--var',
      'color=yellow',
    ]);
  });

  it('a parallelism below the job’s gives that many tasks, each running its share in turn', async () => {
    const res = await post('backfill', { pipeline: 'yellow_taxi', start: '2021-01-01', end: '2021-01-10', every: 'day', parallelism: 2 });
    expect(res.body).toMatchObject({ runs: 10, taskCount: 2, parallelism: 2 });
    expect(fake.runJobs()[0]!.taskCount).toBe(2);
  });

  it('a cron step in a time zone', async () => {
    const res = await post('backfill', {
      pipeline: 'yellow_taxi',
      start: '2026-03-01',
      end: '2026-03-31',
      every: '0 6 * * 1',
      timezone: 'America/New_York',
    });
    expect(res.status).toBe(202);
    expect(res.body.runs).toBe(5);
    expect(fake.runJobs()[0]!.args).toContain('America/New_York');
  });

  it.each([
    [{ pipeline: 'yellow_taxi', start: '2021-01-07', end: '2021-01-01', every: 'day' }, 'end'],
    [{ pipeline: 'yellow_taxi', start: '2021-01-01', end: '2021-01-07' }, 'every'],
    [{ pipeline: 'yellow_taxi', start: '2021-01-01', end: '2021-01-07', every: 'fortnight' }, 'every'],
    [{ pipeline: 'yellow_taxi', start: '2021-01-01', end: '2021-01-07', every: '0 0 * * *', timezone: 'Mars/Olympus' }, 'timezone'],
    [{ pipeline: 'yellow_taxi', start: 'soon', end: '2021-01-07', every: 'day' }, 'start'],
    [{ pipeline: 'yellow_taxi', start: '2021-01-01', end: '2021-01-07', every: 'day', parallelism: 0 }, 'parallelism'],
    [{ pipeline: 'yellow_taxi', start: '2020-01-01', end: '2021-07-01', every: 'hour' }, 'end'],
  ])('400 for %j names %s, nothing started', async (body, field) => {
    const res = await post('backfill', body);
    expect(res.status).toBe(400);
    expect(res.body.error.field).toBe(field);
    expect(fake.runJobs()).toHaveLength(0);
  });

  it('401 and 404 start nothing', async () => {
    expect((await post('backfill', { pipeline: 'yellow_taxi', start: '2021-01-01', end: '2021-01-02', every: 'day' }, 'nope')).status).toBe(
      401,
    );
    expect((await post('backfill', { pipeline: 'nope', start: '2021-01-01', end: '2021-01-02', every: 'day' })).status).toBe(404);
    expect(fake.runJobs()).toHaveLength(0);
  });

  it('planTasks bounds what runs at once', () => {
    expect(planTasks(7, undefined, 4)).toEqual({ taskCount: 7, parallelism: 4 });
    expect(planTasks(3, undefined, 4)).toEqual({ taskCount: 3, parallelism: 3 });
    expect(planTasks(10, 2, 4)).toEqual({ taskCount: 2, parallelism: 2 });
    expect(planTasks(10, 8, 4)).toEqual({ taskCount: 10, parallelism: 4 });
  });
});

describe('gcsTrigger', () => {
  const finalized = (bucket: string, name: string) =>
    new CloudEvent({
      type: 'google.cloud.storage.object.v1.finalized',
      source: `//storage.googleapis.com/projects/_/buckets/${bucket}`,
      subject: `objects/${name}`,
      data: { bucket, name, size: '1234', contentType: 'text/csv', generation: '1700000000000000', timeCreated: '2026-01-01T00:00:00Z' },
    });
  const deliver = (event: CloudEvent<unknown>, mode: 'binary' | 'structured' = 'binary') => {
    const message = mode === 'binary' ? HTTP.binary(event) : HTTP.structured(event);
    return request(getTestServer('gcsTrigger'))
      .post('/')
      .set(message.headers as Record<string, string>)
      .send(message.body as string);
  };

  it('runs every pipeline whose enabled trigger matches bucket and prefix, with the object as --var event', async () => {
    const res = await deliver(finalized('landing', 'taxi/yellow_2021-01.csv.gz'));
    expect(res.status).toBe(204);
    const calls = fake.runJobs();
    expect(calls.map((c) => c.job.split('/').pop()).sort()).toEqual(['pk-green-taxi', 'pk-yellow-taxi']);
    const yellow = calls.find((c) => c.job.endsWith('pk-yellow-taxi'))!;
    expect(yellow.args.slice(0, 7)).toEqual(['run', 'yellow_taxi', '--trigger', 'on_upload', '--event-id', expect.any(String), '--var']);
    const event = JSON.parse(yellow.args[7]!.replace(/^event=/, ''));
    expect(yellow.args[5]).toBe(event.eventId);
    expect(event).toMatchObject({
      bucket: 'landing',
      name: 'taxi/yellow_2021-01.csv.gz',
      uri: 'gs://landing/taxi/yellow_2021-01.csv.gz',
      size: 1234,
      contentType: 'text/csv',
    });
  });

  it('structured mode works too; a prefix that does not match runs only the prefix-less trigger', async () => {
    const res = await deliver(finalized('landing', 'weather/today.json'), 'structured');
    expect(res.status).toBe(204);
    expect(fake.runJobs().map((c) => c.job.split('/').pop())).toEqual(['pk-green-taxi']);
  });

  it('no matching trigger: logged, nothing started', async () => {
    const res = await deliver(finalized('other-bucket', 'taxi/x.csv'));
    expect(res.status).toBe(204);
    expect(fake.requests).toHaveLength(0);
  });
});
