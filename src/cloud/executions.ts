import type { ExecutionsClient, TasksClient, protos } from '@google-cloud/run';
import { ConnectionError } from '../errors.ts';

type ITask = protos.google.cloud.run.v2.ITask;
type IExecution = protos.google.cloud.run.v2.IExecution;

/** How one Cloud Run task attempt ended, in Google's words. */
export interface AttemptEnd {
  /** google.rpc.Code of the attempt's status (0 = OK). */
  readonly code: number;
  readonly message: string;
  readonly exitCode: number | null;
  readonly termSignal: number | null;
}

/** What the Run API says about one task of an execution. */
export interface TaskState {
  /** The execution is gone (deleted, or never existed). */
  readonly missing: boolean;
  /** The attempt now current: Cloud Run's `retried` count, as CLOUD_RUN_TASK_ATTEMPT numbers it. */
  readonly attempt: number;
  /** The current attempt has not ended (and the execution has not). */
  readonly running: boolean;
  readonly cancelled: boolean;
  /** The latest attempt that ended. */
  readonly lastEnd: AttemptEnd | null;
}

/** The Run API calls the reconciler and the cloud console make, behind one seam. */
export interface CloudExecutions {
  task(execution: string, index: number): Promise<TaskState>;
  /** Cancels an execution (all its tasks); an execution that already ended is left as it is. */
  cancel(execution: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * The Cloud Run Admin API v2 (`executions.get`, `tasks.list`,
 * `executions.cancel`); PIPEKIT_RUN_API_ENDPOINT points it at a local fake.
 * The caller needs run.executions.get/cancel and run.tasks.list (roles/run.developer
 * on the jobs, or a custom role with those).
 */
export function createCloudExecutions(env: NodeJS.ProcessEnv = process.env): CloudExecutions {
  let clients: Promise<{ executions: ExecutionsClient; tasks: TasksClient }> | undefined;
  // Loaded on first use: a laptop's `pipekit runs` never needs the Google client libraries.
  const connect = () =>
    (clients ??= (async () => {
      const [{ ExecutionsClient, TasksClient }, { gaxClientOptions }] = await Promise.all([
        import('@google-cloud/run'),
        import('./job-launcher.ts'),
      ]);
      const options = gaxClientOptions(env.PIPEKIT_RUN_API_ENDPOINT);
      return { executions: new ExecutionsClient(options), tasks: new TasksClient(options) };
    })());
  return {
    async task(execution, index) {
      const { executions, tasks } = await connect();
      let resource: IExecution;
      try {
        [resource] = await executions.getExecution({ name: execution });
      } catch (error) {
        if (isNotFound(error)) return { missing: true, attempt: 0, running: false, cancelled: false, lastEnd: null };
        throw lookupError(execution, error);
      }
      let list: ITask[];
      try {
        [list] = await tasks.listTasks({ parent: execution }, { autoPaginate: true });
      } catch (error) {
        throw lookupError(execution, error);
      }
      const task = list.find((t) => (t.index ?? 0) === index);
      const executionDone = Boolean(resource.completionTime);
      const cancelled = (resource.cancelledCount ?? 0) > 0 || task?.lastAttemptResult?.status?.code === 1;
      return {
        missing: false,
        attempt: task?.retried ?? 0,
        running: !executionDone && !task?.completionTime && !cancelled,
        cancelled,
        lastEnd: task?.lastAttemptResult ? attemptEnd(task.lastAttemptResult) : null,
      };
    },
    async cancel(execution) {
      const { executions } = await connect();
      try {
        await executions.cancelExecution({ name: execution });
      } catch (error) {
        // FAILED_PRECONDITION: it has already ended, which is what cancel wanted.
        if (isNotFound(error) || (error as { code?: number }).code === 9) return;
        throw new ConnectionError({
          target: execution,
          message: `could not cancel the execution: ${(error as Error).message}`,
          hint: 'the caller needs run.executions.cancel on the job (the console service account has it)',
          cause: error,
        });
      }
    },
    async close() {
      if (!clients) return;
      const { executions, tasks } = await clients;
      await Promise.all([executions.close(), tasks.close()]);
    },
  };
}

function attemptEnd(result: protos.google.cloud.run.v2.ITaskAttemptResult): AttemptEnd {
  return {
    code: result.status?.code ?? 0,
    message: result.status?.message ?? '',
    exitCode: result.exitCode ?? null,
    termSignal: result.termSignal || null,
  };
}

function isNotFound(error: unknown): boolean {
  const code = (error as { code?: number }).code;
  return code === 5 || code === 404;
}

function lookupError(execution: string, error: unknown): ConnectionError {
  return new ConnectionError({
    target: execution,
    message: `could not read the execution's state from the Run API: ${(error as Error).message}`,
    hint: 'the caller needs run.executions.get and run.tasks.list on the pipeline jobs; the run is left as it is until the next reconcile',
    cause: error,
  });
}
