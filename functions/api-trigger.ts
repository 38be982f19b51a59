import type { Request, Response } from '@google-cloud/functions-framework';
import { z } from 'zod';
import { runArgs } from '../src/cloud/job-args.ts';
import { dateField, variablesField } from './dates.ts';
import { HttpError, sendError } from './http-error.ts';
import { logLine } from './log.ts';
import { pipelineRequest } from './pipeline-request.ts';

const bodySchema = z
  .object({
    pipeline: z.string().min(1, 'name the pipeline to run'),
    variables: variablesField.optional(),
    execution_date: dateField.optional(),
    /** An `api: true` trigger of the pipeline whose variables apply; optional. */
    trigger: z.string().min(1).optional(),
  })
  .strict();

/**
 * `POST { pipeline, variables?, execution_date?, trigger? }` with
 * `Authorization: Bearer <PIPEKIT_API_TOKEN>` → starts one execution of the
 * pipeline's Cloud Run job and answers `202 { execution }` without waiting
 * for the run (poll the console or the run store for its status).
 */
export async function apiTrigger(req: Request, res: Response): Promise<void> {
  try {
    const { body, pipeline, launcher } = pipelineRequest(req, bodySchema);
    if (body.trigger) {
      const trigger = pipeline.triggers.find((t) => t.name === body.trigger);
      if (trigger?.type !== 'api') {
        const api = pipeline.triggers.filter((t) => t.type === 'api').map((t) => t.name);
        throw new HttpError(
          400,
          `trigger: pipeline ${pipeline.name} has no api trigger "${body.trigger}" (api triggers: ${api.join(', ') || 'none'})`,
          'trigger',
        );
      }
      if (!trigger.enabled) throw new HttpError(409, `trigger ${trigger.name} of ${pipeline.name} is disabled in pipeline.yaml`, 'trigger');
    }
    const args = runArgs({ pipeline: pipeline.name, trigger: body.trigger, executionDate: body.execution_date, variables: body.variables });
    const launched = await launcher.launch({ pipeline: pipeline.name, args });
    logLine('INFO', `started ${pipeline.name}: ${launched.execution}`, {
      function: 'apiTrigger',
      pipeline: pipeline.name,
      execution: launched.execution,
    });
    res.status(202).json({ execution: launched.execution, job: launched.job, pipeline: pipeline.name });
  } catch (error) {
    sendError(res, error, 'apiTrigger');
  }
}
