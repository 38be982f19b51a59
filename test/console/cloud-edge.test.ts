import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeToken } from '../../src/cli/commands/console.ts';
import type { Executor } from '../../src/console/executor.ts';
import { startConsole, type ConsoleServer } from '../../src/console/server.ts';
import type { Session } from '../../src/engine/session.ts';
import { createTempProject, TINY_PIPELINE, type TempProject } from './project-fixture.ts';

/** Issue 12 defect 7: the console at the edge of the cloud. */
const TOKEN = 'cloud-token-0123456789abcdefghijklmn';
const CLOUD_ENV = {
  PIPEKIT_JOB_PREFIX: 'pipekit',
  GOOGLE_CLOUD_PROJECT: 'zoomcamp-test',
  PIPEKIT_REGION: 'europe-west1',
  PIPEKIT_API_TOKEN: TOKEN,
};

let project: TempProject;
let session: Session;
let cloud: ConsoleServer;
let laptop: ConsoleServer;

/** Nothing may start from these tests: the executor refuses. */
const noExecutor = { mode: 'cloud', close: async () => {} } as unknown as Executor;

beforeAll(async () => {
  project = await createTempProject('console_edge', { tiny: TINY_PIPELINE });
  session = await project.open();
  cloud = await startConsole({ session, port: 0, env: CLOUD_ENV, executor: noExecutor });
  laptop = await startConsole({ session, port: 0, env: {} });
});

afterAll(async () => {
  await cloud?.close();
  await laptop?.close();
  await session?.close();
  await project?.dispose();
});

const get = (server: ConsoleServer, path: string, headers: Record<string, string> = {}) => fetch(`${server.url}${path}`, { headers });
const login = (headers: Record<string, string> = {}) =>
  fetch(`${cloud.url}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ token: TOKEN }),
  });

describe('the console in the cloud', () => {
  it.each(['/api/pipelines', '/api/runs', '/api/backfills', '/api/runs/r1/logs', '/api/runs/r1/blocks/b1/preview'])(
    'refuses %s without sign-in',
    async (path) => {
      const res = await get(cloud, path);
      expect(res.status).toBe(401);
      expect((await res.json()).error.message).toMatch(/sign in/);
    },
  );

  it('answers reads with the token or the session cookie', async () => {
    expect((await get(cloud, '/api/pipelines', { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    const cookie = (await login()).headers.get('set-cookie')!.split(';')[0]!;
    expect((await get(cloud, '/api/pipelines', { cookie })).status).toBe(200);
  });

  it('tells anyone whether they are signed in, but not where the project lives', async () => {
    const res = await get(cloud, '/api/session');
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ signedIn: false, readsNeedSignIn: true });
    expect(body.project).toBeUndefined();
  });

  it('sets a Secure cookie only when the browser came over HTTPS, so sign-in works on a plain-HTTP load balancer', async () => {
    expect((await login()).headers.get('set-cookie')).not.toMatch(/Secure/);
    expect((await login({ 'x-forwarded-proto': 'https' })).headers.get('set-cookie')).toMatch(/; Secure/);
  });

  it('never shows a token that came from the environment', () => {
    expect(cloud.tokenSource).toBe('environment');
    expect(describeToken(cloud)).not.toContain(TOKEN);
    expect(describeToken(cloud)).toMatch(/PIPEKIT_API_TOKEN \(not printed\)/);
  });
});

describe('the console on a laptop', () => {
  it('keeps reads open on 127.0.0.1 and shows its own generated token', async () => {
    expect((await get(laptop, '/api/pipelines')).status).toBe(200);
    expect(laptop.tokenSource).toBe('file');
    expect(describeToken(laptop)).toContain(laptop.token);
  });
});
