import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request the fake received, body parsed as JSON. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly body: unknown;
}

/** What `jobs/J:run` was asked to do. */
export interface RecordedRunJob {
  readonly job: string;
  readonly args: string[];
  readonly env: { name: string; value: string }[];
  readonly taskCount?: number;
  readonly timeout?: string;
  readonly raw: unknown;
}

/** How the fake ends a task attempt: Google's terminal states, as the Run API reports them. */
export type AttemptEnding =
  | 'succeeded'
  | 'failed'
  | 'oom'
  | 'timeout'
  | 'cancelled'
  | { code: number; message: string; exitCode?: number; termSignal?: number };

/** One task attempt the fake started: what a container of the job would be started with. */
export interface TaskAttemptStart {
  /** `projects/P/locations/R/jobs/J` */
  readonly job: string;
  /** `projects/P/locations/R/jobs/J/executions/E` */
  readonly execution: string;
  readonly taskIndex: number;
  readonly taskCount: number;
  /** 0 for the first try, as CLOUD_RUN_TASK_ATTEMPT. */
  readonly attempt: number;
  readonly args: string[];
  /** The overrides' env plus what Cloud Run sets: CLOUD_RUN_JOB/EXECUTION/TASK_INDEX/TASK_ATTEMPT/TASK_COUNT. */
  readonly env: Record<string, string>;
}

export interface FakeTask {
  readonly index: number;
  /** Cloud Run's `retried`: the current attempt. */
  retried: number;
  state: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
  lastAttemptResult?: { status: { code: number; message: string }; exitCode?: number; termSignal?: number };
  startTime: string;
  completionTime?: string;
}

export interface FakeExecution {
  readonly name: string;
  readonly job: string;
  readonly args: string[];
  readonly env: { name: string; value: string }[];
  readonly maxRetries: number;
  readonly tasks: FakeTask[];
  cancelled: boolean;
  completionTime?: string;
  readonly createTime: string;
}

export interface RunApiFake {
  /** `http://127.0.0.1:PORT`, for PIPEKIT_RUN_API_ENDPOINT / PIPEKIT_SCHEDULER_API_ENDPOINT. */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Only the runJob calls, decoded. */
  runJobs(): RecordedRunJob[];
  /** Scheduler pause/resume calls: `pause <job>` / `resume <job>`. */
  schedulerCalls(): string[];
  /** Job ids (last path segment) that answer 404 NOT_FOUND. */
  readonly missingJobs: Set<string>;
  /** Executions started through `jobs/J:run`, oldest first. */
  executions(): FakeExecution[];
  execution(name: string): FakeExecution;
  /** Cloud Run's task `maxRetries` per job id (default 0): a failed attempt is retried that many times. */
  readonly maxRetries: Map<string, number>;
  /**
   * Ends the current attempt of a task as Cloud Run would. A failed attempt
   * (anything but succeeded/cancelled) with retries left starts the next
   * attempt, which `onTaskAttempt` hears about; the execution completes when
   * every task has.
   */
  endAttempt(execution: string, taskIndex: number, ending: AttemptEnding): void;
  /** Called for every task attempt that starts (a rehearsal starts the job's container here). */
  onTaskAttempt?: (start: TaskAttemptStart) => void;
  /** Called when an execution is cancelled (a rehearsal stops the containers here). */
  onCancel?: (execution: FakeExecution) => void;
  /** The `executions/E:cancel` calls, by execution name. */
  cancels(): string[];
  reset(): void;
  close(): Promise<void>;
}

/**
 * A local stand-in for the Cloud Run Admin API v2 (`jobs/J:run` answered with
 * a long-running operation, `operations/ID` answered done) and the Cloud
 * Scheduler v1 pause/resume calls, as google-gax sends them in REST mode.
 *
 * Each `:run` becomes an execution with its tasks (`taskCount`), each task
 * with attempts: `executions/E`, `executions/E/tasks`, `executions/E:cancel`
 * and `jobs/J/executions` answer as the real API does. A test (or the
 * rehearsal) ends attempts with Google's terminal states — `endAttempt(E, i,
 * 'oom' | 'timeout' | 'failed' | 'succeeded' | 'cancelled')` — and Cloud Run's
 * retries follow `maxRetries`. `onTaskAttempt` hears every attempt start with
 * the args and CLOUD_RUN_* env its container would get (start the container
 * there); `onCancel` hears a cancelled execution (stop its containers).
 */
