import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSession, type Session } from '../../src/engine/session.ts';
import { type CliResult, execPipekit } from '../support/cli-process.ts';
import { createTestDatabase, type TestDatabase } from '../support/postgres.ts';
import { createTestProject, REPO_ROOT, type TestProject } from '../support/project.ts';

/**
 * What a new user trips over in the first hour, each through the real
 * `bin/pipekit.js`: the documented exit codes (0 success, 1 a run failed,
 * 2 bad input or configuration, 130 cancelled) and output that never surprises.
 */
let db: TestDatabase;
let project: TestProject;
let session: Session;

beforeAll(async () => {
  db = await createTestDatabase('first_hour');
  project = createTestProject('first-hour', db.profileValues, {
    'blocks/numbers.ts': `import { tableFromArrays } from 'apache-arrow';
import { loader } from 'pipekit';
export default loader(async (ctx) => {
  for (let i = 0; i < Number(ctx.variables.log_lines ?? 0); i++) ctx.log.info('line ' + i + ' ' + 'x'.repeat(60));
  return tableFromArrays({ n: Float64Array.from([1, 2, 3]) });
});`,
    // Fails until the marker file exists: a run that fails once, then can be resumed.
    'blocks/flaky.ts': `import { existsSync } from 'node:fs';
import { transformer, type Table } from 'pipekit';
export default transformer(async (t: Table, ctx) => {
  if (!existsSync(String(ctx.variables.marker))) throw new Error('the marker is not there yet');
  return t;
});`,
    // Appends a line per execution, so a test can count how often it ran.
    'blocks/count_exports.ts': `import { appendFileSync } from 'node:fs';
import { exporter, type Table } from 'pipekit';
export default exporter(async (t: Table, ctx) => { appendFileSync(String(ctx.variables.tally), ctx.runId + '\\n'); });`,
    'tiny/pipeline.yaml': 'blocks:\n  - { uuid: numbers, kind: loader, file: blocks/numbers.ts }\n',
    'resumable/pipeline.yaml': `blocks:
  - { uuid: numbers, kind: loader, file: blocks/numbers.ts }
  - { uuid: flaky, kind: transformer, file: blocks/flaky.ts, upstream: [numbers] }
  - { uuid: count_exports, kind: exporter, file: blocks/count_exports.ts, upstream: [flaky] }
retry: { attempts: 1 }
`,
  });
  session = await openSession({ projectRoot: project.root, profile: 'test' });
});

afterAll(async () => {
  await session?.close();
  await db?.drop();
  project?.remove();
});

const pipekit = (args: string[], env: Record<string, string> = {}, cwd = REPO_ROOT): Promise<CliResult> =>
  execPipekit(args, { PIPEKIT_PROJECT: project.root, PIPEKIT_PROFILE: 'test', PIPEKIT_LOG_FORMAT: 'text', NO_COLOR: '1', ...env }, cwd);

describe('bad input exits 2 with a message naming the option', () => {
  const cases: [string[], RegExp][] = [
    [['run', 'tiny', '--execution-date', 'yesterdayish'], /--execution-date.*"yesterdayish" is not a date/s],
    [['run', 'tiny', '--var', 'novalue'], /--var.*"novalue": use --var name=value/s],
    [['backfill', 'tiny', '--start', '2021-01-05', '--end', '2021-01-01'], /--end 2021-01-01 is before --start 2021-01-05/],
    [['backfill', 'tiny', '--start', '2021-01-01', '--end', '2021-01-02', '--parallel', 'two'], /--parallel.*"two" is not a whole number/s],
    [['runs', '-n', 'abc'], /--limit.*"abc" is not a whole number/s],
    [['runs', '--status', 'bogus'], /--status.*bogus.*Allowed choices are queued, running, succeeded, failed, cancelled/s],
  ];
  it(cases.map(([args]) => `pipekit ${args.join(' ')}`).join(' · '), async () => {
    // Independent processes: run them side by side.
    const results = await Promise.all(cases.map(([args]) => pipekit(args)));
    results.forEach((r, i) => {
      expect(r.stderr, cases[i]![0].join(' ')).toMatch(cases[i]![1]);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(r.code).toBe(2);
    });
  });
});

