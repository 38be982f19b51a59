import type { Request, Response } from '@google-cloud/functions-framework';
import { z } from 'zod';
import { newBackfillId } from '../src/engine/backfill.ts';
import { backfillArgs } from '../src/console/cloud/job-args.ts';
import { backfillSlots, type BackfillEvery } from '../src/time/backfill-range.ts';
import { assertValidSchedule } from '../src/time/schedule.ts';
import { checkBearer } from './auth.ts';
import { functionContext, pipelineOr404 } from './context.ts';
import { dateField, variablesField } from './dates.ts';
import { HttpError, parseBody, requirePost, sendError } from './http-error.ts';
import { logLine } from './log.ts';

/** Cloud Run's limit on tasks per execution. */
export const MAX_TASKS = 10_000;

const bodySchema = z
  .object({
    pipeline: z.string().min(1, 'name the pipeline to backfill'),
    start: dateField,
    end: dateField,
    every: z.string().min(1, 'day, hour, week, month or a cron expression'),
    timezone: z.string().optional(),
    variables: variablesField.optional(),
    parallelism: z.number().int().min(1).max(100).optional(),
  })
  .strict();

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
 * `POST { pipeline, start, end, every, timezone?, variables?, parallelism? }`
 * → one execution of the pipeline's job with one task per execution date
 * (end included), all sharing a new backfill id the console can watch,
 * cancel and retry. Answers `202 { execution, backfillId, runs, taskCount, parallelism }`.
 */
export async function backfill(req: Request, res: Response): Promise<void> {
  try {
    requirePost(req.method);
    checkBearer(req.get('authorization'));
    const body = parseBody(bodySchema, req.body);
    const every = parseEvery(body.every, body.timezone ?? 'UTC');
    if (body.end.getTime() < body.start.getTime()) throw new HttpError(400, `end: ${body.end.toISOString()} is before start ${body.start.toISOString()}`, 'end');
    const { project, launcher } = functionContext();
    const pipeline = pipelineOr404(project, body.pipeline);
    let runs: number;
    try {
      runs = backfillSlots(body.start, body.end, every).length;
    } catch (error) {
      throw new HttpError(400, `every: ${(error as Error).message}`, 'every');
    }
    if (runs === 0) throw new HttpError(400, `every: no ${body.every} tick between ${body.start.toISOString()} and ${body.end.toISOString()}`, 'every');
    if (runs > MAX_TASKS) throw new HttpError(400, `end: ${runs} runs is more than Cloud Run's ${MAX_TASKS} tasks per execution: split the range`, 'end');
    const { taskCount, parallelism } = planTasks(runs, body.parallelism, pipeline.resources.parallelism);
    const backfillId = newBackfillId();
    const args = backfillArgs({
      pipeline: pipeline.name,
      start: body.start,
      end: body.end,
      every: body.every,
      timezone: body.timezone,
      backfillId,
      variables: body.variables,
    });
    const launched = await launcher.launch({ pipeline: pipeline.name, args, taskCount });
    logLine('INFO', `backfill ${backfillId} of ${pipeline.name}: ${runs} runs in ${taskCount} tasks`, { function: 'backfill', pipeline: pipeline.name, backfillId, execution: launched.execution });
    res.status(202).json({ execution: launched.execution, job: launched.job, backfillId, runs, taskCount, parallelism });
  } catch (error) {
    sendError(res, error, 'backfill');
  }
}

function parseEvery(every: string, timezone: string): BackfillEvery {
  if (every === 'hour' || every === 'day' || every === 'week' || every === 'month') return every;
  try {
    assertValidSchedule(every, timezone);
  } catch (error) {
    const field = /time zone/.test((error as Error).message) ? 'timezone' : 'every';
    throw new HttpError(400, `${field}: ${(error as Error).message}`, field);
  }
  if (every.startsWith('@')) throw new HttpError(400, 'every: use day, hour, week, month or a cron expression', 'every');
  return { cron: every, timezone };
}
