import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloudTargetFromEnv } from '../../src/cloud/job-launcher.ts';
import { setSchedulerPaused } from '../../src/cloud/scheduler.ts';
import { startRunApiFake, type RunApiFake } from '../support/run-api-fake.ts';

/** Cloud Scheduler is not in every Cloud Run region: the console must toggle the jobs where infra put them. */
let fake: RunApiFake;
beforeAll(async () => {
  fake = await startRunApiFake();
});
afterAll(() => fake?.close());

const ENV = { PIPEKIT_JOB_PREFIX: 'pk', GOOGLE_CLOUD_PROJECT: 'demo', PIPEKIT_REGION: 'europe-north2' };

describe('the console pauses a trigger', () => {
  it('in PIPEKIT_SCHEDULER_REGION when infra set one', async () => {
    const env = { ...ENV, PIPEKIT_SCHEDULER_REGION: 'europe-west1', PIPEKIT_SCHEDULER_API_ENDPOINT: fake.url };
    await setSchedulerPaused(cloudTargetFromEnv(env)!, 'green_taxi', 'daily', true, { env });
    expect(fake.requests.at(-1)!.path).toBe('/v1/projects/demo/locations/europe-west1/jobs/pk-green-taxi-daily:pause');
  });

  it('in the Cloud Run region otherwise', async () => {
    const env = { ...ENV, PIPEKIT_SCHEDULER_API_ENDPOINT: fake.url };
    await setSchedulerPaused(cloudTargetFromEnv(env)!, 'green_taxi', 'daily', false, { env });
    expect(fake.requests.at(-1)!.path).toBe('/v1/projects/demo/locations/europe-north2/jobs/pk-green-taxi-daily:resume');
  });
});
