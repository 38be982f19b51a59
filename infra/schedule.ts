import type { PipelineSpec, ScheduleTrigger } from '../src/project/model.ts';
import { ConfigError } from '../src/errors.ts';

/**
 * How pipeline.yaml schedule triggers become Cloud Scheduler jobs. Pure
 * functions: the PipelineJob component and the tests both use them.
 */

/**
 * Mage's schedule presets as unix cron. `@weekly` is Monday 00:00, as in Mage
 * (cron's own `@weekly` would be Sunday).
 */
export const PRESET_CRON: Readonly<Record<string, string>> = Object.freeze({
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@weekly': '0 0 * * 1',
  '@monthly': '0 0 1 * *',
});

/**
 * The unix-cron string Cloud Scheduler gets for a trigger, or `undefined` for
 * `@once`: Cloud Scheduler only repeats, it has no "fire once" job, and a run
 * that happens once is started by hand (`gcloud run jobs execute`, or "Run
 * now" in the console) rather than by a schedule that would fire again a year
 * later.
 */
export function cronFor(trigger: Pick<ScheduleTrigger, 'name' | 'schedule'>, file = 'pipeline.yaml'): string | undefined {
  const schedule = trigger.schedule.trim();
  if (schedule === '@once') return undefined;
  const preset = PRESET_CRON[schedule];
  if (preset) return preset;
  if (schedule.split(/\s+/).length !== 5) {
    throw new ConfigError({
      file,
      key: `triggers.${trigger.name}.schedule`,
      message: `${JSON.stringify(schedule)} is not a preset or a 5-field cron expression`,
      hint: `use one of ${Object.keys(PRESET_CRON).join(', ')}, @once, or "minute hour day-of-month month day-of-week" such as "0 6 * * *"`,
    });
  }
  return schedule;
}

/** A schedule trigger that gets a Cloud Scheduler job, with its cron resolved. */
export interface ScheduledTrigger {
  readonly trigger: ScheduleTrigger;
  readonly cron: string;
  /** Disabled triggers are deployed paused, so enabling one in pipeline.yaml and running `pulumi up` resumes it. */
  readonly paused: boolean;
}

/**
 * The schedule triggers of a pipeline that get a Cloud Scheduler job: every
 * `schedule` trigger except `@once`. GCS and API triggers are wired by the
 * Cloud Functions, not here.
 */
export function scheduledTriggers(pipeline: Pick<PipelineSpec, 'triggers' | 'file'>): ScheduledTrigger[] {
  const result: ScheduledTrigger[] = [];
  for (const trigger of pipeline.triggers) {
    if (trigger.type !== 'schedule') continue;
    const cron = cronFor(trigger, pipeline.file);
    if (cron === undefined) continue;
    result.push({ trigger, cron, paused: !trigger.enabled });
  }
  return result;
}

/**
 * The `:run` request body of a scheduled run: the job's args replaced by
 * `run <pipeline> --trigger <name>`, so the job computes its execution_date
 * as the trigger's latest tick itself (in the trigger's time zone). Returned
 * base64-encoded, as Cloud Scheduler's `httpTarget.body` wants it.
 */
export function schedulerRunBody(pipeline: string, trigger: string): string {
  const body = { overrides: { containerOverrides: [{ args: ['run', pipeline, '--trigger', trigger] }] } };
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64');
}

/** The Cloud Run Admin API v2 URL that starts an execution of a job. */
export function runJobUrl(project: string, region: string, job: string): string {
  return `https://run.googleapis.com/v2/projects/${project}/locations/${region}/jobs/${job}:run`;
}
