import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planRun } from '../../src/engine/run-plan.ts';
import { openSession, type Session } from '../../src/engine/session.ts';
import type { Connectors } from '../../src/io/types.ts';
import { createTestDatabase, type TestDatabase } from '../support/postgres.ts';
import { createTestProject, type TestProject } from '../support/project.ts';

// Each block keeps the ctx.io it was given, so the test can see whether the run closed it.
const BLOCKS: Record<string, string> = {
  'blocks/uses_postgres.ts': `import { loader } from 'pipekit';
export default loader(async (ctx) => {
  ((globalThis as { seen?: unknown[] }).seen ??= []).push(ctx.io);
  const t = await (await ctx.io.postgres()).query('SELECT 1 AS one');
  if (ctx.variables.fail) throw new Error('the block failed');
  return t;
});`,
};
const PIPELINES = {
  'pg/pipeline.yaml': `blocks:\n  - { uuid: uses_postgres, kind: loader, file: blocks/uses_postgres.ts }\n`,
};

let db: TestDatabase;
let project: TestProject;
let session: Session;
beforeAll(async () => {
  db = await createTestDatabase('session_run');
  project = createTestProject('session-run', db.profileValues, { ...BLOCKS, ...PIPELINES });
  session = await openSession({ projectRoot: project.root, profile: 'test' });
});
afterAll(async () => {
  await session?.close();
  await db?.drop();
  project?.remove();
});

const seen = () => (globalThis as { seen?: Connectors[] }).seen ?? [];

describe('session.runPipeline: open connectors → runPipeline → close, for every command', () => {
  it("runs with the session's profile, store and workspace, and closes the run's connectors whether it succeeds or fails", async () => {
    const pipeline = session.pipeline('pg');
    const plan = planRun(pipeline, { executionDate: new Date('2021-01-15T00:00:00Z') });
    const ok = await session.runPipeline({ pipeline, plan });
    expect(ok.status).toBe('succeeded');
    expect(ok.run).toMatchObject({ profile: 'test', pipeline: 'pg' });
    expect(ok.blocks[0]!.outputUri).toContain(session.workspace.root);

    const failed = await session.runPipeline({ pipeline, plan, variables: { fail: true } });
    expect(failed.status).toBe('failed');

    expect(seen()).toHaveLength(2);
    for (const io of seen()) await expect((await io.postgres()).execute('SELECT 1')).rejects.toThrow(/after calling end/);
    expect(await session.store.getRun(failed.run!.id)).toMatchObject({ status: 'failed' });
  });
});
