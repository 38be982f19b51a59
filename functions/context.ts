import { loadProject } from '../src/project/load-project.ts';
import type { PipelineSpec, Project } from '../src/project/model.ts';
import { cloudTargetFromEnv, createCloudRunLauncher, type JobLauncher } from '../src/cloud/job-launcher.ts';
import { ConfigError } from '../src/errors.ts';
import { HttpError } from './http-error.ts';

/**
 * What every function needs: the project's pipelines (the image contains the
 * folder; PIPEKIT_PROJECT, default `pipelines`) and a way to start jobs.
 * Built on first use and kept for the instance's life, so a cold start pays once.
 */
export interface FunctionContext {
  readonly project: Project;
  readonly launcher: JobLauncher;
}

let cached: { key: string; context: FunctionContext } | undefined;

export function functionContext(env: NodeJS.ProcessEnv = process.env): FunctionContext {
  const key = [
    env.PIPEKIT_PROJECT,
    env.PIPEKIT_JOB_PREFIX,
    env.GOOGLE_CLOUD_PROJECT,
    env.PIPEKIT_REGION,
    env.PIPEKIT_RUN_API_ENDPOINT,
  ].join('|');
  if (cached?.key === key) return cached.context;
  const target = cloudTargetFromEnv(env);
  if (!target) {
    throw new ConfigError({
      file: 'environment',
      key: 'PIPEKIT_JOB_PREFIX',
      message: 'is not set, so the function does not know which Cloud Run jobs run the pipelines',
      hint: 'infra/components/functions.ts sets it with GOOGLE_CLOUD_PROJECT and PIPEKIT_REGION',
    });
  }
  const context = { project: loadProject(env.PIPEKIT_PROJECT ?? 'pipelines'), launcher: createCloudRunLauncher(target, { env }) };
  cached = { key, context };
  return context;
}

/** The pipeline, or a 404 that lists the ones there are. */
export function pipelineOr404(project: Project, name: string): PipelineSpec {
  const spec = project.pipelines.get(name);
  if (!spec) {
    throw new HttpError(
      404,
      `there is no pipeline "${name}" (pipelines: ${[...project.pipelines.keys()].join(', ') || 'none'})`,
      'pipeline',
    );
  }
  return spec;
}
