import { describe, expect, it } from 'vitest';
import { addPipeline, deployStack, makePipelinesDir, taxiPipelineYaml } from './harness.ts';

const jobNames = (stack: Awaited<ReturnType<typeof deployStack>>) =>
  stack
    .ofType('gcp:cloudrunv2/job:Job')
    .map((j) => j.inputs.name)
    .sort();
// The reconciler's schedule is there whenever a job is (infra/components/reconcile-schedule.ts): these tests are about triggers.
const schedulerNames = (stack: Awaited<ReturnType<typeof deployStack>>) =>
  stack
    .ofType('gcp:cloudscheduler/job:Job')
    .map((j) => j.inputs.name)
    .filter((n) => n !== 'pipekit-reconcile')
    .sort();

describe('pipeline.yaml is the single source of truth', () => {
  it('a new pipeline folder adds its job and scheduler without touching infra/', async () => {
    const dir = makePipelinesDir({ yellow_taxi: taxiPipelineYaml('yellow_taxi') });
    const before = await deployStack(dir);
    expect(jobNames(before)).toEqual(['pipekit-yellow-taxi']);
    expect(schedulerNames(before)).toEqual(['pipekit-yellow-taxi-daily']);

    addPipeline(
      dir,
      'green_taxi_to_gcs',
      taxiPipelineYaml('green_taxi_to_gcs', '  - { name: nightly, schedule: "0 2 * * *", timezone: UTC }'),
    );
    const after = await deployStack(dir);
    expect(jobNames(after)).toEqual(['pipekit-green-taxi-to-gcs', 'pipekit-yellow-taxi']);
    expect(schedulerNames(after)).toEqual(['pipekit-green-taxi-to-gcs-nightly', 'pipekit-yellow-taxi-daily']);
    const job = after.ofType('gcp:cloudrunv2/job:Job').find((j) => j.inputs.name === 'pipekit-green-taxi-to-gcs')!;
    expect(job.inputs.template.template.containers[0].args).toEqual(['run', 'green_taxi_to_gcs']);
  });

  it('a pipeline without triggers gets a job and no scheduler', async () => {
    const yaml = taxiPipelineYaml('manual_only').replace(/triggers:\n.*\n/, '');
    const stack = await deployStack(makePipelinesDir({ manual_only: yaml }));
    expect(jobNames(stack)).toEqual(['pipekit-manual-only']);
    expect(schedulerNames(stack)).toEqual([]);
  });

  it('reads the folder from pipekit:pipelinesDir when PIPEKIT_PIPELINES_DIR is not set', async () => {
    const dir = makePipelinesDir({ from_config: taxiPipelineYaml('from_config') });
    const stack = await deployStack('', { pipelinesDir: dir });
    expect(jobNames(stack)).toEqual(['pipekit-from-config']);
  });

  it("fails the preview with the loader's error when a pipeline.yaml is invalid", async () => {
    const dir = makePipelinesDir({ broken: taxiPipelineYaml('broken').replace('kind: loader', 'kind: loadr') });
    await expect(deployStack(dir)).rejects.toThrow(/broken[\\/]pipeline\.yaml/);
  });

  it('refuses two pipelines that would deploy as the same Cloud Run job', async () => {
    const dir = makePipelinesDir({ a_b: taxiPipelineYaml('a_b'), 'a-b': taxiPipelineYaml('a-b') });
    await expect(deployStack(dir)).rejects.toThrow(/would both deploy as Cloud Run job pipekit-a-b/);
  });
});
