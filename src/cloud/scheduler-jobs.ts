import { ConfigError } from '../errors.ts';
import type { PipelineSpec, ScheduleTrigger } from '../project/model.ts';
import { PRESET_CRON } from '../time/schedule.ts';
import { runArgs } from './job-args.ts';

/**
 * How pipeline.yaml schedule triggers become Cloud Scheduler jobs. Pure
 * functions: infra's PipelineJob component, the rehearsal and the tests use
 * them. The presets are the engine's (src/time/schedule.ts), so a tick in the
 * cloud is the tick the run computes its execution_date from.
 */

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
  const body = { overrides: { containerOverrides: [{ args: runArgs({ pipeline, trigger }) }] } };
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64');
}
