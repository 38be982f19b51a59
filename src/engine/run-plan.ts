import { ConfigError } from '../errors.ts';
import type { PipelineSpec, ScheduleTrigger } from '../project/model.ts';
import type { TakeOver } from '../runs/store.ts';
import { intervalOf, latestTick } from '../time/schedule.ts';

/** When a run is for, and why it was started. */
export interface RunPlan {
  readonly executionDate: Date;
  readonly intervalStart: Date;
  readonly intervalEnd: Date;
  /** A trigger name, or `manual` / `backfill` / `api` / `event`. */
  readonly trigger: string;
  readonly triggerVariables: Readonly<Record<string, unknown>>;
  /** Scheduled runs only: pipeline + trigger + tick, so a tick delivered twice runs once. */
  readonly dedupeKey: string | null;
  /** Whether a start may take over the key's run when it failed (default `same-task`; see TakeOver). */
  readonly takeOver?: TakeOver;
}

const DAY_MS = 86_400_000;

/**
 * Plans a run. With a schedule trigger, the execution date is the trigger's
 * latest tick at or before `now` in the trigger's time zone (what Cloud
 * Scheduler fires for, so the job needs no templated body); the interval runs
 * to the next tick. A manual run covers the day from its execution date.
 */
export function planRun(
  pipeline: PipelineSpec,
  options: { trigger?: string; executionDate?: Date; now?: Date; kind?: 'manual' | 'api' | 'event'; eventId?: string },
): RunPlan {
  const now = options.now ?? new Date();
  if (options.trigger) {
    const trigger = pipeline.triggers.find((t) => t.name === options.trigger);
    if (!trigger) {
      throw new ConfigError({
        file: pipeline.file,
        key: 'triggers',
        message: `pipeline ${pipeline.name} has no trigger "${options.trigger}"`,
        hint: `its triggers: ${pipeline.triggers.map((t) => t.name).join(', ') || '(none)'}`,
      });
    }
    if (trigger.type === 'schedule')
      return planScheduled(pipeline, trigger, options.executionDate ?? latestTick(trigger.schedule, trigger.timezone, now));
    const date = options.executionDate ?? now;
    // An event delivered again (Eventarc retries, at-least-once delivery) maps to the run its first delivery started.
    const dedupeKey = options.eventId ? `${pipeline.name}:${trigger.name}:event:${options.eventId}` : null;
    return { ...dayPlan(date), trigger: trigger.name, triggerVariables: trigger.variables, dedupeKey };
  }
  const date = options.executionDate ?? now;
  return { ...dayPlan(date), trigger: options.kind ?? 'manual', triggerVariables: {}, dedupeKey: null };
}

function planScheduled(pipeline: PipelineSpec, trigger: ScheduleTrigger, tick: Date): RunPlan {
  const interval = intervalOf(trigger.schedule, trigger.timezone, tick) ?? { start: tick, end: new Date(tick.getTime() + DAY_MS) };
  return {
    executionDate: tick,
    intervalStart: interval.start,
    intervalEnd: interval.end,
    trigger: trigger.name,
    triggerVariables: trigger.variables,
    dedupeKey:
      trigger.schedule === '@once' ? `${pipeline.name}:${trigger.name}:once` : `${pipeline.name}:${trigger.name}:${tick.toISOString()}`,
    // Running a tick again after its run failed or was killed is a retry: attempt N+1 of that run.
    takeOver: 'retry',
  };
}

function dayPlan(date: Date) {
  return { executionDate: date, intervalStart: date, intervalEnd: new Date(date.getTime() + DAY_MS) };
}
