import type { RunOwner } from '../runs/model.ts';
import type { RunStore } from '../runs/store.ts';

/**
 * The execution date a retried Cloud Run task must run. A scheduled job
 * computes its tick from the clock (`run --trigger`), and a retry that
 * starts after the next tick would compute that one instead: the failed
 * tick would never be retried and the next one would run twice. So a task
 * attempt after the first reuses the date its task ran before. Undefined
 * for a first attempt, or when the task recorded no run.
 */
export async function retriedTaskDate(store: RunStore, owner: RunOwner): Promise<Date | undefined> {
  if (!owner.cloudExecution || !owner.cloudTaskAttempt) return undefined;
  return (await store.runOfTask(owner.cloudExecution, owner.cloudTaskIndex ?? 0))?.executionDate;
}
