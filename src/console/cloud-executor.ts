import { startCloudBackfill } from '../cloud/backfill.ts';
import { cancelCloudBackfill, retryCloudBackfill } from '../cloud/backfill-control.ts';
import { runArgs } from '../cloud/job-args.ts';
import { createCloudRunLauncher, type CloudTarget, type JobLauncher } from '../cloud/job-launcher.ts';
import { createCloudExecutions, type CloudExecutions } from '../cloud/executions.ts';
import { setSchedulerPaused } from '../cloud/scheduler.ts';
import { cancelRunElsewhere } from './cancel-run.ts';
import type { Session } from '../engine/session.ts';
import { ApiError } from './http.ts';
import type { Executor } from './executor.ts';

/**
 * The console in the cloud: every start is an execution of the pipeline's
 * Cloud Run job (src/cloud, the same code as the functions); the jobs record the runs.
 */
export function createCloudExecutor(
  session: Session,
  target: CloudTarget,
  options: { launcher?: JobLauncher; executions?: CloudExecutions; env?: NodeJS.ProcessEnv } = {},
): Executor {
  const launcher = options.launcher ?? createCloudRunLauncher(target, { env: options.env });
  let made: CloudExecutions | undefined;
  const executions = () => options.executions ?? (made ??= createCloudExecutions(options.env));
  return {
    mode: 'cloud',
    async startRun({ pipeline, variables, executionDate }) {
      session.pipeline(pipeline);
      const launched = await launcher.launch({ pipeline, args: runArgs({ pipeline, variables, executionDate }) });
      return { execution: launched.execution };
    },
    cancelRun: (runId) => cancelRunElsewhere(session, runId, { executions: executions() }),
    async startBackfill(request) {
      const started = await startCloudBackfill(
        { ...request, pipeline: session.pipeline(request.pipeline), parallelism: request.parallel },
        { launcher, store: session.store },
      );
      await session.store.addBackfillExecution(started.backfillId, started.execution);
      return { backfillId: started.backfillId, execution: started.execution };
    },
    async cancelBackfill(id) {
      await cancelCloudBackfill(id, { store: session.store, reconciler: session.reconciler, executions: executions() });
    },
    async retryBackfill(id, options = {}) {
      const retried = await retryCloudBackfill(
        id,
        { store: session.store, launcher, pipeline: (name) => session.pipeline(name) },
        { parallelism: options.parallel },
      );
      if (retried.dates === 0) throw new ApiError(409, `every date of backfill ${id} has succeeded: nothing to retry`);
      return { execution: retried.execution };
    },
    async setTriggerPaused(pipeline, trigger, paused) {
      const spec = session.pipeline(pipeline).triggers.find((t) => t.name === trigger);
      if (spec?.type === 'schedule') await setSchedulerPaused(target, pipeline, trigger, paused, { env: options.env });
    },
    async close() {
      await made?.close();
    },
  };
}
