import { newBackfillId } from '../engine/backfill.ts';
import type { Session } from '../engine/session.ts';
import { backfillSlots } from '../time/backfill-range.ts';
import { backfillArgs, retryBackfillArgs, runArgs } from './cloud/job-args.ts';
import { createCloudRunLauncher, type CloudTarget, type JobLauncher } from './cloud/job-launcher.ts';
import { setSchedulerPaused } from './cloud/scheduler.ts';
import { describeEvery } from '../engine/backfill.ts';
import { ApiError } from './http.ts';
import { parseEvery, type Executor } from './executor.ts';

/**
 * The console in the cloud: every start is an execution of the pipeline's
 * Cloud Run job (the same seam as the functions); the jobs record the runs.
 */
export function createCloudExecutor(session: Session, target: CloudTarget, options: { launcher?: JobLauncher; env?: NodeJS.ProcessEnv } = {}): Executor {
  const launcher = options.launcher ?? createCloudRunLauncher(target, { env: options.env });
  return {
    mode: 'cloud',
    async startRun({ pipeline, variables, executionDate }) {
      session.pipeline(pipeline);
      const launched = await launcher.launch({ pipeline, args: runArgs({ pipeline, variables, executionDate }) });
      return { execution: launched.execution };
    },
    async cancelRun(runId) {
      throw new ApiError(501, `cancelling run ${runId} from the console is not available in the cloud yet`, 'cancel its Cloud Run execution: gcloud run jobs executions cancel <execution>');
    },
    async startBackfill(request) {
      const pipeline = session.pipeline(request.pipeline);
      const every = parseEvery(request.every, request.timezone);
      const slots = backfillSlots(request.start, request.end, every);
      const backfillId = newBackfillId();
      // Recorded here first so the page can show it before the first task starts (createBackfill is idempotent).
      await session.store.createBackfill({
        id: backfillId,
        pipeline: pipeline.name,
        start: request.start,
        end: request.end,
        every: describeEvery(every),
        variables: request.variables,
        executionDates: slots.map((s) => s.executionDate),
      });
      const taskCount = Math.max(1, Math.min(slots.length, 10_000));
      const args = backfillArgs({ pipeline: pipeline.name, start: request.start, end: request.end, every: request.every, timezone: request.timezone, backfillId, variables: request.variables });
      const launched = await launcher.launch({ pipeline: pipeline.name, args, taskCount });
      return { backfillId, execution: launched.execution };
    },
    async cancelBackfill(id) {
      if (!(await session.store.getBackfill(id))) throw new ApiError(404, `backfill ${id} is not in the run store`);
      // Tasks check the record before each run: no new runs start.
      await session.store.updateBackfill(id, { status: 'cancelled', finishedAt: new Date() });
    },
    async retryBackfill(id) {
      const backfill = await session.store.getBackfill(id);
      if (!backfill) throw new ApiError(404, `backfill ${id} is not in the run store`);
      const launched = await launcher.launch({ pipeline: backfill.pipeline, args: retryBackfillArgs(backfill.pipeline, id) });
      return { execution: launched.execution };
    },
    async setTriggerPaused(pipeline, trigger, paused) {
      const spec = session.pipeline(pipeline).triggers.find((t) => t.name === trigger);
      if (spec?.type === 'schedule') await setSchedulerPaused(target, pipeline, trigger, paused, { env: options.env });
    },
    async close() {},
  };
}
