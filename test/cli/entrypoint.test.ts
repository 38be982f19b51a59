import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSession, type Session } from '../../src/engine/session.ts';
import { type CliResult, execPipekit } from '../support/cli-process.ts';
import { createTestDatabase, type TestDatabase } from '../support/postgres.ts';
import { createTestProject, type TestProject } from '../support/project.ts';

/**
 * The container entrypoint as Cloud Run runs it: `node bin/pipekit.js` with
 * the args `gcloud run jobs execute --args=…` sends and the CLOUD_RUN_*
 * variables every task gets.
 */
let db: TestDatabase;
let project: TestProject;
let session: Session;
let ioConfig: string;

beforeAll(async () => {
  db = await createTestDatabase('entrypoint');
  project = createTestProject('entrypoint', db.profileValues, {
    'blocks/numbers.ts': `import { tableFromArrays } from 'apache-arrow';
import { loader } from 'pipekit';
export default loader(async (ctx) => tableFromArrays({ day: [ctx.ds, ctx.ds], n: Float64Array.from([1, 2]) }));`,
    'blocks/to_lake.ts': `import { exporter, type Table } from 'pipekit';
export default exporter(async (t: Table, ctx) => (await ctx.io.lake()).write(t, 'days/' + ctx.ds + '.parquet'));`,
    'tiny/pipeline.yaml': `blocks:
  - { uuid: numbers, kind: loader, file: blocks/numbers.ts }
  - { uuid: to_lake, kind: exporter, file: blocks/to_lake.ts, upstream: [numbers] }
triggers:
  - { name: daily, schedule: "@daily", timezone: UTC }
`,
  });
  session = await openSession({ projectRoot: project.root, profile: 'test' });
  ioConfig = readFileSync(`${project.root}/io_config.yaml`, 'utf8');
});

afterAll(async () => {
  await session?.close();
  await db?.drop();
  project?.remove();
});

const pipekit = (args: string[], env: Record<string, string> = {}): Promise<CliResult> =>
  execPipekit(args, { PIPEKIT_PROJECT: project.root, PIPEKIT_PROFILE: 'test', ...env });

const cloudRun = (index: number, count: number, execution = 'pipekit-tiny-abc12') => ({
  CLOUD_RUN_JOB: 'pipekit-tiny',
  CLOUD_RUN_EXECUTION: execution,
  CLOUD_RUN_TASK_INDEX: String(index),
  CLOUD_RUN_TASK_COUNT: String(count),
  CLOUD_RUN_TASK_ATTEMPT: '0',
});

describe('the Cloud Run job entrypoint', () => {
  it('runs `--args=run,tiny,--execution-date,2021-01-01` and logs JSON lines for Cloud Logging', async () => {
    const r = await pipekit(['run', 'tiny', '--execution-date', '2021-01-01'], cloudRun(0, 1));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThan(3);
    expect(lines[0]).toMatchObject({ severity: 'INFO', 'logging.googleapis.com/labels': { pipeline: 'tiny' } });
    expect(lines.some((l) => /^run succeeded in /.test(l.message))).toBe(true);
    const [run] = await session.store.listRuns({ pipeline: 'tiny', limit: 1 });
    expect(run!.executionDate.toISOString()).toBe('2021-01-01T00:00:00.000Z');
    expect(run!.status).toBe('succeeded');
  });

  it('runs what Cloud Scheduler sends (`run tiny --trigger daily`) for the latest tick, once', async () => {
    const first = await pipekit(['run', 'tiny', '--trigger', 'daily'], cloudRun(0, 1));
    const again = await pipekit(['run', 'tiny', '--trigger', 'daily'], cloudRun(0, 1));
    expect([first.code, again.code]).toEqual([0, 0]);
    expect(again.stdout).toContain('already has a run');
    const runs = await session.store.listRuns({ pipeline: 'tiny' });
    const scheduled = runs.filter((r) => r.trigger === 'daily');
    expect(scheduled).toHaveLength(1);
    const today = new Date();
    expect(scheduled[0]!.executionDate.toISOString()).toBe(
      new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate())).toISOString(),
    );
  });

  it('splits a backfill over `--tasks=3`: every date once, one backfill record', async () => {
    const args = ['backfill', 'tiny', '--start', '2021-01-01', '--end', '2021-01-07', '--every', 'day'];
    const results = await Promise.all([0, 1, 2].map((i) => pipekit(args, cloudRun(i, 3, 'pipekit-tiny-bf001'))));
    expect(results.map((r) => r.code)).toEqual([0, 0, 0]);
    const backfill = await session.store.getBackfill('bf-pipekit-tiny-bf001');
    expect(backfill).not.toBeNull();
    expect(backfill!.executionDates).toHaveLength(7);
    const runs = await session.store.listRuns({ backfillId: backfill!.id });
    expect(runs.map((r) => r.executionDate.toISOString().slice(0, 10)).sort()).toEqual([
      '2021-01-01',
      '2021-01-02',
      '2021-01-03',
      '2021-01-04',
      '2021-01-05',
      '2021-01-06',
      '2021-01-07',
    ]);
    expect(runs.every((r) => r.status === 'succeeded')).toBe(true);
    // Whichever task finished last saw every date done and closed the backfill.
    expect((await session.store.getBackfill(backfill!.id))!.status).toBe('succeeded');
  });

  it('a task whose siblings never start runs their dates too, each once', async () => {
    const args = ['backfill', 'tiny', '--start', '2021-03-01', '--end', '2021-03-05', '--every', 'day'];
    expect((await pipekit(args, cloudRun(0, 3, 'pipekit-tiny-bf002'))).code).toBe(0);
    // A late sibling finds every date taken and runs none.
    expect((await pipekit(args, cloudRun(2, 3, 'pipekit-tiny-bf002'))).code).toBe(0);
    const runs = await session.store.listRuns({ backfillId: 'bf-pipekit-tiny-bf002' });
    expect(runs.map((r) => r.executionDate.toISOString().slice(0, 10)).sort()).toEqual([
      '2021-03-01',
      '2021-03-02',
      '2021-03-03',
      '2021-03-04',
      '2021-03-05',
    ]);
    expect((await session.store.getBackfill('bf-pipekit-tiny-bf002'))!.status).toBe('succeeded');
  });
});

