import type { Session } from '../engine/session.ts';
import { parseDateArg } from '../time/backfill-range.ts';
import { assertValidTimezone } from '../time/schedule.ts';
import type { Executor } from './executor.ts';
import { ApiError, stringField, variablesField } from './http.ts';

function dateField(body: Record<string, unknown>, field: string, optional = false): Date | undefined {
  const text = stringField(body, field, { optional });
  if (text === undefined) return undefined;
  try {
    return parseDateArg(text);
  } catch (error) {
    throw new ApiError(400, `${field}: ${(error as Error).message}`);
  }
}

function pipelineOr404(session: Session, name: string) {
  const spec = session.project.pipelines.get(name);
  if (!spec) throw new ApiError(404, `there is no pipeline "${name}"`, `pipelines: ${[...session.project.pipelines.keys()].join(', ')}`);
  return spec;
}

/** What the console's buttons do; every call here has passed the token check. */
export function createWriteApi(session: Session, executor: Executor) {
  return {
    async startRun(pipeline: string, body: Record<string, unknown>) {
      pipelineOr404(session, pipeline);
      return executor.startRun({ pipeline, variables: variablesField(body), executionDate: dateField(body, 'executionDate', true) });
    },

    cancelRun: (id: string) => executor.cancelRun(id),

    async startBackfill(pipeline: string, body: Record<string, unknown>) {
      pipelineOr404(session, pipeline);
      const start = dateField(body, 'start')!;
      const end = dateField(body, 'end')!;
      if (end.getTime() < start.getTime()) throw new ApiError(400, `end: ${end.toISOString()} is before start ${start.toISOString()}`);
      const timezone = stringField(body, 'timezone', { optional: true }) ?? 'UTC';
      try {
        assertValidTimezone(timezone);
      } catch (error) {
        throw new ApiError(400, `timezone: ${(error as Error).message}`);
      }
      const parallel = body.parallel === undefined || body.parallel === '' ? 1 : Number(body.parallel);
      if (!Number.isInteger(parallel) || parallel < 1 || parallel > 32) throw new ApiError(400, 'parallel: a whole number from 1 to 32');
      return executor.startBackfill({
        pipeline,
        start,
        end,
        every: stringField(body, 'every', { optional: true }) ?? 'day',
        timezone,
        variables: variablesField(body),
        parallel,
      });
    },

    cancelBackfill: (id: string) => executor.cancelBackfill(id),

    retryBackfill: (id: string, body: Record<string, unknown>) =>
      executor.retryBackfill(id, { variables: body.variables === undefined ? undefined : variablesField(body) }),

    /** Saves the override in the run store, then pauses/resumes the trigger's scheduler (cloud). */
    async setTrigger(pipeline: string, trigger: string, body: Record<string, unknown>) {
      const spec = pipelineOr404(session, pipeline);
      if (!spec.triggers.some((t) => t.name === trigger)) throw new ApiError(404, `pipeline ${pipeline} has no trigger "${trigger}"`);
      if (typeof body.enabled !== 'boolean') throw new ApiError(400, 'enabled: must be true or false');
      await session.store.setTriggerEnabled(pipeline, trigger, body.enabled);
      await executor.setTriggerPaused(pipeline, trigger, !body.enabled);
      return { pipeline, trigger, enabled: body.enabled };
    },
  };
}
