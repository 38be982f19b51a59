import { InvalidInputError } from '../errors.ts';
import { assertValidSchedule, assertValidTimezone, nextTick, PRESET_CRON } from './schedule.ts';

/** How a backfill steps from start to end. */
export type BackfillEvery = 'hour' | 'day' | 'week' | 'month' | { readonly cron: string; readonly timezone: string };

export interface BackfillSlot {
  readonly executionDate: Date;
  readonly intervalStart: Date;
  readonly intervalEnd: Date;
}

const MAX_SLOTS = 100_000;

const STEPS: readonly string[] = ['hour', 'day', 'week', 'month'];

/**
 * A backfill's `every` as the CLI, the console and the functions all take
 * it: `hour`, `day`, `week`, `month`, a schedule preset (`@daily`…) or a cron
 * expression evaluated in `timezone`. An `InvalidInputError` names the field
 * (`every` or `timezone`) that is wrong.
 */
export function parseEvery(every: string, timezone = 'UTC'): BackfillEvery {
  try {
    assertValidTimezone(timezone);
  } catch (error) {
    throw new InvalidInputError('timezone', (error as Error).message);
  }
  if (STEPS.includes(every)) return every as BackfillEvery;
  if (every.startsWith('@') && !PRESET_CRON[every]) {
    throw new InvalidInputError('every', `${every} does not step a backfill`, {
      hint: 'use hour, day, week, month, @hourly, @daily, @weekly, @monthly or a cron expression such as "0 5 * * *"',
    });
  }
  try {
    assertValidSchedule(every, timezone);
  } catch (error) {
    throw new InvalidInputError('every', `${every}: ${(error as Error).message}`, {
      hint: 'use hour, day, week, month or a cron expression such as "0 5 * * *"',
    });
  }
  return { cron: every, timezone };
}

/**
 * Every execution date from `start` to `end`, **end included** (Mage's
 * backfill semantics: Jan 1 → Jan 7 daily is 7 runs), each with its interval.
 */
export function backfillSlots(start: Date, end: Date, every: BackfillEvery): BackfillSlot[] {
  if (end.getTime() < start.getTime()) {
    throw new Error(`the end ${end.toISOString()} is before the start ${start.toISOString()}`);
  }
  const step = stepper(every);
  const dates: Date[] = [];
  let d = typeof every === 'object' ? firstCronTick(every, start) : start;
  while (d && d.getTime() <= end.getTime()) {
    dates.push(d);
    if (dates.length > MAX_SLOTS) throw new Error(`more than ${MAX_SLOTS} runs: narrow the range or step less often`);
    d = step(d);
  }
  return dates.map((date) => ({ executionDate: date, intervalStart: date, intervalEnd: step(date) }));
}

function firstCronTick(every: { cron: string; timezone: string }, start: Date): Date {
  // The start itself counts when it is a tick.
  return nextTick(every.cron, every.timezone, new Date(start.getTime() - 1)) ?? start;
}

function stepper(every: BackfillEvery): (d: Date) => Date {
  if (typeof every === 'object') {
    return (d) => {
      const next = nextTick(every.cron, every.timezone, d);
      if (!next) throw new Error(`cron ${every.cron} has no tick after ${d.toISOString()}`);
      return next;
    };
  }
  switch (every) {
    case 'hour':
      return (d) => new Date(d.getTime() + 3_600_000);
    case 'day':
      return (d) => new Date(d.getTime() + 86_400_000);
    case 'week':
      return (d) => new Date(d.getTime() + 7 * 86_400_000);
    case 'month':
      return addMonthUtc;
  }
}

/** Calendar month step in UTC, clamped to the month's last day (Jan 31 → Feb 28). */
function addMonthUtc(d: Date): Date {
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + 1;
  const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  return new Date(
    Date.UTC(y, m, Math.min(d.getUTCDate(), lastDay), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds()),
  );
}

/** Parses `2021-01-01`, `2021-01-01T05:00`, or a full ISO timestamp; dates without a zone are UTC. */
export function parseDateArg(text: string): Date {
  const trimmed = text.trim();
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(trimmed)
    ? `${trimmed}T00:00:00Z`
    : /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(trimmed)
      ? `${trimmed.replace(' ', 'T')}Z`
      : trimmed;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) {
    throw new Error(`${JSON.stringify(text)} is not a date: use YYYY-MM-DD or an ISO timestamp such as 2021-01-01T05:00:00Z`);
  }
  return date;
}
