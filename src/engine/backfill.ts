import { randomBytes } from 'node:crypto';
import { NotFoundError, UsageError } from '../errors.ts';
import type { LogSink } from '../log/logger.ts';
import type { PipelineSpec } from '../project/model.ts';
import type { BackfillRecord, BackfillStatus, RunRecord } from '../runs/model.ts';
import { currentOwner } from '../runs/owner.ts';
import type { RunStore } from '../runs/store.ts';
import { backfillSlots, type BackfillEvery, type BackfillSlot } from '../time/backfill-range.ts';
import type { RunEvent, RunResult } from './runner.ts';
import type { Session } from './session.ts';

export interface BackfillOptions {
  readonly pipeline: PipelineSpec;
  readonly start: Date;
  readonly end: Date;
  readonly every: BackfillEvery;
  readonly variables?: Readonly<Record<string, unknown>>;
  /** Runs at once in this process (default 1). */
  readonly parallel?: number;
  /** Reuse an id (all tasks of one Cloud Run execution share it). */
  readonly id?: string;
  /**
   * Cloud Run fan-out (and `--parallel`): this task runs slots i where
   * i % taskCount === taskIndex first, then helps with the others' from the
   * end; each date runs once whichever task gets there first.
   */
  readonly taskIndex?: number;
  readonly taskCount?: number;
  readonly signal?: AbortSignal;
  readonly sinks?: readonly LogSink[];
  readonly onEvent?: (event: RunEvent) => void;
}

export interface BackfillResult {
  readonly backfill: BackfillRecord;
  readonly runs: readonly RunResult[];
}

/** `bf-20210101-3f9a1c` */
export function newBackfillId(now = new Date()): string {
  return `bf-${now.toISOString().replace(/[-:]/g, '').slice(0, 15)}-${randomBytes(3).toString('hex')}`;
}

/** Text form of `every` for the run store and the console. */
export function describeEvery(every: BackfillEvery): string {
  return typeof every === 'string' ? every : `${every.cron}${every.timezone !== 'UTC' ? ` (${every.timezone})` : ''}`;
}

/**
 * A backfill: one run per execution date from start to end (inclusive),
 * recorded as one object in the run store with every run linked to it, so it
 * can be watched, cancelled and retried (Mage has no retry for backfills).
 */
export async function runBackfill(session: Session, options: BackfillOptions): Promise<BackfillResult> {
  const slots = backfillSlots(options.start, options.end, options.every);
  const backfill = await session.store.createBackfill({
    id: options.id ?? newBackfillId(),
    pipeline: options.pipeline.name,
    start: options.start,
    end: options.end,
    every: describeEvery(options.every),
    variables: options.variables ?? {},
    executionDates: slots.map((s) => s.executionDate),
  });
  const order = taskOrder(slots, options.taskIndex ?? 0, Math.max(1, options.taskCount ?? 1));
  await recordExecution(session, backfill.id);
  const runs = await runSlots(session, backfill, order, { ...options, claim: (date) => `backfill:${backfill.id}:${date.toISOString()}` });
  return { backfill: await finishBackfill(session, backfill.id), runs };
}

/**
 * The slots a task tries, in order: its own share, then everyone else's from
 * the last one back. Tasks rarely finish together (a process starts later,
 * months differ in size): with a fixed split the early ones sat idle while
 * the last kept going. Taking work from the end meets the owner's own order
 * in the middle, so they seldom reach for the same date at once (and then
 * the run store lets one of them have it).
 */
export function taskOrder<T>(slots: readonly T[], index: number, count: number): T[] {
  if (count <= 1) return [...slots];
  const own = slots.filter((_, i) => i % count === index);
  const others = slots.filter((_, i) => i % count !== index).reverse();
  return [...own, ...others];
}

/**
 * Runs again the dates whose latest run did not succeed. Tasks of one Cloud
 * Run execution (`taskCount` > 1) split them like a backfill's first run,
 * each date claimed once under the retry's `round` (the execution).
 */
export async function retryBackfill(
  session: Session,
  id: string,
  options: Omit<BackfillOptions, 'start' | 'end' | 'every' | 'pipeline' | 'id'> & { pipeline: PipelineSpec; round?: string },
): Promise<BackfillResult> {
  const backfill = await session.store.getBackfill(id);
  if (!backfill) throw new Error(`backfill ${id} is not in the run store`);
  const slots = await slotsToRetry(session.store, backfill);
  await session.store.updateBackfill(id, { status: 'running', finishedAt: null });
  await recordExecution(session, id);
  const count = Math.max(1, options.taskCount ?? 1);
  const order = taskOrder(slots, options.taskIndex ?? 0, count);
  const round = options.round;
  const claim = count > 1 && round ? (date: Date) => `backfill:${id}:retry:${round}:${date.toISOString()}` : undefined;
  const runs = await runSlots(session, backfill, order, { ...options, claim });
  return { backfill: await finishBackfill(session, id), runs };
}

