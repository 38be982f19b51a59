import { assertCancellable, slotsToRetry } from '../engine/backfill.ts';
import { NotFoundError } from '../errors.ts';
import type { PipelineSpec } from '../project/model.ts';
import type { BackfillRecord } from '../runs/model.ts';
import type { Reconciler } from '../runs/reconciler.ts';
import type { RunStore } from '../runs/store.ts';
import { planTasks } from './backfill.ts';
import type { CloudExecutions } from './executions.ts';
import { retryBackfillArgs } from './job-args.ts';
import type { JobLauncher } from './job-launcher.ts';

/**
 * Cancels a backfill in the cloud: no more of its runs start (tasks read the
 * record before each run), its executions are cancelled through the Run
 * API — the runs in flight and the tasks not started yet — and its runs
 * still queued or running are recorded cancelled.
 */
export async function cancelCloudBackfill(
  id: string,
  deps: { store: RunStore; reconciler: Reconciler; executions: CloudExecutions },
): Promise<{ executions: string[]; runs: string[] }> {
  const backfill = await requireBackfill(deps.store, id);
  assertCancellable(backfill);
  await deps.store.updateBackfill(id, { status: 'cancelled', finishedAt: new Date() });
  const live = (await deps.store.listRuns({ backfillId: id, limit: 10_000 })).filter(
    (r) => r.status === 'queued' || r.status === 'running',
  );
  const executions = new Set(backfill.cloudExecutions);
  for (const run of live) if (run.owner?.cloudExecution?.startsWith('projects/')) executions.add(run.owner.cloudExecution);
  for (const execution of executions) await deps.executions.cancel(execution);
  const runs: string[] = [];
  for (const run of live) {
    if (await deps.reconciler.endRun(run, { status: 'cancelled', reason: `cancelled with backfill ${id}` })) runs.push(run.id);
  }
  return { executions: [...executions], runs };
}

/**
 * Retries a backfill's dates whose latest run did not succeed as one new
 * execution whose tasks split them (`backfill --retry` reads its task index
 * and claims each date once), at most the job's parallelism at a time.
 */
export async function retryCloudBackfill(
  id: string,
  deps: { store: RunStore; launcher: JobLauncher; pipeline: (name: string) => PipelineSpec },
  options: { parallelism?: number } = {},
): Promise<{ execution: string; taskCount: number; dates: number }> {
  const backfill = await requireBackfill(deps.store, id);
  const dates = (await slotsToRetry(deps.store, backfill)).length;
  if (dates === 0) return { execution: '', taskCount: 0, dates: 0 };
  const pipeline = deps.pipeline(backfill.pipeline);
  const { taskCount } = planTasks(dates, options.parallelism, pipeline.resources.parallelism);
  const launched = await deps.launcher.launch({ pipeline: backfill.pipeline, args: retryBackfillArgs(backfill.pipeline, id), taskCount });
  await deps.store.updateBackfill(id, { status: 'running', finishedAt: null });
  await deps.store.addBackfillExecution(id, launched.execution);
  return { execution: launched.execution, taskCount, dates };
}

async function requireBackfill(store: RunStore, id: string): Promise<BackfillRecord> {
  const backfill = await store.getBackfill(id);
  if (!backfill) throw new NotFoundError(`backfill ${id} is not in the run store`, { hint: 'the console lists backfills under Backfills' });
  return backfill;
}