describe('pipekit runs', () => {
  it('says when a filter matches nothing, and prints the trigger column', async () => {
    const none = await pipekit(['runs', '--status', 'cancelled']);
    expect(none).toMatchObject({ code: 0, stdout: 'no cancelled runs\n' });
    expect((await pipekit(['run', 'tiny', '--quiet'])).code).toBe(0);
    const listed = await pipekit(['runs', 'tiny', '-n', '1']);
    expect(listed.code).toBe(0);
    expect(listed.stdout.split('\n')[0]).toMatch(/^run\s+pipeline\s+trigger\s+execution date\s+status\s+time\s+rows$/);
    expect(listed.stdout).toMatch(/tiny\s+manual\s+/);
  });
});

describe('pipekit backfill --cancel', () => {
  it('refuses a backfill that does not exist (exit 2)', async () => {
    const r = await pipekit(['backfill', 'tiny', '--cancel', 'bf-nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('backfill bf-nope is not in the run store');
    expect(r.stdout).not.toContain('cancelled');
  });

  it('refuses a finished backfill and leaves its status alone', async () => {
    const done = await pipekit(['backfill', 'tiny', '--start', '2021-01-01', '--end', '2021-01-02', '--quiet']);
    expect(done.code).toBe(0);
    const id = /backfill (bf-\S+) of tiny/.exec(done.stdout)![1]!;
    const r = await pipekit(['backfill', 'tiny', '--cancel', id]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`backfill ${id} has already succeeded: there is nothing to cancel`);
    expect((await session.store.getBackfill(id))!.status).toBe('succeeded');
    // Started in the cloud too: still refused, and no execution is touched.
    await session.store.addBackfillExecution(id, 'projects/p/locations/europe-west1/jobs/pipekit-tiny/executions/pipekit-tiny-x1');
    const cloud = await pipekit(['backfill', 'tiny', '--cancel', id]);
    expect(cloud.code).toBe(2);
    expect((await session.store.getBackfill(id))!.status).toBe('succeeded');
  });
});

describe('pipekit run --resume', () => {
  it('runs the rest of a failed run once: a second resume of it, or of a succeeded run, exits 2', async () => {
    const marker = join(project.root, 'marker');
    const tally = join(project.root, 'tally.txt');
    const vars = ['--var', `marker=${marker}`, '--var', `tally=${tally}`, '--quiet'];
    const failed = await pipekit(['run', 'resumable', ...vars]);
    expect(failed.code).toBe(1);
    const [first] = await session.store.listRuns({ pipeline: 'resumable', limit: 1 });
    expect(first!.status).toBe('failed');
    expect(existsSync(tally)).toBe(false);

    writeFileSync(marker, '');
    const resumed = await pipekit(['run', 'resumable', '--resume', first!.id, '--quiet']);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain(`reused from ${first!.id}`);
    expect(readFileSync(tally, 'utf8').trim().split('\n')).toHaveLength(1);
    const [second] = await session.store.listRuns({ pipeline: 'resumable', limit: 1 });

    const again = await pipekit(['run', 'resumable', '--resume', first!.id]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`run ${first!.id} was resumed by ${second!.id}, which succeeded: there is nothing to resume`);
    const ofSucceeded = await pipekit(['run', 'resumable', '--resume', second!.id]);
    expect(ofSucceeded.code).toBe(2);
    expect(ofSucceeded.stderr).toContain(`run ${second!.id} succeeded: there is nothing to resume`);
    // The exporter ran once in all.
    expect(readFileSync(tally, 'utf8').trim().split('\n')).toHaveLength(1);
  });
});

describe('pipekit logs <run> | head', () => {
  it('stops quietly when the reader closes the pipe', async () => {
    expect((await pipekit(['run', 'tiny', '--var', 'log_lines=3000', '--quiet'])).code).toBe(0);
    const [run] = await session.store.listRuns({ pipeline: 'tiny', limit: 1 });
    const child = spawn(process.execPath, ['bin/pipekit.js', 'logs', run!.id], {
      cwd: REPO_ROOT,
      env: { ...process.env, PIPEKIT_PROJECT: project.root, PIPEKIT_PROFILE: 'test', NO_COLOR: '1' },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Like `head -1`: read the first line, then close the pipe.
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(stderr).not.toContain('EPIPE');
    expect(code).toBe(0);
  });
});

describe('pipekit dev', () => {
  it('status says how to connect (no password) and stop says when nothing was running', async () => {
    const [idle, stop] = await Promise.all([pipekit(['dev', 'status']), pipekit(['dev', 'stop'])]);
    expect(idle).toMatchObject({ code: 0 });
    expect(idle.stdout).toContain('embedded PostgreSQL is not running');
    expect(stop).toMatchObject({ code: 0, stdout: 'embedded PostgreSQL was not running: nothing to stop\n' });

    // A live postmaster.pid is all `status` reads: this test process stands in for the server.
    const dataDir = join(project.root, '.pipekit', 'postgres');
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, 'postmaster.pid'), `${process.pid}\n${dataDir}\n0\n54399\n`);
    const [running, asJson] = await Promise.all([pipekit(['dev', 'status']), pipekit(['dev', 'status', '--json'])]);
    expect(running.code).toBe(0);
    expect(running.stdout).toContain('embedded PostgreSQL running on 127.0.0.1:54399');
    expect(running.stdout).toMatch(/postgresql:\/\/\w+@127\.0\.0\.1:54399\/\w+/);
    expect(running.stdout).not.toMatch(/postgresql:\/\/[^@\s]*:[^@\s]*@/); // user, never user:password
    const json = JSON.parse(asJson.stdout);
    expect(json).toMatchObject({ running: true, port: 54399, pid: process.pid });
  });
});

describe('pipekit list', () => {
  it("keeps every line within 100 columns when piped, and shows one pipeline's blocks", async () => {
    project.write(
      'long/pipeline.yaml',
      `description: ${'a very long description '.repeat(12)}\nblocks:\n  - { uuid: numbers, kind: loader, file: blocks/numbers.ts }\n`,
    );
    const [r, blocks, unknown] = await Promise.all([pipekit(['list']), pipekit(['list', 'resumable']), pipekit(['list', 'nope'])]);
    expect(r.code).toBe(0);
    for (const line of r.stdout.split('\n')) expect(line.length).toBeLessThanOrEqual(100);
    expect(r.stdout).toMatch(/long\s+1\s+—\s+a very long description/);
    expect(blocks.stdout).toMatch(/flaky\s+transformer\s+numbers\s+blocks\/flaky\.ts/);
    expect(unknown.code).toBe(2);
  });
});

describe('a project anywhere', () => {
  it('an empty folder is no project yet: the error says how to start one (exit 2)', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'pipekit-empty-'));
    try {
      const r = await pipekit(['new', 'pipeline', 'mine'], { PIPEKIT_PROJECT: '' }, empty);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('no pipekit project here');
      expect(r.stderr).toContain('pipekit init <folder>');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('without package.json or node_modules: pipekit new pipeline, then its blocks import pipekit and run', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pipekit-anywhere-'));
    try {
      writeFileSync(
        join(root, 'io_config.yaml'),
        stringify({
          test: { ...db.profileValues, LAKE_URI: 'lake', WAREHOUSE: 'duckdb', DUCKDB_PATH: 'warehouse.duckdb', WORKSPACE_URI: 'workspace' },
        }),
      );
      const env = { PIPEKIT_PROJECT: root };
      const scaffold = await pipekit(['new', 'pipeline', 'mine'], env);
      expect(scaffold.code).toBe(0);
      const run = await pipekit(['run', 'mine', '--quiet'], env);
      expect(run.stderr).toBe('');
      expect(run.stdout).toMatch(/mine_exporter\s+✔ succeeded\s+1\s+3/);
      expect(run.code).toBe(0);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
