/**
 * The IAM edge of every Google API stand-in. A gateway listens for one
 * service account (Cloud Run's metadata server hands each workload its own
 * identity; here each account gets its own endpoints, and a bearer token
 * minted by the metadata stand-in names the account when a client sends
 * one), maps each request to the permissions Google would check, asks the
 * graph's IAM policy, and either forwards it to the fake behind it or answers
 * 403 naming the account, the permission and the resource.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { permissionDenied, type IamPolicy } from './iam.ts';

export interface Need {
  readonly permission: string;
  readonly resource: string;
}

/** Which permissions a request needs; `body` is the raw request body. */
export type Authorizer = (req: {
  method: string;
  path: string;
  query: URLSearchParams;
  body: Buffer;
  headers: IncomingMessage['headers'];
}) => Need[];

export interface Gateway {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export const TOKEN_PREFIX = 'rehearsal-token.';

/** The account a bearer token from the metadata stand-in names. */
export function accountOfToken(authorization: string | undefined): string | undefined {
  const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
  return token?.startsWith(TOKEN_PREFIX) ? token.slice(TOKEN_PREFIX.length) : undefined;
}

export async function startGateway(options: {
  policy: IamPolicy;
  /** The account this gateway serves when the request carries no token of the rehearsal's. */
  account: string;
  upstream: string;
  authorize: Authorizer;
  /** For the report: `job pipekit-api-to-gcs`, `function gcs-0`. */
  context: string;
  /** Rewrites the path before forwarding (emulator-host quirks). */
  rewrite?: (path: string) => string;
  host?: string;
}): Promise<Gateway> {
  const upstream = new URL(options.upstream);
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://gateway');
    const path = options.rewrite ? options.rewrite(url.pathname) : url.pathname;
    const account = accountOfToken(req.headers.authorization) ?? options.account;
    let needs: Need[];
    try {
      needs = options.authorize({ method: req.method ?? 'GET', path, query: url.searchParams, body, headers: req.headers });
    } catch (error) {
      res.writeHead(400, { 'content-type': 'application/json' });
      return res.end(
        JSON.stringify({ error: { code: 400, message: `rehearsal gateway: ${(error as Error).message}`, status: 'INVALID_ARGUMENT' } }),
      );
    }
    for (const need of needs) {
      const decision = options.policy.check(account, need.permission, need.resource, options.context);
      if (!decision.allowed) {
        const text = JSON.stringify(permissionDenied(decision));
        res.writeHead(403, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) });
        return res.end(text);
      }
    }
    const forward = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: `${path}${url.search}`,
        headers: { ...req.headers, host: upstream.host, 'x-rehearsal-account': account },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', (error) => {
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 502, message: `rehearsal gateway: ${error.message}` } }));
    });
    forward.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** Cloud Storage JSON API: what each call needs (paths as @google-cloud/storage sends them). */
export function storageNeeds(project: string): Authorizer {
  return ({ method, path, query }) => {
    const p = path.replace(/^\/upload/, '').replace(/^\/storage\/v1/, '');
    if (method === 'POST' && p === '/b') return [{ permission: 'storage.buckets.create', resource: `projects/${project}` }];
    const m = /^\/b\/([^/]+)(?:\/o(?:\/(.+))?)?$/.exec(p);
    if (!m) return [];
    const bucket = `projects/_/buckets/${decodeURIComponent(m[1]!)}`;
    const isObjects = p.includes('/o');
    const object = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
    const on = (permission: string) => [{ permission, resource: object ? `${bucket}/objects/${object}` : bucket }];
    if (!isObjects) return method === 'GET' ? on('storage.buckets.get') : on('storage.buckets.update');
    if (method === 'PUT' && query.get('upload_id')) return []; // the session was authorised when it started
    if (method === 'GET') return on(object === undefined ? 'storage.objects.list' : 'storage.objects.get');
    if (method === 'DELETE') return on('storage.objects.delete');
    if (method === 'PATCH') return on('storage.objects.update');
    return [{ permission: 'storage.objects.create', resource: bucket }];
  };
}

