import { describeEvery, newBackfillId } from '../engine/backfill.ts';
import { InvalidInputError } from '../errors.ts';
import type { PipelineSpec } from '../project/model.ts';
import type { RunStore } from '../runs/store.ts';
import { backfillSlots, parseEvery, type BackfillSlot } from '../time/backfill-range.ts';
import { backfillArgs } from './job-args.ts';
import type { JobLauncher } from './job-launcher.ts';

/** Cloud Run's limit on tasks per execution. */
export const MAX_TASKS = 10_000;

export interface CloudBackfillRequest {
  readonly pipeline: PipelineSpec;
  readonly start: Date;
  /** Included: Jan 1 → Jan 7 daily is 7 runs. */
  readonly end: Date;
  /** `hour`, `day`, `week`, `month`, a preset or a cron expression. */
  readonly every: string;
  readonly timezone?: string;
  readonly variables?: Readonly<Record<string, unknown>>;
  /** Runs at once; the job's `resources.parallelism` when absent, and never more. */
  readonly parallelism?: number;
}

export interface CloudBackfillStarted {
  readonly backfillId: string;
  readonly runs: number;
  readonly taskCount: number;
  readonly parallelism: number;
  readonly job: string;
  readonly execution: string;
}

/**
 * How many tasks, and how many at once. The Run API cannot override a job's
 * `parallelism` per execution, so the job template's (pipeline.yaml
 * `resources.parallelism`) is the ceiling. Asking for less gives fewer
 * tasks, each running its share of the dates in sequence
 * (`CLOUD_RUN_TASK_INDEX`/`CLOUD_RUN_TASK_COUNT`); otherwise one task per run.
 */
export function planTasks(runs: number, requested: number | undefined, jobParallelism: number): { taskCount: number; parallelism: number } {
  const parallelism = Math.min(requested ?? jobParallelism, jobParallelism, runs);
  const taskCount = requested !== undefined && requested < Math.min(jobParallelism, runs) ? requested : runs;
  return { taskCount, parallelism };
}

/**
 * Starts a backfill in the cloud: one execution of the pipeline's job whose
 * tasks share the dates, all under one new backfill id. The console and the
 * functions both start backfills here.
 *
 * With a `store` (the console has one) the backfill is recorded before the
 * execution starts, so its page shows it at once; the tasks record the same
 * id again on start (idempotent), which is how a backfill started where no
 * run store is reachable (the functions) gets its record. A launch that
 * fails marks the recorded backfill failed rather than leaving it running.
 *
 * Bad input is an `InvalidInputError` naming the field, before anything is
 * recorded or started.
 */
export async function startCloudBackfill(
  request: CloudBackfillRequest,
  deps: { launcher: JobLauncher; store?: Pick<RunStore, 'createBackfill' | 'updateBackfill'> },
): Promise<CloudBackfillStarted> {
  const { pipeline } = request;
  const timezone = request.timezone ?? 'UTC';
  const slots = plannedSlots(request, timezone);
  const { taskCount, parallelism } = planTasks(slots.length, request.parallelism, pipeline.resources.parallelism);
  const backfillId = newBackfillId();
  if (deps.store) {
    await deps.store.createBackfill({
      id: backfillId,
      pipeline: pipeline.name,
      start: request.start,
      end: request.end,
      every: describeEvery(parseEvery(request.every, timezone)),
      variables: request.variables ?? {},
      executionDates: slots.map((s) => s.executionDate),
    });
  }
  const args = backfillArgs({
    pipeline: pipeline.name,
    start: request.start,
    end: request.end,
    every: request.every,
    timezone,
    backfillId,
    variables: request.variables,
  });
  try {
    const launched = await deps.launcher.launch({ pipeline: pipeline.name, args, taskCount });
    return { backfillId, runs: slots.length, taskCount, parallelism, job: launched.job, execution: launched.execution };
  } catch (error) {
    await deps.store?.updateBackfill(backfillId, { status: 'failed', finishedAt: new Date() });
    throw error;
  }
}

function plannedSlots(request: CloudBackfillRequest, timezone: string): BackfillSlot[] {
  const { start, end } = request;
  if (end.getTime() < start.getTime()) throw new InvalidInputError('end', `${end.toISOString()} is before start ${start.toISOString()}`);
  const every = parseEvery(request.every, timezone);
  let slots: BackfillSlot[];
  try {
    slots = backfillSlots(start, end, every);
  } catch (error) {
    throw new InvalidInputError('every', (error as Error).message);
  }
  if (slots.length === 0)
    throw new InvalidInputError('every', `no ${request.every} tick between ${start.toISOString()} and ${end.toISOString()}`);
  if (slots.length > MAX_TASKS) {
    throw new InvalidInputError('end', `${slots.length} runs is more than Cloud Run's ${MAX_TASKS} tasks per execution`, {
      hint: `split the range into backfills of at most ${MAX_TASKS} dates, or step less often`,
    });
  }
  return slots;
}