/** The dates of a backfill whose latest run did not succeed (or that never ran), with their intervals. */
export async function slotsToRetry(store: RunStore, backfill: BackfillRecord): Promise<BackfillSlot[]> {
  const latest = await latestRunPerDate(store, backfill.id);
  const slots: BackfillSlot[] = [];
  backfill.executionDates.forEach((date, i) => {
    const run = latest.get(date.getTime());
    if (run?.status === 'succeeded') return;
    const next = backfill.executionDates[i + 1];
    slots.push({
      executionDate: date,
      intervalStart: date,
      intervalEnd: run?.intervalEnd ?? next ?? new Date(date.getTime() + 86_400_000),
    });
  });
  return slots;
}

/** A Cloud Run task notes its execution on the backfill, so cancelling the backfill can cancel it. */
async function recordExecution(session: Session, id: string): Promise<void> {
  const execution = currentOwner().cloudExecution;
  if (execution?.startsWith('projects/')) await session.store.addBackfillExecution(id, execution);
}

/** Stops a running backfill from starting more runs. Unknown or finished backfills are refused, never overwritten. */
export async function cancelBackfill(session: Session, id: string): Promise<void> {
  const backfill = await session.store.getBackfill(id);
  if (!backfill)
    throw new NotFoundError(`backfill ${id} is not in the run store`, {
      hint: 'backfill ids start with bf-: see the console’s Backfills page or pipekit runs --json',
    });
  assertCancellable(backfill);
  await session.store.updateBackfill(id, { status: 'cancelled', finishedAt: new Date() });
}

/** Only a running backfill can be cancelled: a finished one keeps the status it ended with, here and in the cloud. */
export function assertCancellable(backfill: BackfillRecord): void {
  if (backfill.status === 'running') return;
  throw new UsageError(`backfill ${backfill.id} has already ${backfill.status}: there is nothing to cancel`, {
    hint:
      backfill.status === 'succeeded'
        ? undefined
        : `run its dates again with: pipekit backfill ${backfill.pipeline} --retry ${backfill.id}`,
  });
}

async function runSlots(
  session: Session,
  backfill: BackfillRecord,
  slots: readonly BackfillSlot[],
  options: Pick<BackfillOptions, 'pipeline' | 'variables' | 'parallel' | 'signal' | 'sinks' | 'onEvent'> & {
    /** Each date's claim in the run store (a dedupe key), so that tasks sharing the backfill run it once. */
    readonly claim?: (executionDate: Date) => string;
  },
): Promise<RunResult[]> {
  const results: RunResult[] = [];
  let next = 0;
  const cancelled = async () => options.signal?.aborted || (await session.store.getBackfill(backfill.id))?.status === 'cancelled';
  const worker = async () => {
    while (next < slots.length) {
      // Claimed before the await: another worker may take the last slot while this one asks the store.
      const slot = slots[next++]!;
      if (await cancelled()) return;
      const result = await session.runPipeline({
        pipeline: options.pipeline,
        plan: { ...slot, trigger: 'backfill', triggerVariables: {}, dedupeKey: options.claim?.(slot.executionDate) ?? null },
        variables: { ...backfill.variables, ...(options.variables ?? {}) },
        backfillId: backfill.id,
        signal: options.signal,
        sinks: options.sinks,
        onEvent: options.onEvent,
      });
      if (result.status !== 'duplicate') results.push(result); // another task had this date
    }
  };
  const parallel = Math.max(1, Math.min(options.parallel ?? 1, slots.length || 1));
  await Promise.all(Array.from({ length: parallel }, worker));
  return results.sort((a, b) => (a.run?.executionDate.getTime() ?? 0) - (b.run?.executionDate.getTime() ?? 0));
}

async function latestRunPerDate(store: RunStore, id: string): Promise<Map<number, RunRecord>> {
  const runs = await store.listRuns({ backfillId: id, limit: 10_000 });
  const latest = new Map<number, RunRecord>();
  // listRuns is newest first: the first run seen for a date is its latest.
  for (const run of runs) if (!latest.has(run.executionDate.getTime())) latest.set(run.executionDate.getTime(), run);
  return latest;
}

/**
 * The backfill's status from the latest run of each date: succeeded when all
 * succeeded, failed when any failed, running while some dates have no finished
 * run yet (other Cloud Run tasks may still be working on them).
 */
export async function finishBackfill(session: Session, id: string): Promise<BackfillRecord> {
  const backfill = (await session.store.getBackfill(id))!;
  if (backfill.status === 'cancelled') return backfill;
  const latest = await latestRunPerDate(session.store, id);
  const statuses = backfill.executionDates.map((d) => latest.get(d.getTime())?.status);
  let status: BackfillStatus = 'running';
  if (statuses.every((s) => s === 'succeeded')) status = 'succeeded';
  else if (statuses.every((s) => s === 'succeeded' || s === 'failed' || s === 'cancelled')) {
    status = statuses.includes('failed') ? 'failed' : 'cancelled';
  }
  await session.store.updateBackfill(id, { status, finishedAt: status === 'running' ? null : new Date() });
  return (await session.store.getBackfill(id))!;
}