/** BigQuery v2: jobs are created on the project; what they write or read is checked on the dataset. */
export function bigqueryNeeds(): Authorizer {
  return ({ method, path, body, headers }) => {
    const m = /^(?:\/upload)?\/bigquery\/v2\/projects\/([^/]+)(\/.*)$/.exec(path);
    if (!m) return [];
    const project = m[1]!;
    const rest = m[2]!;
    const dataset = (d: string) => `projects/${project}/datasets/${d}`;
    if (rest === '/jobs' && method === 'POST') {
      let config: any = {};
      const text = body.toString('utf8');
      const contentType = String(headers['content-type'] ?? '');
      try {
        config = contentType.startsWith('multipart/')
          ? JSON.parse(/\{[\s\S]*?\}\s*\r?\n--/.exec(text)?.[0].replace(/\r?\n--$/, '') ?? '{}')
          : JSON.parse(text || '{}');
      } catch {
        config = {};
      }
      const needs: Need[] = [{ permission: 'bigquery.jobs.create', resource: `projects/${project}` }];
      const load = config.configuration?.load;
      const query = config.configuration?.query;
      const destination = load?.destinationTable ?? query?.destinationTable;
      if (destination?.datasetId) {
        needs.push({ permission: 'bigquery.tables.updateData', resource: dataset(destination.datasetId) });
        needs.push({ permission: 'bigquery.tables.create', resource: dataset(destination.datasetId) });
      }
      // A load from gs:// reads the objects as the caller.
      for (const uri of load?.sourceUris ?? []) {
        const g = /^gs:\/\/([^/]+)\/(.*)$/.exec(uri);
        if (g) needs.push({ permission: 'storage.objects.get', resource: `projects/_/buckets/${g[1]}/objects/${g[2]}` });
      }
      return needs;
    }
    let r: RegExpExecArray | null;
    if (rest === '/datasets' && method === 'POST') return [{ permission: 'bigquery.datasets.create', resource: `projects/${project}` }];
    if ((r = /^\/datasets\/([^/]+)$/.exec(rest)))
      return [{ permission: method === 'GET' ? 'bigquery.datasets.get' : 'bigquery.datasets.update', resource: dataset(r[1]!) }];
    if ((r = /^\/datasets\/([^/]+)\/tables$/.exec(rest)))
      return [{ permission: method === 'POST' ? 'bigquery.tables.create' : 'bigquery.tables.list', resource: dataset(r[1]!) }];
    if ((r = /^\/datasets\/([^/]+)\/tables\/([^/]+)(\/data|\/insertAll)?$/.exec(rest))) {
      const permission =
        r[3] === '/data'
          ? 'bigquery.tables.getData'
          : r[3] === '/insertAll'
            ? 'bigquery.tables.updateData'
            : method === 'GET'
              ? 'bigquery.tables.get'
              : method === 'DELETE'
                ? 'bigquery.tables.delete'
                : 'bigquery.tables.update';
      return [{ permission, resource: dataset(r[1]!) }];
    }
    return []; // reading one's own jobs and query results
  };
}

/** Cloud Run Admin API v2 and Cloud Scheduler v1 calls pipekit makes. */
export function runApiNeeds(): Authorizer {
  return ({ method, path, body }) => {
    const run = /^\/v2\/(projects\/[^/]+\/locations\/[^/]+\/jobs\/[^/:]+):run$/.exec(path);
    if (run && method === 'POST') {
      let parsed: any = {};
      try {
        parsed = JSON.parse(body.toString('utf8') || '{}');
      } catch {
        parsed = {};
      }
      return [{ permission: parsed?.overrides ? 'run.jobs.runWithOverrides' : 'run.jobs.run', resource: run[1]! }];
    }
    const tasks = /^\/v2\/(projects\/[^/]+\/locations\/[^/]+\/jobs\/[^/]+)\/executions\/[^/:]+\/tasks(\/[^/]+)?$/.exec(path);
    if (tasks) return [{ permission: tasks[2] ? 'run.tasks.get' : 'run.tasks.list', resource: tasks[1]! }];
    const execution = /^\/v2\/(projects\/[^/]+\/locations\/[^/]+\/jobs\/[^/]+)\/executions\/[^/:]+(:cancel)?$/.exec(path);
    if (execution) return [{ permission: execution[2] ? 'run.executions.cancel' : 'run.executions.get', resource: execution[1]! }];
    const scheduler = /^\/v1\/(projects\/[^/]+)\/locations\/[^/]+\/jobs\/[^/:]+:(pause|resume)$/.exec(path);
    if (scheduler) return [{ permission: `cloudscheduler.jobs.${scheduler[2]}`, resource: scheduler[1]! }];
    return [];
  };
}
