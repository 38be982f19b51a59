import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Session } from '../engine/session.ts';
import { describeError, isPipekitError } from '../errors.ts';
import {
  hasSession,
  isAuthorized,
  isHttps,
  resolveConsoleToken,
  sameSecret,
  sessionCookie,
  SESSION_COOKIE,
  type TokenSource,
} from './auth.ts';
import type { Executor } from './executor.ts';
import { ApiError, baseHeaders, readBody, sendError, sendJson } from './http.ts';
import { createLocalExecutor } from './local-executor.ts';
import { createReadApi } from './read-api.ts';
import { loadStaticFiles } from './static-files.ts';
import { createWriteApi } from './write-api.ts';

export interface ConsoleOptions {
  readonly session: Session;
  /** Default 127.0.0.1: the laptop console is not on the network unless asked. */
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** The write token; default PIPEKIT_API_TOKEN, else `<project>/.pipekit/console-token` (generated once). */
  readonly token?: string;
  readonly log?: (message: string) => void;
  readonly env?: NodeJS.ProcessEnv;
  /** Overrides where buttons take effect (tests); default local, or cloud when PIPEKIT_JOB_PREFIX is set. */
  readonly executor?: Executor;
}

export interface ConsoleServer {
  readonly url: string;
  /** The write token. Show it only when `tokenSource` is `file` (never one from the environment: it would land in logs). */
  readonly token: string;
  readonly tokenSource: TokenSource;
  /** The file the token was read from or written to, when it came from one. */
  readonly tokenFile?: string;
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, params: string[], query: URLSearchParams) => Promise<unknown>;
interface Route {
  readonly method: 'GET' | 'POST';
  readonly pattern: RegExp;
  readonly handler: Handler;
}

/**
 * Serves the web console: a JSON API over the run store and the project,
 * and the static pages in `public/`. Every POST needs the token (bearer, or
 * the cookie the login form sets). Reads (runs, logs, data previews) are
 * open on a laptop but need it too in the cloud, where the console faces a
 * load balancer rather than 127.0.0.1; only `/api/session` answers anyone.
 */
