import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planRun } from '../../src/engine/run-plan.ts';
import type { Session } from '../../src/engine/session.ts';
import { createTempProject, TINY_PIPELINE, type TempProject } from '../console/project-fixture.ts';

let project: TempProject;
let session: Session;

beforeAll(async () => {
  project = await createTempProject('dedupe', {
    nightly: {
      ...TINY_PIPELINE,
      triggers: [
        { name: 'every_day', schedule: '@daily', timezone: 'America/New_York' },
        { name: 'every_hour', schedule: '@hourly' },
      ],
    },
  });
  session = await project.open();
});

afterAll(async () => {
  await session?.close();
  await project?.dispose();
});

async function fire(trigger: string, now: string) {
  const pipeline = session.pipeline('nightly');
  return session.runPipeline({ pipeline, plan: planRun(pipeline, { trigger, now: new Date(now) }) });
}

describe('a scheduler tick delivered twice runs once (real run store)', () => {
  it('the second delivery of the same tick returns duplicate and records nothing', async () => {
    const first = await fire('every_day', '2026-03-08T05:00:00Z');
    expect(first.status).toBe('succeeded');
    expect(first.run!.executionDate.toISOString()).toBe('2026-03-08T05:00:00.000Z');
    expect(first.run!.intervalEnd.toISOString()).toBe('2026-03-09T04:00:00.000Z');

    // Cloud Scheduler retried 20 minutes later: same tick, same dedupe key.
    const second = await fire('every_day', '2026-03-08T05:20:00Z');
    expect(second.status).toBe('duplicate');
    expect(second.run).toBeNull();

    const runs = await session.store.listRuns({ pipeline: 'nightly' });
    expect(runs.filter((r) => r.trigger === 'every_day')).toHaveLength(1);
  });

  it('the next tick, another trigger, or a manual run are not duplicates', async () => {
    expect((await fire('every_day', '2026-03-09T04:00:00Z')).status).toBe('succeeded');
    expect((await fire('every_hour', '2026-03-08T05:00:00Z')).status).toBe('succeeded');
    const pipeline = session.pipeline('nightly');
    const plan = planRun(pipeline, { executionDate: new Date('2026-03-08T05:00:00Z') });
    expect(plan.dedupeKey).toBeNull();
  });

  it('the same tick fired concurrently creates exactly one run', async () => {
    const results = await Promise.all([fire('every_hour', '2026-03-10T10:05:00Z'), fire('every_hour', '2026-03-10T10:06:00Z')]);
    expect(results.map((r) => r.status).sort()).toEqual(['duplicate', 'succeeded']);
  });
});
