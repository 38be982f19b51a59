import { describe, expect, it } from 'vitest';
import { intervalOf, latestTick, nextTick } from '../../src/time/schedule.ts';

const at = (iso: string) => new Date(iso);
const tick = (schedule: string, timezone: string, now: string) => latestTick(schedule, timezone, at(now)).toISOString();

describe('latestTick: the execution_date of a scheduled run', () => {
  it.each([
    ['@hourly', 'UTC', '2026-01-15T10:42:00Z', '2026-01-15T10:00:00.000Z'],
    ['@daily', 'UTC', '2026-01-15T10:42:00Z', '2026-01-15T00:00:00.000Z'],
    // Mage's @weekly starts on Monday: Thursday 15 Jan 2026 → Monday 12 Jan.
    ['@weekly', 'UTC', '2026-01-15T10:42:00Z', '2026-01-12T00:00:00.000Z'],
    ['@weekly', 'UTC', '2026-01-11T23:59:59Z', '2026-01-05T00:00:00.000Z'],
    ['@monthly', 'UTC', '2026-01-15T10:42:00Z', '2026-01-01T00:00:00.000Z'],
    ['*/15 * * * *', 'UTC', '2026-01-15T10:42:00Z', '2026-01-15T10:30:00.000Z'],
    ['0 6 * * 1-5', 'UTC', '2026-01-18T12:00:00Z', '2026-01-16T06:00:00.000Z'],
  ])('%s in %s at %s → %s', (schedule, tz, now, expected) => {
    expect(tick(schedule, tz, now)).toBe(expected);
  });

  it('@once runs for the moment it is started', () => {
    expect(tick('@once', 'UTC', '2026-01-15T10:42:13Z')).toBe('2026-01-15T10:42:13.000Z');
    expect(intervalOf('@once', 'UTC', at('2026-01-15T10:42:13Z'))).toBeNull();
  });

  it('a run fired exactly on the tick gets that tick, not the previous one', () => {
    expect(tick('@daily', 'UTC', '2026-01-15T00:00:00Z')).toBe('2026-01-15T00:00:00.000Z');
    expect(tick('@hourly', 'UTC', '2026-01-15T10:00:00Z')).toBe('2026-01-15T10:00:00.000Z');
    expect(tick('@weekly', 'UTC', '2026-01-12T00:00:00Z')).toBe('2026-01-12T00:00:00.000Z');
    expect(tick('@monthly', 'Europe/Berlin', '2026-01-31T23:00:00Z')).toBe('2026-01-31T23:00:00.000Z');
    // A millisecond before the tick still belongs to the previous interval.
    expect(tick('@daily', 'UTC', '2026-01-14T23:59:59.999Z')).toBe('2026-01-14T00:00:00.000Z');
  });

  it('a late delivery (Cloud Scheduler retry minutes later) maps to the same tick', () => {
    expect(tick('@hourly', 'UTC', '2026-01-15T10:07:30Z')).toBe(tick('@hourly', 'UTC', '2026-01-15T10:00:00Z'));
  });
});

describe('intervals', () => {
  it.each([
    ['@hourly', '2026-01-15T10:00:00Z', '2026-01-15T11:00:00.000Z'],
    ['@daily', '2026-01-15T00:00:00Z', '2026-01-16T00:00:00.000Z'],
    ['@weekly', '2026-01-12T00:00:00Z', '2026-01-19T00:00:00.000Z'],
    ['@monthly', '2026-02-01T00:00:00Z', '2026-03-01T00:00:00.000Z'],
  ])('%s from %s ends at %s', (schedule, start, end) => {
    expect(intervalOf(schedule, 'UTC', at(start))).toEqual({ start: at(start), end: at(end) });
  });
});

