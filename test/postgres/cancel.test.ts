import { tableFromArrays } from 'apache-arrow';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IoProfile } from '../../src/config/io-profile.ts';
import { CancelledError } from '../../src/errors.ts';
import { createPostgresConnector } from '../../src/io/postgres/connector.ts';
import type { PostgresConnector } from '../../src/io/types.ts';
import { spawnPipekit } from '../support/cli-process.ts';
import { planRun } from '../../src/engine/run-plan.ts';
import { openSession } from '../../src/engine/session.ts';
import { createTestDatabase, type TestDatabase } from '../support/postgres.ts';
import { createTestProject } from '../support/project.ts';

/**
 * A cancelled block's statement stops in the server, not only in the block: otherwise a long
 * query or UPDATE goes on holding its locks and a connection after the run has ended.
 */
let db: TestDatabase;
let observer: pg.Client;
let connector: PostgresConnector;
beforeAll(async () => {
  db = await createTestDatabase('cancel');
  observer = new pg.Client({ connectionString: db.url });
  await observer.connect();
  connector = createPostgresConnector(new IoProfile({ name: 'test', file: 'io_config.yaml', root: '.', values: db.profileValues }));
});
afterAll(async () => {
  await connector?.close();
  await observer?.end();
  await db?.drop();
});

/** The connector's backends inside a pg_sleep, as the server sees them (a query's runs in a cursor's FETCH, so not by its text). */
async function sleepers(): Promise<number> {
  const { rows } = await observer.query(
    `SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND application_name = 'pipekit' AND state = 'active' AND wait_event = 'PgSleep'`,
  );
  return rows[0].n;
}

describe('cancelling a block stops its Postgres statement on the server', () => {
  it.each([
    ['query', (pg: PostgresConnector) => pg.query('SELECT pg_sleep(30)')],
    ['execute', (pg: PostgresConnector) => pg.execute('SELECT pg_sleep(30)')],
    ['a SQL block', (pg: PostgresConnector) => pg.runSql('SELECT pg_sleep(30), n FROM {{ df }}', { df: tableFromArrays({ n: [1, 2] }) })],
  ])('%s: CancelledError at once, and pg_stat_activity no longer shows it', async (_, call) => {
    const controller = new AbortController();
    const pending = call(connector.withSignal(controller.signal)).then(
      () => null,
      (error) => error,
    );
    await expect.poll(sleepers, { timeout: 10_000, interval: 50 }).toBe(1);
    const started = Date.now();
    controller.abort();
    const error = await pending;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error).toBeInstanceOf(CancelledError);
    expect(error.message).toMatch(/stopped on the server/);
    expect(await sleepers()).toBe(0);
    // The run's own connector goes on: the cancelled session was not handed back to the pool.
    expect((await connector.query('SELECT 1 AS one')).getChild('one')!.get(0)).toBe(1);
    // A SQL block's staged inputs are dropped after the cancel, too.
    const staged = await connector.query("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'pipekit_staging'");
    expect(staged.getChild('n')!.get(0)).toBe(0);
  });
});

const SLEEP_BLOCK = `import { loader } from 'pipekit';
export default loader(async (ctx) => (await ctx.io.postgres()).query('SELECT pg_sleep(30)'));`;

describe('a run cancelled while its block waits on Postgres', () => {
  it("Ctrl-C on the CLI: exit 130 at once, and the block's statement no longer runs in the server", async () => {
    const project = createTestProject('pg-cancel', db.profileValues, {
      'blocks/sleep.ts': SLEEP_BLOCK,
      'sleepy/pipeline.yaml': 'blocks:\n  - { uuid: sleep, kind: loader, file: blocks/sleep.ts }\n',
    });
    try {
      const cli = spawnPipekit(['run', 'sleepy', '--quiet'], { PIPEKIT_PROJECT: project.root, PIPEKIT_PROFILE: 'test' });
      await expect.poll(sleepers, { timeout: 30_000, interval: 50 }).toBe(1);
      const started = Date.now();
      cli.child.kill('SIGINT');
      const { code, stderr } = await cli.done;
      expect(code, stderr).toBe(130);
      // Uncancelled, the process waited out the 30 s statement before it could exit.
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(await sleepers()).toBe(0);
    } finally {
      project.remove();
    }
  });

  it('a block timeout: the run fails with the timeout, and the statement is gone from the server', async () => {
    const project = createTestProject('pg-timeout', db.profileValues, {
      'blocks/sleep.ts': SLEEP_BLOCK,
      'sleepy/pipeline.yaml': 'blocks:\n  - { uuid: sleep, kind: loader, file: blocks/sleep.ts, timeout: 500ms }\nretry: { attempts: 1 }\n',
    });
    const session = await openSession({ projectRoot: project.root, profile: 'test' });
    try {
      const pipeline = session.pipeline('sleepy');
      const started = Date.now();
      const result = await session.runPipeline({ pipeline, plan: planRun(pipeline, {}) });
      // Uncancelled, closing the run's connectors waited for the 30 s statement.
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(result.status).toBe('failed');
      expect(result.run!.error).toMatch(/timed out after 500ms/);
      expect(await sleepers()).toBe(0);
    } finally {
      await session.close();
      project.remove();
    }
  });
});
