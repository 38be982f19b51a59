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
  reset(): void;
  close(): Promise<void>;
}

/**
 * A local stand-in for the Cloud Run Admin API v2 (`jobs/J:run` answered with
 * a long-running operation, `operations/ID` answered done) and the Cloud
 * Scheduler v1 pause/resume calls, as google-gax sends them in REST mode.
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
  let counter = 0;

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
      if (missingJobs.has(job!)) return reply(404, { error: { code: 404, message: `Resource '${job}' was not found`, status: 'NOT_FOUND' } });
      const id = `op-${++counter}`;
      const execution = `${parent}/jobs/${job}/executions/${job}-${String(counter).padStart(5, '0')}`;
      executions.set(id, execution);
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
    const scheduler = /^\/v1\/projects\/[^/]+\/locations\/[^/]+\/jobs\/([^/:]+):(pause|resume)$/.exec(path);
    if (req.method === 'POST' && scheduler) {
      if (missingJobs.has(scheduler[1]!)) return reply(404, { error: { code: 404, message: 'job not found', status: 'NOT_FOUND' } });
      return reply(200, { name: path.slice(4).replace(/:(pause|resume)$/, ''), state: scheduler[2] === 'pause' ? 'PAUSED' : 'ENABLED' });
    }
    reply(404, { error: { code: 404, message: `the fake does not know ${req.method} ${path}`, status: 'NOT_FOUND' } });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    missingJobs,
    runJobs() {
      return requests
        .filter((r) => r.method === 'POST' && r.path.endsWith(':run') && r.path.startsWith('/v2/'))
        .map((r) => {
          const body = r.body as { overrides?: { containerOverrides?: { args?: string[]; env?: { name: string; value: string }[] }[]; taskCount?: number; timeout?: string } };
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
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
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