describe('time zones across the 2026 US DST changes (America/New_York)', () => {
  const NY = 'America/New_York';

  it('@daily ticks at local midnight on both sides of 8 March (spring forward)', () => {
    expect(tick('@daily', NY, '2026-03-07T12:00:00Z')).toBe('2026-03-07T05:00:00.000Z'); // EST, UTC-5
    expect(tick('@daily', NY, '2026-03-08T12:00:00Z')).toBe('2026-03-08T05:00:00.000Z');
    expect(tick('@daily', NY, '2026-03-09T12:00:00Z')).toBe('2026-03-09T04:00:00.000Z'); // EDT, UTC-4
    // 8 March has 23 hours.
    const day = intervalOf('@daily', NY, at('2026-03-08T05:00:00Z'))!;
    expect(day.end.getTime() - day.start.getTime()).toBe(23 * 3_600_000);
  });

  it('@daily on 1 November (fall back) has 25 hours and ticks once', () => {
    expect(tick('@daily', NY, '2026-11-01T12:00:00Z')).toBe('2026-11-01T04:00:00.000Z');
    const day = intervalOf('@daily', NY, at('2026-11-01T04:00:00Z'))!;
    expect(day.end.toISOString()).toBe('2026-11-02T05:00:00.000Z');
    expect(day.end.getTime() - day.start.getTime()).toBe(25 * 3_600_000);
  });

  it('@hourly skips the missing 02:00 in March and ticks both 01:00s in November', () => {
    const hours = (from: string, n: number) => {
      const out: string[] = [];
      let d = at(from);
      for (let i = 0; i < n; i++) out.push((d = nextTick('@hourly', NY, d)!).toISOString());
      return out;
    };
    // 01:00 EST (06:00Z) is followed by 03:00 EDT (07:00Z): one tick per real hour.
    expect(hours('2026-03-08T05:00:00Z', 3)).toEqual(['2026-03-08T06:00:00.000Z', '2026-03-08T07:00:00.000Z', '2026-03-08T08:00:00.000Z']);
    // 01:00 EDT (05:00Z) and 01:00 EST (06:00Z): still one tick per real hour, none doubled or lost.
    expect(hours('2026-11-01T03:00:00Z', 4)).toEqual([
      '2026-11-01T04:00:00.000Z',
      '2026-11-01T05:00:00.000Z',
      '2026-11-01T06:00:00.000Z',
      '2026-11-01T07:00:00.000Z',
    ]);
    expect(tick('@hourly', NY, '2026-11-01T06:30:00Z')).toBe('2026-11-01T06:00:00.000Z');
  });

  it('a daily job inside the repeated hour (01:30) runs once on 1 November', () => {
    const first = tick('30 1 * * *', NY, '2026-11-01T05:45:00Z');
    expect(first).toBe('2026-11-01T05:30:00.000Z');
    // The second 01:30 (EST) gives the same execution date, so its dedupe key matches: no second run.
    expect(tick('30 1 * * *', NY, '2026-11-01T06:30:00Z')).toBe(first);
    expect(nextTick('30 1 * * *', NY, at(first))!.toISOString()).toBe('2026-11-02T06:30:00.000Z');
  });

  it('a daily job inside the skipped hour (02:30) still runs on 8 March', () => {
    const march8 = tick('30 2 * * *', NY, '2026-03-08T12:00:00Z');
    expect(march8.startsWith('2026-03-08T07:')).toBe(true);
    expect(tick('30 2 * * *', NY, '2026-03-07T12:00:00Z')).toBe('2026-03-07T07:30:00.000Z');
    expect(tick('30 2 * * *', NY, '2026-03-09T12:00:00Z')).toBe('2026-03-09T06:30:00.000Z');
  });

  it('@weekly and @monthly follow local midnight across the change', () => {
    expect(tick('@weekly', NY, '2026-03-10T00:00:00Z')).toBe('2026-03-09T04:00:00.000Z');
    expect(tick('@monthly', NY, '2026-11-20T00:00:00Z')).toBe('2026-11-01T04:00:00.000Z');
    expect(tick('@monthly', NY, '2026-12-20T00:00:00Z')).toBe('2026-12-01T05:00:00.000Z');
  });
});

describe('a European zone (Europe/Berlin: 29 March and 25 October 2026)', () => {
  const BERLIN = 'Europe/Berlin';

  it('@daily is local midnight, CET then CEST', () => {
    expect(tick('@daily', BERLIN, '2026-03-28T12:00:00Z')).toBe('2026-03-27T23:00:00.000Z');
    expect(tick('@daily', BERLIN, '2026-03-29T23:30:00Z')).toBe('2026-03-29T22:00:00.000Z');
    expect(tick('@daily', BERLIN, '2026-10-26T12:00:00Z')).toBe('2026-10-25T23:00:00.000Z');
  });

  it('a cron at 02:30 on the spring-forward day still ticks once', () => {
    const t = tick('30 2 * * *', BERLIN, '2026-03-29T12:00:00Z');
    expect(t.startsWith('2026-03-29T01:')).toBe(true);
  });

  it('@monthly on the first of the month, local time', () => {
    expect(tick('@monthly', BERLIN, '2026-04-15T00:00:00Z')).toBe('2026-03-31T22:00:00.000Z');
  });
});
