import { startCloudBackfill } from '../cloud/backfill.ts';
import { retryBackfillArgs, runArgs } from '../cloud/job-args.ts';
import { createCloudRunLauncher, type CloudTarget, type JobLauncher } from '../cloud/job-launcher.ts';
import { setSchedulerPaused } from '../cloud/scheduler.ts';
import type { Session } from '../engine/session.ts';
import { ApiError } from './http.ts';
import type { Executor } from './executor.ts';

/**
 * The console in the cloud: every start is an execution of the pipeline's
 * Cloud Run job (src/cloud, the same code as the functions); the jobs record the runs.
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
      const started = await startCloudBackfill(
        { ...request, pipeline: session.pipeline(request.pipeline), parallelism: request.parallel },
        { launcher, store: session.store },
      );
      return { backfillId: started.backfillId, execution: started.execution };
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
