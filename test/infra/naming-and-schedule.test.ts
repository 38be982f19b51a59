import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import { isValidCloudRunName, jobNameFor } from '../../src/cloud/naming.ts';
import { runJobUrl } from '../../src/cloud/naming.ts';
import { cronFor, scheduledTriggers, schedulerRunBody } from '../../src/cloud/scheduler-jobs.ts';
import type { ScheduleTrigger, Trigger } from '../../src/project/model.ts';

describe('jobNameFor', () => {
  it('turns underscores into hyphens and lower-cases', () => {
    expect(jobNameFor('pipekit', 'yellow_taxi_to_postgres')).toBe('pipekit-yellow-taxi-to-postgres');
    expect(jobNameFor('pk', 'Green__Taxi')).toBe('pk-green-taxi');
  });

  it('always gives a valid Cloud Run name of at most 63 characters, stable and distinct for long names', () => {
    const a = jobNameFor('pipekit', `${'very_long_pipeline_name_'.repeat(4)}a`);
    const b = jobNameFor('pipekit', `${'very_long_pipeline_name_'.repeat(4)}b`);
    for (const name of [a, b, jobNameFor('pipekit', '_x_'), jobNameFor('pipekit', '9lives')]) {
      expect(isValidCloudRunName(name), name).toBe(true);
    }
    expect(a.length).toBeLessThanOrEqual(63);
    expect(a).not.toBe(b);
    expect(jobNameFor('pipekit', `${'very_long_pipeline_name_'.repeat(4)}a`)).toBe(a);
  });
});

const trigger = (schedule: string, extra: Partial<ScheduleTrigger> = {}): ScheduleTrigger => ({
  type: 'schedule',
  name: 't',
  schedule,
  timezone: 'UTC',
  variables: {},
  enabled: true,
  ...extra,
});

describe('schedules', () => {
  it('maps Mage presets to cron (weekly is Monday, as in Mage)', () => {
    expect(cronFor(trigger('@hourly'))).toBe('0 * * * *');
    expect(cronFor(trigger('@daily'))).toBe('0 0 * * *');
    expect(cronFor(trigger('@weekly'))).toBe('0 0 * * 1');
    expect(cronFor(trigger('@monthly'))).toBe('0 0 1 * *');
    expect(cronFor(trigger('15 3 * * 2'))).toBe('15 3 * * 2');
  });

  it('gives @once no cron: Cloud Scheduler only repeats', () => {
    expect(cronFor(trigger('@once'))).toBeUndefined();
  });

  it('rejects schedules Cloud Scheduler cannot take', () => {
    expect(() => cronFor(trigger('every day'))).toThrow(ConfigError);
  });

  it('keeps schedule triggers only, paused when disabled', () => {
    const triggers: Trigger[] = [
      trigger('@daily', { name: 'on' }),
      trigger('@daily', { name: 'off', enabled: false }),
      trigger('@once', { name: 'once' }),
      { type: 'api', name: 'api', variables: {}, enabled: true },
      { type: 'gcs', name: 'gcs', bucket: 'b', prefix: '', variables: {}, enabled: true },
    ];
    const result = scheduledTriggers({ triggers, file: 'pipeline.yaml' });
    expect(result.map((s) => [s.trigger.name, s.paused])).toEqual([
      ['on', false],
      ['off', true],
    ]);
  });

  it('encodes the run body as base64 JSON with the trigger name', () => {
    expect(JSON.parse(Buffer.from(schedulerRunBody('yellow_taxi', 'daily'), 'base64').toString())).toEqual({
      overrides: { containerOverrides: [{ args: ['run', 'yellow_taxi', '--trigger', 'daily'] }] },
    });
    expect(runJobUrl('p', 'r', 'j')).toBe('https://run.googleapis.com/v2/projects/p/locations/r/jobs/j:run');
  });
});
