import { JobsClient } from '@google-cloud/run';
import type { ClientOptions } from 'google-gax';
import { PassThroughClient } from 'google-auth-library';
import { ConfigError, ConnectionError, NotFoundError } from '../errors.ts';
import { jobResourceName, type CloudTarget } from './naming.ts';

export type { CloudTarget } from './naming.ts';

/** One execution of a pipeline's Cloud Run job. */
export interface JobLaunch {
  readonly pipeline: string;
  /** Replaces the container's args (`run <pipeline> …`, `backfill <pipeline> …`). */
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Tasks of this execution (a backfill fans out); the job's own count when absent. */
  readonly taskCount?: number;
}

export interface LaunchedExecution {
  /** The Cloud Run job, `projects/P/locations/R/jobs/J`. */
  readonly job: string;
  /** The execution, `projects/P/locations/R/jobs/J/executions/J-abc12`, or the operation when the API did not say. */
  readonly execution: string;
}

/**
 * The seam between "start this pipeline" and Cloud Run, so the functions
 * and the console share one implementation and tests can look at the exact
 * request on a local fake of the Run API.
 */
export interface JobLauncher {
  launch(request: JobLaunch): Promise<LaunchedExecution>;
}

/** The cloud target from `PIPEKIT_JOB_PREFIX`, `GOOGLE_CLOUD_PROJECT`, `PIPEKIT_REGION`; null when not in the cloud. */
export function cloudTargetFromEnv(env: NodeJS.ProcessEnv = process.env): CloudTarget | null {
  const prefix = env.PIPEKIT_JOB_PREFIX;
  if (!prefix) return null;
  const project = env.GOOGLE_CLOUD_PROJECT ?? env.GCLOUD_PROJECT;
  const region = env.PIPEKIT_REGION;
  const missing = [!project && 'GOOGLE_CLOUD_PROJECT', !region && 'PIPEKIT_REGION'].filter(Boolean);
  if (missing.length > 0) {
    throw new ConfigError({
      file: 'environment',
      key: missing.join(', '),
      message: `PIPEKIT_JOB_PREFIX is set but ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not`,
      hint: 'infra/ sets all three on the console and the functions; set them yourself when running outside Cloud Run',
    });
  }
  return {
    project: project!,
    region: region!,
    prefix,
    ...(env.PIPEKIT_SCHEDULER_REGION ? { schedulerRegion: env.PIPEKIT_SCHEDULER_REGION } : {}),
  };
}

/**
 * Options for a google-gax client. `endpointEnv` (e.g. PIPEKIT_RUN_API_ENDPOINT
 * = `http://127.0.0.1:8123`) points it at a local fake over REST without
 * credentials, like STORAGE_EMULATOR_HOST does for Cloud Storage.
 */
export function gaxClientOptions(endpoint: string | undefined): ClientOptions {
  if (!endpoint) return {};
  const url = new URL(endpoint);
  return {
    fallback: true,
    apiEndpoint: url.hostname,
    port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    protocol: url.protocol.replace(':', ''),
    // google-gax may carry its own copy of google-auth-library: same class, different type identity.
    authClient: new PassThroughClient() as unknown as ClientOptions['authClient'],
  };
}

/**
 * Runs the pipeline's job with overrides (`run.jobs.runWithOverrides`). Returns as
 * soon as Cloud Run accepted the execution; it does not wait for it to end.
 */
export function createCloudRunLauncher(target: CloudTarget, options: { client?: JobsClient; env?: NodeJS.ProcessEnv } = {}): JobLauncher {
  let client = options.client;
  return {
    async launch(request) {
      client ??= new JobsClient(gaxClientOptions((options.env ?? process.env).PIPEKIT_RUN_API_ENDPOINT));
      const name = jobResourceName(target, request.pipeline);
      const env = Object.entries(request.env ?? {}).map(([n, value]) => ({ name: n, value }));
      try {
        const [operation] = await client.runJob({
          name,
          overrides: {
            containerOverrides: [{ args: [...request.args], ...(env.length ? { env } : {}), clearArgs: false }],
            ...(request.taskCount !== undefined ? { taskCount: request.taskCount } : {}),
          },
        });
        const metadata = operation.metadata as { name?: string } | null | undefined;
        return { job: name, execution: metadata?.name || operation.name || name };
      } catch (error) {
        const code = (error as { code?: number }).code;
        if (code === 5 || code === 404) {
          throw new NotFoundError(`Cloud Run job ${name} does not exist`, {
            hint: 'deploy the pipeline first (pulumi up creates one job per pipeline folder), or check PIPEKIT_JOB_PREFIX/PIPEKIT_REGION',
          });
        }
        throw new ConnectionError({
          target: name,
          message: `could not start an execution: ${(error as Error).message}`,
          hint: 'the caller needs run.jobs.runWithOverrides on the job (the functions service account has it)',
          cause: error,
        });
      }
    },
  };
}
