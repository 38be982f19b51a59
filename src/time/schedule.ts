import { Cron } from 'croner';

/**
 * Schedules are evaluated in the trigger's IANA time zone, so `@daily` in
 * America/New_York ticks at local midnight on both sides of a DST change
 * (Mage's scheduler is UTC-only: users' most common timezone complaint).
 */
export const PRESET_CRON: Readonly<Record<string, string>> = Object.freeze({
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  // Mage's @weekly starts on Monday (cron's own would be Sunday).
  '@weekly': '0 0 * * 1',
  '@monthly': '0 0 1 * *',
});

export interface Interval {
  readonly start: Date;
  readonly end: Date;
}

/** The cron expression behind a schedule, or null for `@once`. */
export function cronOf(schedule: string): string | null {
  if (schedule === '@once') return null;
  return PRESET_CRON[schedule] ?? schedule;
}

/** Throws a plain Error with croner's reason when the schedule is not valid. */
export function assertValidSchedule(schedule: string, timezone: string): void {
  assertValidTimezone(timezone);
  const cron = cronOf(schedule);
  if (cron === null) return;
  if (schedule.startsWith('@') && !PRESET_CRON[schedule]) {
    throw new Error(`unknown preset ${schedule}: use @once, @hourly, @daily, @weekly, @monthly or a cron expression`);
  }
  new Cron(cron, { timezone, paused: true });
}

export function assertValidTimezone(timezone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw new Error(`unknown time zone ${JSON.stringify(timezone)}: use an IANA name such as UTC or America/New_York`);
  }
}

function cronFor(schedule: string, timezone: string): Cron {
  const cron = cronOf(schedule);
  if (cron === null) throw new Error('@once has no ticks');
  return new Cron(cron, { timezone, paused: true });
}

/**
 * The latest tick at or before `now`: the execution_date of a scheduled run
 * (Mage: the start of the interval that has just begun).
 */
export function latestTick(schedule: string, timezone: string, now: Date): Date {
  if (schedule === '@once') return new Date(now.getTime());
  const cron = cronFor(schedule, timezone);
  // croner's previousRuns excludes the reference itself, so a run fired exactly
  // on the tick would get the previous one: check the following tick too.
  const [previous] = cron.previousRuns(1, now);
  if (!previous) throw new Error(`schedule ${schedule} has no tick before ${now.toISOString()}`);
  const following = cron.nextRun(previous);
  return following && following.getTime() <= now.getTime() ? following : previous;
}

/** The first tick strictly after `date`. */
export function nextTick(schedule: string, timezone: string, date: Date): Date | null {
  if (schedule === '@once') return null;
  return cronFor(schedule, timezone).nextRun(date);
}

/** The tick before `date` (strictly). */
export function previousTick(schedule: string, timezone: string, date: Date): Date | null {
  if (schedule === '@once') return null;
  return cronFor(schedule, timezone).previousRuns(1, date)[0] ?? null;
}

/** The interval a tick opens: [tick, next tick). Null for `@once`. */
export function intervalOf(schedule: string, timezone: string, tick: Date): Interval | null {
  const end = nextTick(schedule, timezone, tick);
  return end ? { start: tick, end } : null;
}
