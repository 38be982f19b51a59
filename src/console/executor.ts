export interface StartRunRequest {
  readonly pipeline: string;
  readonly variables: Readonly<Record<string, unknown>>;
  readonly executionDate?: Date;
}

export interface StartBackfillRequest {
  readonly pipeline: string;
  readonly start: Date;
  readonly end: Date;
  /** `day`, `hour`, `week`, `month` or a cron expression. */
  readonly every: string;
  readonly timezone: string;
  readonly variables: Readonly<Record<string, unknown>>;
  /** Runs at once. */
  readonly parallel: number;
}

/**
 * Where the console's buttons take effect: in the console process on a
 * laptop (`local-executor.ts`), as Cloud Run job executions in the cloud
 * (`cloud-executor.ts`). Both record into the same run store.
 */
export interface Executor {
  readonly mode: 'local' | 'cloud';
  /** Returns the run id (local) or the Cloud Run execution name (cloud). */
  startRun(request: StartRunRequest): Promise<{ runId?: string; execution?: string }>;
  cancelRun(runId: string): Promise<void>;
  startBackfill(request: StartBackfillRequest): Promise<{ backfillId: string; execution?: string }>;
  cancelBackfill(id: string): Promise<void>;
  retryBackfill(
    id: string,
    options?: { variables?: Readonly<Record<string, unknown>>; parallel?: number },
  ): Promise<{ execution?: string }>;
  /** Pauses or resumes what fires a trigger outside the run store (Cloud Scheduler); a no-op locally. */
  setTriggerPaused(pipeline: string, trigger: string, paused: boolean): Promise<void>;
  /** Cancels what still runs in this process and waits for it to stop. */
  close(): Promise<void>;
}
