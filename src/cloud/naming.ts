import { createHash } from 'node:crypto';

/**
 * Names of the cloud resources that infra/ creates and that the console and
 * the Cloud Functions have to find at run time. Pure functions with no SDK
 * import: the Pulumi program and the runtime share this one copy.
 */

/** Cloud Run allows 63 characters for job and service names. */
export const CLOUD_RUN_NAME_MAX = 63;

const VALID_CLOUD_RUN_NAME = /^[a-z]([a-z0-9-]*[a-z0-9])?$/;

/**
 * The Cloud Run job that runs `pipeline`: `<prefix>-<pipeline>` with `_` (and
 * anything else Cloud Run refuses) turned into `-`, lower-cased.
 *
 * Names longer than 63 characters are cut and end with a 6-character hash of
 * the full name, so two long pipeline names that share a beginning still get
 * different jobs. The same inputs always give the same name.
 *
 * @example jobNameFor('pipekit', 'yellow_taxi_to_postgres') // 'pipekit-yellow-taxi-to-postgres'
 */
export function jobNameFor(prefix: string, pipeline: string): string {
  const slug = `${prefix}-${pipeline}`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '');
  const name = /^[a-z]/.test(slug) ? slug : `p-${slug}`;
  if (name.length <= CLOUD_RUN_NAME_MAX) return name;
  const hash = createHash('sha256').update(`${prefix}-${pipeline}`).digest('hex').slice(0, 6);
  const head = name.slice(0, CLOUD_RUN_NAME_MAX - hash.length - 1).replace(/-+$/, '');
  return `${head}-${hash}`;
}

/** True when `name` is accepted by Cloud Run as a job or service name. */
export function isValidCloudRunName(name: string): boolean {
  return name.length <= CLOUD_RUN_NAME_MAX && VALID_CLOUD_RUN_NAME.test(name);
}

/**
 * The Cloud Scheduler job for one trigger of a pipeline: `<job>-<trigger>`.
 * Scheduler ids allow letters, digits, `-` and `_` up to 500 characters.
 */
export function schedulerNameFor(jobName: string, trigger: string): string {
  return `${jobName}-${trigger.replace(/[^A-Za-z0-9_-]+/g, '-')}`;
}

/** The one-off Cloud Run job that makes the Filestore workspace writable (infra runs it on create). */
export function workspaceInitJobNameFor(prefix: string): string {
  return jobNameFor(prefix, 'workspace-init');
}

/** The Cloud Run console service. */
export function consoleServiceNameFor(prefix: string): string {
  return jobNameFor(prefix, 'console');
}

/** Where a pipeline's Cloud Run job lives. */
export interface CloudTarget {
  readonly project: string;
  readonly region: string;
  /** PIPEKIT_JOB_PREFIX: job names are `jobNameFor(prefix, pipeline)`. */
  readonly prefix: string;
  /** PIPEKIT_SCHEDULER_REGION: where the Cloud Scheduler jobs live (not every Cloud Run region has Scheduler); `region` when absent. */
  readonly schedulerRegion?: string;
}

/** The job resource name of a pipeline, `projects/P/locations/R/jobs/J`. */
export function jobResourceName(target: CloudTarget, pipeline: string): string {
  return `projects/${target.project}/locations/${target.region}/jobs/${jobNameFor(target.prefix, pipeline)}`;
}

/** The Cloud Scheduler job resource name of a pipeline's trigger (Scheduler may live in another region). */
export function schedulerResourceName(target: CloudTarget, pipeline: string, trigger: string): string {
  return `projects/${target.project}/locations/${target.schedulerRegion ?? target.region}/jobs/${schedulerNameFor(jobNameFor(target.prefix, pipeline), trigger)}`;
}

/** The Cloud Run Admin API v2 URL that starts an execution of a job. */
export function runJobUrl(project: string, region: string, job: string): string {
  return `https://run.googleapis.com/v2/projects/${project}/locations/${region}/jobs/${job}:run`;
}
