/**
 * The command lines a pipeline's Cloud Run job is started with
 * (`node bin/pipekit.js <args>`), built in one place so the job template and
 * the Cloud Scheduler body (infra/), the functions and the console all send
 * exactly what the CLI parses.
 */

/** How a backfill steps, as the CLI's `--every` takes it. */
export type EveryArg = 'hour' | 'day' | 'week' | 'month' | (string & {});

/**
 * One `--var` value. The CLI types values that parse as JSON, so strings
 * that would parse (`"42"`, `"true"`) are sent JSON-quoted to stay strings,
 * and non-strings are sent as JSON.
 */
export function encodeVarValue(value: unknown): string {
  if (typeof value !== 'string') return JSON.stringify(value);
  try {
    JSON.parse(value);
    return JSON.stringify(value);
  } catch {
    return value;
  }
}

/** `--var k=v` pairs, in key order so the same variables always give the same args. */
export function varArgs(variables: Readonly<Record<string, unknown>> = {}): string[] {
  return Object.keys(variables)
    .sort()
    .flatMap((key) => ['--var', `${key}=${encodeVarValue(variables[key])}`]);
}

/** `run <pipeline> [--trigger T] [--execution-date D] [--event-id E] --var k=v …` */
export function runArgs(args: {
  pipeline: string;
  trigger?: string;
  executionDate?: Date;
  /** The CloudEvent's id: a redelivered event maps to the run the first delivery started. */
  eventId?: string;
  variables?: Readonly<Record<string, unknown>>;
}): string[] {
  return [
    'run',
    args.pipeline,
    ...(args.trigger ? ['--trigger', args.trigger] : []),
    ...(args.eventId ? ['--event-id', args.eventId] : []),
    ...(args.executionDate ? ['--execution-date', args.executionDate.toISOString()] : []),
    ...varArgs(args.variables),
  ];
}

/** `backfill <pipeline> --start … --end … --every … --backfill-id ID --var k=v …` */
export function backfillArgs(args: {
  pipeline: string;
  start: Date;
  end: Date;
  every: EveryArg;
  timezone?: string;
  backfillId: string;
  variables?: Readonly<Record<string, unknown>>;
}): string[] {
  return [
    'backfill',
    args.pipeline,
    '--start',
    args.start.toISOString(),
    '--end',
    args.end.toISOString(),
    '--every',
    args.every,
    ...(args.timezone && args.timezone !== 'UTC' ? ['--timezone', args.timezone] : []),
    '--backfill-id',
    args.backfillId,
    ...varArgs(args.variables),
  ];
}

/** `backfill <pipeline> --retry ID`: the dates whose latest run did not succeed. */
export function retryBackfillArgs(pipeline: string, backfillId: string): string[] {
  return ['backfill', pipeline, '--retry', backfillId];
}
