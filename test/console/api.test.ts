import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Session } from '../../src/engine/session.ts';
import { startConsole, type ConsoleServer } from '../../src/console/server.ts';
import { createTempProject, TINY_PIPELINE, type TempProject } from './project-fixture.ts';

let project: TempProject;
let session: Session;
let consoleServer: ConsoleServer;

beforeAll(async () => {
  project = await createTempProject('console_api', {
    tiny: { ...TINY_PIPELINE, triggers: [{ name: 'nightly', schedule: '@daily', timezone: 'Europe/Berlin' }] },
  });
  session = await project.open();
  consoleServer = await startConsole({ session, port: 0, env: {} });
});

afterAll(async () => {
  await consoleServer?.close();
  await session?.close();
  await project?.dispose();
});

const api = (path: string, init: RequestInit & { token?: string | null } = {}) => {
  const { token = consoleServer.token, ...rest } = init;
  return fetch(`${consoleServer.url}${path}`, {
    ...rest,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...(rest.headers ?? {}) },
  });
};

async function waitFor<T>(read: () => Promise<T>, done: (v: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('console API', () => {
  it('generates the token once into .pipekit/console-token (mode 0600)', () => {
    expect(consoleServer.tokenFile).toBe(join(project.root, '.pipekit', 'console-token'));
    expect(readFileSync(consoleServer.tokenFile!, 'utf8').trim()).toBe(consoleServer.token);
    expect(consoleServer.token.length).toBeGreaterThanOrEqual(32);
  });

  it('serves the page with a strict CSP and the pipelines with their DAG', async () => {
    const page = await fetch(consoleServer.url);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('<main id="main"');
    const pipelines = await (await api('/api/pipelines', { token: null })).json();
    expect(pipelines[0].blocks.map((b: { uuid: string; upstream: string[] }) => [b.uuid, b.upstream])).toEqual([
      ['load_numbers', []],
      ['double_them', ['load_numbers']],
      ['export_them', ['double_them']],
    ]);
  });

  it('refuses anonymous and wrong-token writes, and cross-site cookie posts; nothing starts', async () => {
    expect((await api('/api/pipelines/tiny/runs', { method: 'POST', body: '{}', token: null })).status).toBe(401);
    expect((await api('/api/pipelines/tiny/runs', { method: 'POST', body: '{}', token: 'nope' })).status).toBe(401);
    const login = await api('/api/login', { method: 'POST', body: JSON.stringify({ token: consoleServer.token }), token: null });
    expect(login.status).toBe(200);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    expect(login.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict/);
    const crossSite = await api('/api/pipelines/tiny/runs', {
      method: 'POST',
      body: '{}',
      token: null,
      headers: { cookie, origin: 'https://evil.example' },
    });
    expect(crossSite.status).toBe(401);
    expect((await api('/api/login', { method: 'POST', body: JSON.stringify({ token: 'guess' }), token: null })).status).toBe(401);
    expect(await session.store.listRuns({ pipeline: 'tiny' })).toHaveLength(0);
  });

  it('starts a run with variables in-process, then shows blocks, logs and an output preview', async () => {
    const res = await api('/api/pipelines/tiny/runs', { method: 'POST', body: JSON.stringify({ variables: { greeting: 'hi' } }) });
    expect(res.status).toBe(202);
    const { runId } = await res.json();
    const detail = await waitFor(
      async () => (await api(`/api/runs/${runId}`)).json(),
      (d) => d.run.status === 'succeeded',
      'the run',
    );
    expect(detail.run.variables).toEqual({ greeting: 'hi' });
    expect(detail.blocks.map((b: { block: string; status: string }) => `${b.block}:${b.status}`)).toEqual([
      'load_numbers:succeeded',
      'double_them:succeeded',
      'export_them:succeeded',
    ]);
    const logs: { message: string }[] = await waitFor(
      async () => (await api(`/api/runs/${runId}/logs?block=double_them`)).json(),
      (l: { message: string }[]) => l.length >= 2,
      'logs',
    );
    expect(logs.map((l) => l.message)).toContain('doubling 3 rows');
    const preview = await (await api(`/api/runs/${runId}/blocks/double_them/preview`)).json();
    expect(preview.columns).toEqual([
      { name: 'n', type: 'number' },
      { name: 'greeting', type: 'string' },
      { name: 'doubled', type: 'number' },
    ]);
    expect(preview.rows[0]).toEqual({ n: 1, greeting: 'hi', doubled: 2 });
    const filtered = await (await api('/api/runs?pipeline=tiny&status=succeeded')).json();
    expect(filtered.map((r: { id: string }) => r.id)).toContain(runId);
    expect((await api('/api/runs?status=bogus')).status).toBe(400);
  });

  it('cancels a running run', async () => {
    const { runId } = await (
      await api('/api/pipelines/tiny/runs', { method: 'POST', body: JSON.stringify({ variables: { delay_ms: 5000 } }) })
    ).json();
    await waitFor(
      async () => (await api(`/api/runs/${runId}`)).json(),
      (d) => d.run.status === 'running',
      'running',
    );
    expect((await api(`/api/runs/${runId}/cancel`, { method: 'POST', body: '{}' })).status).toBe(202);
    const detail = await (await api(`/api/runs/${runId}`)).json();
    expect(detail.run.status).toBe('cancelled');
  });

  it('validates writes with messages naming the field', async () => {
    const bad = async (path: string, body: unknown, status = 400) => {
      const res = await api(path, { method: 'POST', body: JSON.stringify(body) });
      expect(res.status).toBe(status);
      return (await res.json()).error.message as string;
    };
    expect(await bad('/api/pipelines/tiny/backfills', { start: '2021-01-05', end: '2021-01-01' })).toMatch(/^end:/);
    expect(await bad('/api/pipelines/tiny/backfills', { start: 'someday', end: '2021-01-01' })).toMatch(/^start:/);
    expect(await bad('/api/pipelines/tiny/backfills', { start: '2021-01-01', end: '2021-01-02', every: 'fortnight' })).toMatch(/^every:/);
    expect(await bad('/api/pipelines/tiny/runs', { variables: [1] })).toMatch(/^variables:/);
    expect(await bad('/api/pipelines/nope/runs', {}, 404)).toMatch(/no pipeline "nope"/);
    expect(await bad('/api/pipelines/tiny/triggers/nightly', { enabled: 'yes' })).toMatch(/^enabled:/);
  });

  it('enables and disables a trigger through the run store override', async () => {
    const res = await api('/api/pipelines/tiny/triggers/nightly', { method: 'POST', body: JSON.stringify({ enabled: false }) });
    expect(res.status).toBe(202);
    const [pipeline] = await (await api('/api/pipelines')).json();
    expect(pipeline.triggers[0]).toMatchObject({ name: 'nightly', enabled: false, declaredEnabled: true, overridden: true });
    expect(await session.store.triggerOverrides('tiny')).toMatchObject([{ trigger: 'nightly', enabled: false }]);
  });
});