export interface RunApiFakeOptions {
  /**
   * Called for every accepted `jobs/J:run` with the job's resource name, the
   * request body as sent and the execution name the fake answers with (the
   * rehearsal starts the job's containers here). Not awaited: like Cloud
   * Run, the call returns once the execution is created.
   */
  readonly onRun?: (run: { job: string; body: unknown; execution: string }) => unknown;
}

export async function startRunApiFake(options: RunApiFakeOptions = {}): Promise<RunApiFake> {
  const requests: RecordedRequest[] = [];
  const missingJobs = new Set<string>();
  const executions = new Map<string, string>();
  const byName = new Map<string, FakeExecution>();
  const maxRetries = new Map<string, number>();
  let counter = 0;
  let fake: RunApiFake;

  const startAttempt = (execution: FakeExecution, task: FakeTask) => {
    const short = (name: string) => name.split('/').at(-1)!;
    const env: Record<string, string> = Object.fromEntries(execution.env.map((e) => [e.name, e.value]));
    Object.assign(env, {
      CLOUD_RUN_JOB: short(execution.job),
      CLOUD_RUN_EXECUTION: short(execution.name),
      CLOUD_RUN_TASK_INDEX: String(task.index),
      CLOUD_RUN_TASK_ATTEMPT: String(task.retried),
      CLOUD_RUN_TASK_COUNT: String(execution.tasks.length),
    });
    fake.onTaskAttempt?.({
      job: execution.job,
      execution: execution.name,
      taskIndex: task.index,
      taskCount: execution.tasks.length,
      attempt: task.retried,
      args: [...execution.args],
      env,
    });
  };

  const finishIfDone = (execution: FakeExecution) => {
    if (!execution.completionTime && execution.tasks.every((t) => t.state !== 'RUNNING'))
      execution.completionTime = new Date().toISOString();
  };

  const server: Server = createServer(async (req, res) => {
    const body = await readJson(req);
    const path = (req.url ?? '').split('?')[0]!;
    requests.push({ method: req.method ?? 'GET', path, body });
    const reply = (status: number, json: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json));
    };

    const run = /^\/v2\/(projects\/[^/]+\/locations\/[^/]+)\/jobs\/([^/:]+):run$/.exec(path);
    if (req.method === 'POST' && run) {
      const [, parent, job] = run;
      if (missingJobs.has(job!))
        return reply(404, { error: { code: 404, message: `Resource '${job}' was not found`, status: 'NOT_FOUND' } });
      const id = `op-${++counter}`;
      const execution = `${parent}/jobs/${job}/executions/${job}-${String(counter).padStart(5, '0')}`;
      executions.set(id, execution);
      const overrides = (
        body as {
          overrides?: { containerOverrides?: { args?: string[]; env?: { name: string; value: string }[] }[]; taskCount?: number };
        } | null
      )?.overrides;
      const now = new Date().toISOString();
      const created: FakeExecution = {
        name: execution,
        job: `${parent}/jobs/${job}`,
        args: overrides?.containerOverrides?.[0]?.args ?? [],
        env: overrides?.containerOverrides?.[0]?.env ?? [],
        maxRetries: maxRetries.get(job!) ?? 0,
        tasks: Array.from({ length: overrides?.taskCount ?? 1 }, (_, index) => ({
          index,
          retried: 0,
          state: 'RUNNING' as const,
          startTime: now,
        })),
        cancelled: false,
        createTime: now,
      };
      byName.set(execution, created);
      // After the reply: a hook that starts a process must not delay the API's answer.
      setImmediate(() => created.tasks.forEach((task) => startAttempt(created, task)));
      if (options.onRun) void Promise.resolve().then(() => options.onRun!({ job: `${parent}/jobs/${job}`, body, execution }));
      return reply(200, {
        name: `${parent}/operations/${id}`,
        metadata: { '@type': 'type.googleapis.com/google.cloud.run.v2.Execution', name: execution },
        done: false,
      });
    }
    const op = /^\/v2\/(projects\/[^/]+\/locations\/[^/]+)\/operations\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && op) {
      const execution = executions.get(op[2]!);
      if (!execution) return reply(404, { error: { code: 404, message: 'no such operation', status: 'NOT_FOUND' } });
      return reply(200, {
        name: path.slice(4),
        done: true,
        metadata: { '@type': 'type.googleapis.com/google.cloud.run.v2.Execution', name: execution },
        response: { '@type': 'type.googleapis.com/google.cloud.run.v2.Execution', name: execution },
      });
    }
    const exec = /^\/v2\/(projects\/[^/]+\/locations\/[^/]+\/jobs\/[^/]+\/executions\/[^/:]+)(:cancel|\/tasks(?:\/([^/]+))?)?$/.exec(path);
    if (exec) {
      const execution = byName.get(exec[1]!);
      if (!execution) return reply(404, { error: { code: 404, message: `Execution ${exec[1]} was not found`, status: 'NOT_FOUND' } });
      if (req.method === 'POST' && exec[2] === ':cancel') {
        cancel(execution);
        const json = executionJson(execution);
        return reply(200, {
          name: `${exec[1]!.replace(/\/jobs\/.*$/, '')}/operations/cancel-${++counter}`,
          done: true,
          metadata: { '@type': EXECUTION_TYPE, ...json },
          response: { '@type': EXECUTION_TYPE, ...json },
        });
      }
      if (req.method === 'GET' && exec[2] === undefined) return reply(200, executionJson(execution));
      if (req.method === 'GET' && exec[2]?.startsWith('/tasks') && exec[3] === undefined)
        return reply(200, { tasks: execution.tasks.map((t) => taskJson(execution, t)) });
      if (req.method === 'GET' && exec[3] !== undefined) {
        const task = execution.tasks.find((t) => taskName(execution, t).endsWith(`/${exec[3]}`));
        if (!task) return reply(404, { error: { code: 404, message: 'no such task', status: 'NOT_FOUND' } });
        return reply(200, taskJson(execution, task));
      }
    }
    const list = /^\/v2\/(projects\/[^/]+\/locations\/[^/]+\/jobs\/[^/:]+)\/executions$/.exec(path);
    if (req.method === 'GET' && list) {
      return reply(200, {
        executions: [...byName.values()]
          .filter((e) => e.job === list[1])
          .reverse()
          .map(executionJson),
      });
    }
    const scheduler = /^\/v1\/projects\/[^/]+\/locations\/[^/]+\/jobs\/([^/:]+):(pause|resume)$/.exec(path);
    if (req.method === 'POST' && scheduler) {
      if (missingJobs.has(scheduler[1]!)) return reply(404, { error: { code: 404, message: 'job not found', status: 'NOT_FOUND' } });
      return reply(200, { name: path.slice(4).replace(/:(pause|resume)$/, ''), state: scheduler[2] === 'pause' ? 'PAUSED' : 'ENABLED' });
    }
    reply(404, { error: { code: 404, message: `the fake does not know ${req.method} ${path}`, status: 'NOT_FOUND' } });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const cancel = (execution: FakeExecution) => {
    if (execution.completionTime) return;
    execution.cancelled = true;
    const now = new Date().toISOString();
    for (const task of execution.tasks) {
      if (task.state !== 'RUNNING') continue;
      task.state = 'CANCELLED';
      task.lastAttemptResult = { status: { code: 1, message: 'The execution was cancelled.' }, termSignal: 15 };
      task.completionTime = now;
    }
    finishIfDone(execution);
    fake.onCancel?.(execution);
  };

  fake = {
    url: `http://127.0.0.1:${port}`,
    requests,
    missingJobs,
    maxRetries,
    executions: () => [...byName.values()],
    execution(name) {
      const found = byName.get(name) ?? [...byName.values()].find((e) => e.name.endsWith(`/${name}`));
      if (!found) throw new Error(`the Run API fake has no execution ${name}`);
      return found;
    },
    endAttempt(name, taskIndex, ending) {
      const execution = fake.execution(name);
      const task = execution.tasks[taskIndex];
      if (task?.state !== 'RUNNING') throw new Error(`task ${taskIndex} of ${name} is not running`);
      if (ending === 'cancelled') return cancel(execution);
      const result = attemptResult(ending, execution);
      task.lastAttemptResult = result;
      if (result.status.code !== 0 && task.retried < execution.maxRetries) {
        task.retried++;
        startAttempt(execution, task);
        return;
      }
      task.state = result.status.code === 0 ? 'SUCCEEDED' : 'FAILED';
      task.completionTime = new Date().toISOString();
      finishIfDone(execution);
    },
    cancels() {
      return requests
        .filter((r) => r.method === 'POST' && r.path.endsWith(':cancel'))
        .map((r) => r.path.replace(/^\/v2\//, '').replace(/:cancel$/, ''));
    },
    runJobs() {
      return requests
        .filter((r) => r.method === 'POST' && r.path.endsWith(':run') && r.path.startsWith('/v2/'))
        .map((r) => {
          const body = r.body as {
            overrides?: {
              containerOverrides?: { args?: string[]; env?: { name: string; value: string }[] }[];
              taskCount?: number;
              timeout?: string;
            };
          };
          const container = body.overrides?.containerOverrides?.[0] ?? {};
          return {
            job: r.path.replace(/^\/v2\//, '').replace(/:run$/, ''),
            args: container.args ?? [],
            env: container.env ?? [],
            taskCount: body.overrides?.taskCount,
            timeout: body.overrides?.timeout,
            raw: r.body,
          };
        });
    },
    schedulerCalls() {
      return requests
        .filter((r) => r.path.startsWith('/v1/') && /:(pause|resume)$/.test(r.path))
        .map((r) => {
          const m = /jobs\/([^/:]+):(pause|resume)$/.exec(r.path)!;
          return `${m[2]} ${m[1]}`;
        });
    },
    reset() {
      requests.length = 0;
      missingJobs.clear();
      byName.clear();
      maxRetries.clear();
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return fake;
}

const EXECUTION_TYPE = 'type.googleapis.com/google.cloud.run.v2.Execution';

/** Google's words for each ending (the OOM text is what Cloud Run logs for a job task). */
function attemptResult(ending: Exclude<AttemptEnding, 'cancelled'>, execution: FakeExecution): NonNullable<FakeTask['lastAttemptResult']> {
  if (typeof ending === 'object')
    return { status: { code: ending.code, message: ending.message }, exitCode: ending.exitCode, termSignal: ending.termSignal };
  switch (ending) {
    case 'succeeded':
      return { status: { code: 0, message: '' }, exitCode: 0 };
    case 'failed':
      return { status: { code: 2, message: 'Task failed: the container exited with a non-zero status.' }, exitCode: 1 };
    case 'oom':
      return {
        status: {
          code: 9,
          message: 'Container terminated: Memory limit of 512 MiB exceeded with 531 MiB used. Consider increasing the memory limit.',
        },
        termSignal: 9,
      };
    case 'timeout':
      return {
        status: {
          code: 4,
          message: `The task has been running for longer than its configured timeout (${execution.job.split('/').at(-1)}: 600s) and was stopped.`,
        },
        termSignal: 15,
      };
  }
}

function taskName(execution: FakeExecution, task: FakeTask): string {
  return `${execution.name}/tasks/${execution.name.split('/').at(-1)}-task${task.index}`;
}

function taskJson(execution: FakeExecution, task: FakeTask) {
  return {
    name: taskName(execution, task),
    job: execution.job.split('/').at(-1),
    execution: execution.name.split('/').at(-1),
    index: task.index,
    retried: task.retried,
    maxRetries: execution.maxRetries,
    startTime: task.startTime,
    ...(task.completionTime ? { completionTime: task.completionTime } : {}),
    ...(task.lastAttemptResult ? { lastAttemptResult: task.lastAttemptResult } : {}),
  };
}

function executionJson(execution: FakeExecution) {
  const count = (state: FakeTask['state']) => execution.tasks.filter((t) => t.state === state).length;
  return {
    name: execution.name,
    job: execution.job.split('/').at(-1),
    createTime: execution.createTime,
    startTime: execution.createTime,
    ...(execution.completionTime ? { completionTime: execution.completionTime } : {}),
    taskCount: execution.tasks.length,
    runningCount: count('RUNNING'),
    succeededCount: count('SUCCEEDED'),
    failedCount: count('FAILED'),
    cancelledCount: count('CANCELLED'),
    retriedCount: execution.tasks.reduce((n, t) => n + t.retried, 0),
  };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
