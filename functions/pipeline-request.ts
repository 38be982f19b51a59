import type { Request } from '@google-cloud/functions-framework';
import type { z } from 'zod';
import type { JobLauncher } from '../src/cloud/job-launcher.ts';
import type { PipelineSpec } from '../src/project/model.ts';
import { checkBearer } from './auth.ts';
import { functionContext, pipelineOr404 } from './context.ts';
import { parseBody, requirePost } from './http-error.ts';

export interface PipelineRequest<T> {
  readonly body: T;
  readonly pipeline: PipelineSpec;
  readonly launcher: JobLauncher;
}

/**
 * The checks of every endpoint that starts a pipeline, in the order its errors must come
 * (405, 401, 400, 404): a POST, the bearer token, a body the schema accepts, a pipeline that exists.
 */
export function pipelineRequest<T extends { pipeline: string }>(req: Request, schema: z.ZodType<T>): PipelineRequest<T> {
  requirePost(req.method);
  checkBearer(req.get('authorization'));
  const body = parseBody(schema, req.body);
  const { project, launcher } = functionContext();
  return { body, pipeline: pipelineOr404(project, body.pipeline), launcher };
}
