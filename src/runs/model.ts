/** Statuses of a run and of each block in it (a superset of Mage's). */
export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export type BlockStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'upstream_failed' | 'skipped' | 'cancelled';

export const FINISHED_RUN: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled'];
export const FINISHED_BLOCK: readonly BlockStatus[] = ['succeeded', 'failed', 'upstream_failed', 'skipped', 'cancelled'];

export interface RunRecord {
  readonly id: string;
  readonly pipeline: string;
  /** `manual`, `backfill`, `api`, `event`, or a schedule trigger's name. */
  readonly trigger: string;
  readonly executionDate: Date;
  readonly intervalStart: Date;
  readonly intervalEnd: Date;
  readonly profile: string;
  readonly variables: Readonly<Record<string, unknown>>;
  readonly status: RunStatus;
  readonly createdAt: Date;
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
  readonly error: string | null;
  readonly backfillId: string | null;
  readonly resumedFrom: string | null;
  /** Set for scheduled runs: the same tick delivered twice maps to one run. */
  readonly dedupeKey: string | null;
  /** 1, then N+1 each time a retried task (or a re-run of a failed tick) takes the run over. */
  readonly attempt: number;
  /** The process (local) or Cloud Run task (cloud) running the current attempt; null for runs recorded before it was kept. */
  readonly owner: RunOwner | null;
}

/**
 * Who runs a run's current attempt, so a reconciler can tell a live run from
 * one whose process or Cloud Run task is gone.
 */
export interface RunOwner {
  readonly host: string;
  readonly pid: number;
  /** The process's start as the OS reports it: with `pid`, names one process even after the pid is reused. */
  readonly processStart: string | null;
  /** Cloud Run only: the execution's resource name (`projects/P/locations/R/jobs/J/executions/E`). */
  readonly cloudExecution: string | null;
  readonly cloudTaskIndex: number | null;
  /** Cloud Run's CLOUD_RUN_TASK_ATTEMPT: 0 for the first try of a task. */
  readonly cloudTaskAttempt: number | null;
}

export interface BlockRunRecord {
  readonly runId: string;
  readonly block: string;
  readonly status: BlockStatus;
  readonly attempts: number;
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
  readonly rowsOut: number | null;
  readonly error: string | null;
  /** Where the block's output was persisted in the run workspace. */
  readonly outputUri: string | null;
  /** The run whose output was reused instead of executing (resume, single-block rerun). */
  readonly reusedFrom: string | null;
}

export type LogSeverity = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';

export interface LogRecord {
  readonly runId: string;
  readonly block: string | null;
  readonly time: Date;
  readonly severity: LogSeverity;
  readonly message: string;
  readonly fields?: Readonly<Record<string, unknown>>;
}

export type BackfillStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface BackfillRecord {
  readonly id: string;
  readonly pipeline: string;
  readonly start: Date;
  readonly end: Date;
  /** `day`, `hour`, `week`, `month` or a cron expression. */
  readonly every: string;
  readonly variables: Readonly<Record<string, unknown>>;
  readonly status: BackfillStatus;
  readonly createdAt: Date;
  readonly finishedAt: Date | null;
  /** Planned execution dates, in order. */
  readonly executionDates: readonly Date[];
  /** Cloud Run executions that worked on it (resource names), newest last. */
  readonly cloudExecutions: readonly string[];
}

export interface RunFilter {
  readonly pipeline?: string;
  readonly status?: RunStatus;
  readonly backfillId?: string;
  /** Runs that resumed this run. */
  readonly resumedFrom?: string;
  readonly limit?: number;
}
