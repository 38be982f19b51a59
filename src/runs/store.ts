import type { RunOwner, BackfillRecord, BackfillStatus, BlockRunRecord, LogRecord, RunFilter, RunRecord } from './model.ts';

export type NewRun = Omit<RunRecord, 'status' | 'createdAt' | 'startedAt' | 'finishedAt' | 'error' | 'attempt' | 'owner'> & {
  readonly owner?: RunOwner | null;
};

/**
 * When a run with the same dedupe key exists, whether this start may take it over
 * (as its next attempt) instead of being a duplicate:
 * - `retry`: scheduled ticks — a failed or cancelled run of the tick is retried;
 * - `same-task`: event and backfill claims — only a later attempt of the Cloud Run task that owned it.
 * Either way, the previous attempt of the same Cloud Run task is known dead (Cloud Run runs one at a time).
 */
export type TakeOver = 'retry' | 'same-task';

export interface CreatedRun {
  /** `duplicate`: a live (or succeeded) run has the key; `run` is that run. */
  readonly outcome: 'created' | 'took-over' | 'duplicate';
  readonly run: RunRecord;
}

/** A run the reconciler found dead: the reason Google or the OS gives, and the status it ends in. */
export interface DeadRun {
  readonly status: 'failed' | 'cancelled';
  readonly reason: string;
}
export type BlockRunPatch = Partial<Omit<BlockRunRecord, 'runId' | 'block'>>;
export type RunPatch = Partial<Pick<RunRecord, 'status' | 'startedAt' | 'finishedAt' | 'error'>>;

/**
 * Where runs are recorded. One implementation (Postgres) serves the laptop's
 * embedded server and Cloud SQL alike; the console reads the same tables.
 */
export interface RunStore {
  /**
   * Records a new run with its blocks queued. When a run with the same
   * `dedupeKey` exists already (a scheduler tick delivered twice), it is
   * taken over as its next attempt if `takeOver` allows, else `duplicate`.
   */
  createRun(run: NewRun, blocks: readonly string[], options?: { takeOver?: TakeOver }): Promise<CreatedRun>;
  /**
   * Ends a run the reconciler found dead, and the blocks it left queued or
   * running, if it is still at `attempt` and unfinished. True for exactly one
   * caller: the one that should send the alert.
   */
  markDead(id: string, attempt: number, dead: DeadRun): Promise<boolean>;
  /** Runs still queued or running (what a reconciler checks). */
  activeRuns(): Promise<RunRecord[]>;
  /** The newest run a Cloud Run task (execution + index) started, in any attempt. */
  runOfTask(execution: string, taskIndex: number): Promise<RunRecord | null>;
  updateRun(id: string, patch: RunPatch): Promise<void>;
  updateBlockRun(runId: string, block: string, patch: BlockRunPatch): Promise<void>;
  appendLogs(logs: readonly LogRecord[]): Promise<void>;

  getRun(id: string): Promise<RunRecord | null>;
  listRuns(filter?: RunFilter): Promise<RunRecord[]>;
  getBlockRuns(runId: string): Promise<BlockRunRecord[]>;
  getLogs(runId: string, options?: { block?: string; limit?: number }): Promise<LogRecord[]>;
  /** The newest succeeded output of a block, for single-block reruns. */
  latestOutput(pipeline: string, block: string): Promise<{ runId: string; outputUri: string } | null>;
  /** The newest succeeded output URI of every block of every pipeline, in one query (workspace retention keeps them). */
  latestOutputUris(): Promise<Set<string>>;
  /** Rows out per block of the runs listed, for `pipekit runs`. */
  rowsOut(runIds: readonly string[]): Promise<Map<string, number | null>>;

  createBackfill(backfill: Omit<BackfillRecord, 'status' | 'createdAt' | 'finishedAt' | 'cloudExecutions'>): Promise<BackfillRecord>;
  /** Notes a Cloud Run execution working on the backfill (once per execution). */
  addBackfillExecution(id: string, execution: string): Promise<void>;
  updateBackfill(id: string, patch: { status?: BackfillStatus; finishedAt?: Date | null }): Promise<void>;
  getBackfill(id: string): Promise<BackfillRecord | null>;
  listBackfills(filter?: { pipeline?: string; limit?: number }): Promise<BackfillRecord[]>;

  /** Console overrides of pipeline.yaml's `enabled` per trigger (absent = as declared). */
  setTriggerEnabled(pipeline: string, trigger: string, enabled: boolean): Promise<void>;
  triggerOverrides(pipeline?: string): Promise<{ pipeline: string; trigger: string; enabled: boolean; updatedAt: Date }[]>;

  close(): Promise<void>;
}
