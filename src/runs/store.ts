import type {
  BackfillRecord,
  BackfillStatus,
  BlockRunRecord,
  LogRecord,
  RunFilter,
  RunRecord,
} from './model.ts';

export type NewRun = Omit<RunRecord, 'status' | 'createdAt' | 'startedAt' | 'finishedAt' | 'error'>;
export type BlockRunPatch = Partial<Omit<BlockRunRecord, 'runId' | 'block'>>;
export type RunPatch = Partial<Pick<RunRecord, 'status' | 'startedAt' | 'finishedAt' | 'error'>>;

/**
 * Where runs are recorded. One implementation (Postgres) serves the laptop's
 * embedded server and Cloud SQL alike; the console reads the same tables.
 */
export interface RunStore {
  /**
   * Records a new run with its blocks queued. Returns `null` when a run with
   * the same `dedupeKey` exists already (a scheduler tick delivered twice).
   */
  createRun(run: NewRun, blocks: readonly string[]): Promise<RunRecord | null>;
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

  createBackfill(backfill: Omit<BackfillRecord, 'status' | 'createdAt' | 'finishedAt'>): Promise<BackfillRecord>;
  updateBackfill(id: string, patch: { status?: BackfillStatus; finishedAt?: Date | null }): Promise<void>;
  getBackfill(id: string): Promise<BackfillRecord | null>;
  listBackfills(filter?: { pipeline?: string; limit?: number }): Promise<BackfillRecord[]>;

  /** Console overrides of pipeline.yaml's `enabled` per trigger (absent = as declared). */
  setTriggerEnabled(pipeline: string, trigger: string, enabled: boolean): Promise<void>;
  triggerOverrides(pipeline?: string): Promise<{ pipeline: string; trigger: string; enabled: boolean; updatedAt: Date }[]>;

  close(): Promise<void>;
}
