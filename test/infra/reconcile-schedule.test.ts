import { describe, expect, it } from 'vitest';
import { deployStack, makePipelinesDir, PROJECT, REGION, taxiPipelineYaml } from './harness.ts';

describe('the cloud reconciler', () => {
  it('runs `reconcile` in a pipeline job every 10 minutes, and lets the jobs read the executions and tasks of every job', async () => {
    const stack = await deployStack(
      makePipelinesDir({ yellow_taxi: taxiPipelineYaml('yellow_taxi'), green_taxi: taxiPipelineYaml('green_taxi') }),
    );
    const scheduler = stack.ofType('gcp:cloudscheduler/job:Job').find((s) => s.inputs.name === 'pipekit-reconcile')!;
    expect(scheduler.inputs).toMatchObject({ schedule: '*/10 * * * *', timeZone: 'UTC', region: REGION });
    expect(scheduler.inputs.httpTarget).toMatchObject({
      httpMethod: 'POST',
      uri: `https://run.googleapis.com/v2/projects/${PROJECT}/locations/${REGION}/jobs/pipekit-green-taxi:run`,
      oauthToken: { serviceAccountEmail: `pipekit-scheduler@${PROJECT}.iam.gserviceaccount.com` },
    });
    expect(JSON.parse(Buffer.from(scheduler.inputs.httpTarget.body, 'base64').toString('utf8'))).toEqual({
      overrides: { containerOverrides: [{ args: ['reconcile'] }] },
    });
    const viewers = stack.ofType('gcp:cloudrunv2/jobIamMember:JobIamMember').filter((b) => b.inputs.role === 'roles/run.viewer');
    const jobs = `serviceAccount:pipekit-jobs@${PROJECT}.iam.gserviceaccount.com`;
    expect(
      viewers
        .filter((b) => b.inputs.member === jobs)
        .map((b) => b.inputs.name)
        .sort(),
    ).toEqual(['pipekit-green-taxi', 'pipekit-yellow-taxi']);
  });
});