describe('pipekit backfill --parallel on a laptop', () => {
  it('runs its own share and two worker processes the rest, under one backfill id', async () => {
    const r = await pipekit([
      'backfill',
      'tiny',
      '--start',
      '2021-02-01',
      '--end',
      '2021-02-06',
      '--every',
      'day',
      '--parallel',
      '3',
      '--quiet',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const id = /backfill (bf-\S+) of tiny/.exec(r.stdout)?.[1];
    expect(id).toBeDefined();
    const runs = await session.store.listRuns({ backfillId: id! });
    expect(runs.map((run) => run.executionDate.toISOString().slice(0, 10)).sort()).toEqual([
      '2021-02-01',
      '2021-02-02',
      '2021-02-03',
      '2021-02-04',
      '2021-02-05',
      '2021-02-06',
    ]);
    expect(runs.every((run) => run.status === 'succeeded')).toBe(true);
    expect((await session.store.getBackfill(id!))!.status).toBe('succeeded');
    // The summary covers the workers' runs, not only this process's share.
    expect(r.stdout.match(/succeeded/g)!.length).toBeGreaterThanOrEqual(7);
  });
});

describe('errors', () => {
  it('an unknown pipeline exits 2 and says which pipelines exist', async () => {
    const r = await pipekit(['run', 'nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('there is no pipeline "nope"');
    expect(r.stderr).toContain('tiny');
  });

  it('an unknown profile exits 2 and lists the profiles', async () => {
    const r = await pipekit(['list', '--profile', 'prod']);
    expect(r.code).toBe(0); // list reads files only
    const v = await pipekit(['validate', '--profile', 'prod']);
    expect(v.code).toBe(2);
    expect(v.stderr).toContain('there is no profile "prod"');
  });

  it("validate checks each connector's settings, naming the key", async () => {
    project.write('io_config.yaml', 'test:\n  WAREHOUSE: snowflake\n');
    try {
      const v = await pipekit(['validate', '--profile', 'test']);
      expect(v.code).toBe(2);
      expect(v.stderr).toContain('(test.WAREHOUSE): unknown warehouse "snowflake"');
    } finally {
      project.write('io_config.yaml', ioConfig);
    }
  });

  it('a failed run exits 1 with the reason on stderr', async () => {
    project.write(
      'broken/pipeline.yaml',
      'blocks:\n  - { uuid: numbers, kind: loader, file: blocks/numbers.ts }\n  - { uuid: boom, kind: transformer, file: blocks/boom.ts, upstream: [numbers] }\n',
    );
    project.write(
      'blocks/boom.ts',
      "import { transformer } from 'pipekit';\nexport default transformer(async () => { throw new Error('kaboom'); });\n",
    );
    const r = await pipekit(['run', 'broken'], { PIPEKIT_LOG_FORMAT: 'text' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('boom: kaboom');
  });
});
