import { describe, expect, it } from 'vitest';
import { MAX_TASKS, startCloudBackfill } from '../../src/cloud/backfill.ts';
import type { JobLaunch, JobLauncher } from '../../src/cloud/job-launcher.ts';
import { ConnectionError, InvalidInputError } from '../../src/errors.ts';
import type { PipelineSpec } from '../../src/project/model.ts';
import type { BackfillRecord } from '../../src/runs/model.ts';

/** Only what startCloudBackfill reads of a pipeline. */
const pipeline = (parallelism: number) => ({ name: 'green_taxi', resources: { parallelism } }) as unknown as PipelineSpec;

function recorder(fail?: Error) {
  const launches: JobLaunch[] = [];
  const launcher: JobLauncher = {
    async launch(request) {
      launches.push(request);
      if (fail) throw fail;
      return { job: 'projects/p/locations/r/jobs/pk-green-taxi', execution: 'projects/p/locations/r/jobs/pk-green-taxi/executions/e1' };
    },
  };
  const backfills = new Map<string, Omit<BackfillRecord, 'createdAt' | 'finishedAt'> & { finishedAt?: Date | null }>();
  const store = {
    async createBackfill(b: Omit<BackfillRecord, 'status' | 'createdAt' | 'finishedAt'>) {
      backfills.set(b.id, { ...b, status: 'running' });
      return { ...b, status: 'running', createdAt: new Date(), finishedAt: null } as BackfillRecord;
    },
    async updateBackfill(id: string, patch: { status?: BackfillRecord['status']; finishedAt?: Date | null }) {
      backfills.set(id, { ...backfills.get(id)!, ...patch });
    },
  };
  return { launcher, launches, store, backfills };
}

const week = { start: new Date('2021-01-01T00:00:00Z'), end: new Date('2021-01-07T00:00:00Z'), every: 'day' };

describe('startCloudBackfill', () => {
  it('records the backfill with its dates before starting one execution, one task per date up to the job parallelism', async () => {
    const { launcher, launches, store, backfills } = recorder();
    const started = await startCloudBackfill({ ...week, pipeline: pipeline(4), variables: { color: 'green' } }, { launcher, store });
    expect(started).toMatchObject({ runs: 7, taskCount: 7, parallelism: 4, execution: expect.stringContaining('/executions/e1') });
    const record = backfills.get(started.backfillId)!;
    expect(record).toMatchObject({ pipeline: 'green_taxi', every: 'day', status: 'running', variables: { color: 'green' } });
    expect(record.executionDates).toHaveLength(7);
    expect(launches).toEqual([
      {
        pipeline: 'green_taxi',
        taskCount: 7,
        args: [
          'backfill',
          'green_taxi',
          '--start',
          '2021-01-01T00:00:00.000Z',
          '--end',
          '2021-01-07T00:00:00.000Z',
          '--every',
          'day',
          '--backfill-id',
          started.backfillId,
          '--var',
          'color=green',
        ],
      },
    ]);
  });

  it('asking for fewer at once gives fewer tasks, each running its share in sequence', async () => {
    const { launcher, launches } = recorder();
    const started = await startCloudBackfill({ ...week, pipeline: pipeline(4), parallelism: 2 }, { launcher });
    expect(started).toMatchObject({ runs: 7, taskCount: 2, parallelism: 2 });
    expect(launches[0]!.taskCount).toBe(2);
  });

  it(`refuses more than ${MAX_TASKS} runs naming the field and what to do, recording and starting nothing`, async () => {
    const { launcher, launches, store, backfills } = recorder();
    const hourly = { start: new Date('2020-01-01T00:00:00Z'), end: new Date('2021-12-31T00:00:00Z'), every: 'hour' };
    const error = await startCloudBackfill({ ...hourly, pipeline: pipeline(4) }, { launcher, store }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error).toMatchObject({
      field: 'end',
      message: expect.stringContaining(`more than Cloud Run's ${MAX_TASKS} tasks`),
      hint: expect.stringContaining('split the range'),
    });
    expect(launches).toEqual([]);
    expect(backfills.size).toBe(0);
  });

  it.each([
    [{ every: 'fortnight' }, 'every'],
    [{ every: '@once' }, 'every'],
    [{ timezone: 'Mars/Olympus' }, 'timezone'],
    [{ end: new Date('2020-12-31T00:00:00Z') }, 'end'],
  ])('bad input %j is an InvalidInputError on %s', async (change, field) => {
    const { launcher, launches } = recorder();
    await expect(startCloudBackfill({ ...week, ...change, pipeline: pipeline(4) }, { launcher })).rejects.toMatchObject({ field });
    expect(launches).toEqual([]);
  });

  it('takes the presets and cron expressions every other backfill takes', async () => {
    const { launcher } = recorder();
    await expect(startCloudBackfill({ ...week, every: '@daily', pipeline: pipeline(4) }, { launcher })).resolves.toMatchObject({ runs: 7 });
    await expect(
      startCloudBackfill({ ...week, every: '0 6 * * 1', timezone: 'Europe/Berlin', pipeline: pipeline(4) }, { launcher }),
    ).resolves.toMatchObject({ runs: 1 });
  });

  it('a launch that fails marks the recorded backfill failed instead of leaving it running', async () => {
    const { launcher, store, backfills } = recorder(new ConnectionError({ target: 'run', message: 'refused' }));
    await expect(startCloudBackfill({ ...week, pipeline: pipeline(4) }, { launcher, store })).rejects.toBeInstanceOf(ConnectionError);
    expect([...backfills.values()].map((b) => b.status)).toEqual(['failed']);
  });
});
