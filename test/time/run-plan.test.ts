import { describe, expect, it } from 'vitest';
import { planRun } from '../../src/engine/run-plan.ts';
import { resolveVariables, runtimeValues } from '../../src/engine/variables.ts';
import type { PipelineSpec, Trigger } from '../../src/project/model.ts';
import { DEFAULT_RESOURCES, DEFAULT_RETRY } from '../../src/project/model.ts';
import { backfillSlots, parseDateArg } from '../../src/time/backfill-range.ts';

function pipeline(triggers: Trigger[], variables: Record<string, unknown> = {}): PipelineSpec {
  return {
    name: 'p',
    file: '/x/p/pipeline.yaml',
    blocks: [],
    variables,
    profileVariables: { cloud: { bucket: 'prod' } },
    triggers,
    retry: DEFAULT_RETRY,
    concurrency: 1,
    resources: DEFAULT_RESOURCES,
    tags: [],
  };
}
const schedule = (name: string, s: string, timezone = 'UTC'): Trigger => ({
  type: 'schedule',
  name,
  schedule: s,
  timezone,
  variables: { from: name },
  enabled: true,
});
const iso = (d: Date) => d.toISOString();

describe('execution_date and interval of a scheduled run (Mage: the interval that has just begun)', () => {
  const now = new Date('2021-01-13T10:17:42Z'); // a Wednesday
  const cases: [string, string, string, string][] = [
    ['@hourly', '0 * * * *', '2021-01-13T10:00:00.000Z', '2021-01-13T11:00:00.000Z'],
    ['@daily', '', '2021-01-13T00:00:00.000Z', '2021-01-14T00:00:00.000Z'],
    ['@weekly', '', '2021-01-11T00:00:00.000Z', '2021-01-18T00:00:00.000Z'],
    ['@monthly', '', '2021-01-01T00:00:00.000Z', '2021-02-01T00:00:00.000Z'],
    ['30 5 * * *', '', '2021-01-13T05:30:00.000Z', '2021-01-14T05:30:00.000Z'],
  ];
  for (const [s, , start, end] of cases) {
    it(`${s}`, () => {
      const plan = planRun(pipeline([schedule('t', s)]), { trigger: 't', now });
      expect(iso(plan.executionDate)).toBe(start);
      expect(iso(plan.intervalStart)).toBe(start);
      expect(iso(plan.intervalEnd)).toBe(end);
      expect(plan.trigger).toBe('t');
      expect(plan.triggerVariables).toEqual({ from: 't' });
      expect(plan.dedupeKey).toBe(`p:t:${start}`);
    });
  }

  it('@once runs now and dedupes forever', () => {
    const plan = planRun(pipeline([schedule('once', '@once')]), { trigger: 'once', now });
    expect(plan.executionDate).toEqual(now);
    expect(plan.dedupeKey).toBe('p:once:once');
  });

  it('a tick delivered exactly on time is that tick', () => {
    const plan = planRun(pipeline([schedule('t', '@daily')]), { trigger: 't', now: new Date('2021-01-13T00:00:00Z') });
    expect(iso(plan.executionDate)).toBe('2021-01-13T00:00:00.000Z');
  });

  it('@daily in a time zone ticks at local midnight', () => {
    const plan = planRun(pipeline([schedule('ny', '@daily', 'America/New_York')]), { trigger: 'ny', now });
    expect(iso(plan.executionDate)).toBe('2021-01-13T05:00:00.000Z');
  });

  it('a manual run covers the day from its execution date', () => {
    const plan = planRun(pipeline([]), { executionDate: parseDateArg('2021-01-15') });
    expect([iso(plan.executionDate), iso(plan.intervalEnd), plan.trigger, plan.dedupeKey]).toEqual([
      '2021-01-15T00:00:00.000Z',
      '2021-01-16T00:00:00.000Z',
      'manual',
      null,
    ]);
  });

  it('names an unknown trigger', () => {
    expect(() => planRun(pipeline([schedule('daily', '@daily')]), { trigger: 'hourly' })).toThrow(/no trigger "hourly"[\s\S]*/);
  });
});

describe('runtime variables', () => {
  it('gives ds, hr and templated variables, profile overrides then trigger then run values', () => {
    const runtime = runtimeValues({
      executionDate: new Date('2021-01-15T07:00:00Z'),
      intervalStart: new Date('2021-01-15T07:00:00Z'),
      intervalEnd: new Date('2021-01-16T07:00:00Z'),
      profile: 'cloud',
      pipeline: 'p',
      runId: 'r1',
      trigger: 'daily',
    });
    expect([runtime.ds, runtime.hr]).toEqual(['2021-01-15', '07']);
    const vars = resolveVariables(
      pipeline([], { bucket: 'dev', key: "{{ execution_date | date('%Y/%m/%d') }}/daily-trips.parquet", a: 1 }),
      'cloud',
      { a: 2 },
      { a: 3 },
      runtime,
      {},
    );
    expect(vars).toEqual({ bucket: 'prod', key: '2021/01/15/daily-trips.parquet', a: 3 });
  });
});

describe('backfill dates (end included, like Mage)', () => {
  const d = (s: string) => parseDateArg(s);
  it('daily: Jan 1 → Jan 7 is 7 runs with one-day intervals', () => {
    const slots = backfillSlots(d('2021-01-01'), d('2021-01-07'), 'day');
    expect(slots).toHaveLength(7);
    expect(iso(slots.at(-1)!.executionDate)).toBe('2021-01-07T00:00:00.000Z');
    expect(iso(slots.at(-1)!.intervalEnd)).toBe('2021-01-08T00:00:00.000Z');
  });
  it('hourly, weekly, monthly and cron', () => {
    expect(backfillSlots(d('2021-01-01'), d('2021-01-01T05:00'), 'hour')).toHaveLength(6);
    expect(backfillSlots(d('2021-01-01'), d('2021-01-29'), 'week')).toHaveLength(5);
    const months = backfillSlots(d('2021-01-31'), d('2021-04-30'), 'month').map((s) => iso(s.executionDate).slice(0, 10));
    expect(months).toEqual(['2021-01-31', '2021-02-28', '2021-03-28', '2021-04-28']);
    const cron = backfillSlots(d('2021-01-01'), d('2021-01-03T23:59'), { cron: '0 5 * * *', timezone: 'UTC' });
    expect(cron.map((s) => iso(s.executionDate))).toEqual([
      '2021-01-01T05:00:00.000Z',
      '2021-01-02T05:00:00.000Z',
      '2021-01-03T05:00:00.000Z',
    ]);
  });
  it('a single date and a reversed range', () => {
    expect(backfillSlots(d('2021-01-01'), d('2021-01-01'), 'day')).toHaveLength(1);
    expect(() => backfillSlots(d('2021-01-02'), d('2021-01-01'), 'day')).toThrow(/before the start/);
  });
});
