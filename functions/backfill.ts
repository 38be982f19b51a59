import type { Request, Response } from '@google-cloud/functions-framework';
import { z } from 'zod';
import { startCloudBackfill } from '../src/cloud/backfill.ts';
import { dateField, variablesField } from './dates.ts';
import { sendError } from './http-error.ts';
import { logLine } from './log.ts';
import { pipelineRequest } from './pipeline-request.ts';

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
 * `POST { pipeline, start, end, every, timezone?, variables?, parallelism? }`
 * → one execution of the pipeline's job with one task per execution date
 * (end included), all sharing a new backfill id the console can watch,
 * cancel and retry (src/cloud/backfill.ts, as the console does it). Answers
 * `202 { execution, backfillId, runs, taskCount, parallelism }`.
 */
export async function backfill(req: Request, res: Response): Promise<void> {
  try {
    const { body, pipeline, launcher } = pipelineRequest(req, bodySchema);
    const started = await startCloudBackfill({ ...body, pipeline }, { launcher });
    logLine('INFO', `backfill ${started.backfillId} of ${pipeline.name}: ${started.runs} runs in ${started.taskCount} tasks`, {
      function: 'backfill',
      pipeline: pipeline.name,
      backfillId: started.backfillId,
      execution: started.execution,
    });
    const { execution, job, backfillId, runs, taskCount, parallelism } = started;
    res.status(202).json({ execution, job, backfillId, runs, taskCount, parallelism });
  } catch (error) {
    sendError(res, error, 'backfill');
  }
}