export async function startConsole(options: ConsoleOptions): Promise<ConsoleServer> {
  const { session } = options;
  const env = options.env ?? process.env;
  const log = options.log ?? (() => {});
  const { token, file: tokenFile, source: tokenSource } = resolveConsoleToken(session.project.root, options.token, env);
  // The Google clients load only in the cloud (PIPEKIT_JOB_PREFIX set, see cloudTargetFromEnv):
  // a laptop's console starts without them.
  const target = env.PIPEKIT_JOB_PREFIX ? (await import('../cloud/job-launcher.ts')).cloudTargetFromEnv(env) : null;
  const executor =
    options.executor ??
    (target ? (await import('./cloud-executor.ts')).createCloudExecutor(session, target, { env }) : createLocalExecutor(session, log));
  const read = createReadApi(session);
  const write = createWriteApi(session, executor);
  const files = loadStaticFiles(join(import.meta.dirname, 'public'));
  const readsNeedSignIn = Boolean(target);

  const id = '([^/]+)';
  const routes: Route[] = [
    {
      method: 'GET',
      pattern: /^\/api\/session$/,
      handler: async (req) => {
        const signedIn = hasSession(req, token);
        // Answered to anyone (the page asks before sign-in): where the project lives only to those signed in, in the cloud.
        return {
          signedIn,
          mode: executor.mode,
          profile: session.profile.name,
          ...(signedIn || !readsNeedSignIn ? { project: session.project.root } : {}),
          readsNeedSignIn,
        };
      },
    },
    { method: 'GET', pattern: /^\/api\/pipelines$/, handler: () => read.pipelines() },
    { method: 'GET', pattern: new RegExp(`^/api/pipelines/${id}$`), handler: async (_r, [p]) => read.pipeline(p!) },
    { method: 'GET', pattern: /^\/api\/runs$/, handler: async (_r, _p, q) => read.runs(q) },
    { method: 'GET', pattern: new RegExp(`^/api/runs/${id}$`), handler: async (_r, [r]) => read.run(r!) },
    { method: 'GET', pattern: new RegExp(`^/api/runs/${id}/logs$`), handler: async (_r, [r], q) => read.logs(r!, q) },
    { method: 'GET', pattern: new RegExp(`^/api/runs/${id}/blocks/${id}/preview$`), handler: async (_r, [r, b]) => read.preview(r!, b!) },
    { method: 'GET', pattern: /^\/api\/backfills$/, handler: async (_r, _p, q) => read.backfills(q) },
    { method: 'GET', pattern: new RegExp(`^/api/backfills/${id}$`), handler: async (_r, [b]) => read.backfill(b!) },
    {
      method: 'POST',
      pattern: new RegExp(`^/api/pipelines/${id}/runs$`),
      handler: async (req, [p]) => write.startRun(p!, await readBody(req)),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/api/runs/${id}/cancel$`),
      handler: async (_r, [r]) => (await write.cancelRun(r!), { cancelled: r }),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/api/pipelines/${id}/backfills$`),
      handler: async (req, [p]) => write.startBackfill(p!, await readBody(req)),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/api/backfills/${id}/cancel$`),
      handler: async (_r, [b]) => (await write.cancelBackfill(b!), { cancelled: b }),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/api/backfills/${id}/retry$`),
      handler: async (req, [b]) => ({ retrying: b, ...(await write.retryBackfill(b!, await readBody(req))) }),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/api/pipelines/${id}/triggers/${id}$`),
      handler: async (req, [p, t]) => write.setTrigger(p!, t!, await readBody(req)),
    },
  ];

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://console');
    const method = req.method ?? 'GET';
    if (url.pathname === '/api/login' && method === 'POST') return login(req, res);
    if (url.pathname === '/api/logout' && method === 'POST') {
      return sendJson(res, 200, { signedIn: false }, { 'set-cookie': `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0` });
    }
    if (url.pathname.startsWith('/api/')) {
      const candidates = routes.filter((r) => r.pattern.test(url.pathname));
      const route = candidates.find((r) => r.method === method || (method === 'HEAD' && r.method === 'GET'));
      if (!route)
        throw new ApiError(
          candidates.length ? 405 : 404,
          candidates.length ? `use ${candidates[0]!.method} for ${url.pathname}` : `no API at ${url.pathname}`,
        );
      const open = route.method === 'GET' && (!readsNeedSignIn || url.pathname === '/api/session');
      if (!open && !isAuthorized(req, token)) {
        throw new ApiError(
          401,
          route.method === 'POST'
            ? 'sign in with the console token to do this'
            : 'sign in with the console token to see runs, logs and data',
          readsNeedSignIn
            ? 'the token is the Secret Manager secret named by the `apiTokenSecret` stack output: gcloud secrets versions access latest --secret <it>'
            : 'the token is printed by `pipekit console` (and kept in .pipekit/console-token)',
        );
      }
      const params = route.pattern.exec(url.pathname)!.slice(1).map(decodeURIComponent);
      const result = await route.handler(req, params, url.searchParams);
      return sendJson(res, route.method === 'POST' ? 202 : 200, result ?? {});
    }
    const file = files.get(url.pathname);
    if (!file || (method !== 'GET' && method !== 'HEAD')) throw new ApiError(404, `no page at ${url.pathname}`);
    res.writeHead(200, {
      ...baseHeaders(),
      'content-type': file.type,
      'cache-control': 'no-cache',
      'content-length': String(file.body.length),
    });
    res.end(method === 'HEAD' ? undefined : file.body);
  };

  /** The login form posts the token; a valid one gets the session cookie (JSON callers get 200, the plain form a redirect). */
  const login = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    const given = typeof body.token === 'string' ? body.token.trim() : '';
    const form = (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
    if (!given || !sameSecret(given, token)) {
      if (form) {
        res.writeHead(303, { ...baseHeaders(), location: '/#/login?failed=1' });
        return res.end();
      }
      throw new ApiError(401, 'that is not the console token', 'copy it from the `pipekit console` output or .pipekit/console-token');
    }
    const cookie = sessionCookie(token, isHttps(req));
    if (form) {
      res.writeHead(303, { ...baseHeaders(), location: '/', 'set-cookie': cookie });
      return res.end();
    }
    sendJson(res, 200, { signedIn: true }, { 'set-cookie': cookie });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) return res.destroy();
      if (error instanceof ApiError) return sendError(res, error);
      if (isPipekitError(error) && error.code === 'NOT_FOUND') return sendError(res, new ApiError(404, error.message, error.hint));
      if (isPipekitError(error) && error.code === 'INVALID_INPUT') return sendError(res, new ApiError(400, error.message, error.hint));
      if (isPipekitError(error) && error.code === 'CONFIG') return sendError(res, new ApiError(400, error.message, error.hint));
      // A request that cannot apply to the thing's current state (cancelling a finished backfill).
      if (isPipekitError(error) && error.code === 'USAGE') return sendError(res, new ApiError(409, error.message, error.hint));
      log(`console: ${req.method} ${req.url}: ${describeError(error)}`);
      sendError(res, new ApiError(isPipekitError(error) && error.code === 'CONNECTION' ? 502 : 500, describeError(error)));
    });
  });
  // Keep-alive sockets from a browser would otherwise hold close() open.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`,
    token,
    tokenFile,
    tokenSource,
    async close() {
      await executor.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
