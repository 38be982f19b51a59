import { hostname } from 'node:os';
import type { CloudExecutions } from '../cloud/executions.ts';
import type { Session } from '../engine/session.ts';
import { describeError } from '../errors.ts';
import { FINISHED_RUN, type RunRecord } from '../runs/model.ts';
import { isProcessAlive } from '../runs/process-identity.ts';
import { ApiError } from './http.ts';

export interface CancelElsewhereOptions {
  /** The Run API (cloud mode). */
  readonly executions?: CloudExecutions;
  /** How long to wait for a signalled process to record its end. */
  readonly waitMs?: number;
}

/**
 * Cancels a run this console process is not running itself:
 * - its process or task is gone: it is recorded cancelled at once (with what was found);
 * - a CLI process on this machine: it gets SIGINT, which cancels the run as Ctrl-C does;
 * - a Cloud Run task: its execution is cancelled through the Run API and the run recorded cancelled.
 * A run of a backfill is cancelled with its backfill (a signal or an execution
 * cancel would stop the backfill's other runs too).
 */
export async function cancelRunElsewhere(session: Session, runId: string, options: CancelElsewhereOptions = {}): Promise<void> {
  const run = await session.store.getRun(runId);
  if (!run) throw new ApiError(404, `run ${runId} is not in the run store`);
  if (FINISHED_RUN.includes(run.status)) throw new ApiError(409, `run ${runId} has already ${run.status}`);

  let dead;
  try {
    dead = await session.reconciler.deadReason(run);
  } catch (error) {
    throw new ApiError(502, `could not check run ${runId}: ${describeError(error)}`, 'try again in a moment');
  }
  if (dead) {
    await endCancelled(session, run, `cancelled from the console; ${dead.reason}`);
    return;
  }
  const owner = run.owner;
  if (run.backfillId) {
    throw new ApiError(
      409,
      `run ${runId} is one run of backfill ${run.backfillId}, whose process or execution runs others too`,
      `cancel the backfill ${run.backfillId}`,
    );
  }
  if (owner?.cloudExecution?.startsWith('projects/') && options.executions) {
    await options.executions.cancel(owner.cloudExecution);
    await endCancelled(session, run, `cancelled from the console (Cloud Run execution ${owner.cloudExecution.split('/').at(-1)})`);
    return;
  }
  if (owner && owner.cloudExecution === null && owner.host === hostname() && isProcessAlive(owner.pid, owner.processStart)) {
    // The CLI cancels on SIGINT as on Ctrl-C: blocks are aborted, exports roll back, the run records `cancelled`.
    process.kill(owner.pid, 'SIGINT');
    if (await finishes(session, run, options.waitMs ?? 30_000)) return;
    throw new ApiError(
      504,
      `run ${runId} was asked to stop (SIGINT to pid ${owner.pid}) but has not recorded its end yet`,
      'refresh in a moment',
    );
  }
  const where = owner?.cloudExecution
    ? `Cloud Run execution ${owner.cloudExecution}`
    : owner
      ? `pid ${owner.pid} on ${owner.host}`
      : 'a process this console cannot see';
  throw new ApiError(409, `run ${runId} is running in ${where}: stop it there`);
}

/** Records the cancel, unless the run got there first (its process heard SIGTERM and recorded it). */
async function endCancelled(session: Session, run: RunRecord, reason: string): Promise<void> {
  await session.reconciler.endRun(run, { status: 'cancelled', reason });
}

async function finishes(session: Session, run: RunRecord, waitMs: number): Promise<boolean> {
  const until = Date.now() + waitMs;
  while (Date.now() < until) {
    const now = await session.store.getRun(run.id);
    if (!now || FINISHED_RUN.includes(now.status) || now.attempt !== run.attempt) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}
