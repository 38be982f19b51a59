import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Table } from 'apache-arrow';
import { planRun } from '../../src/engine/run-plan.ts';
import { runPipeline } from '../../src/engine/runner.ts';
import { openSession, type Session, type SessionRunOptions } from '../../src/engine/session.ts';
import { Workspace } from '../../src/engine/workspace.ts';
import { memorySink } from '../../src/log/logger.ts';
import { createTestDatabase, type TestDatabase } from '../support/postgres.ts';
import { createTestProject, type TestProject } from '../support/project.ts';

const BLOCKS: Record<string, string> = {
  'blocks/numbers.ts': `import { tableFromArrays } from 'apache-arrow';
import { loader } from 'pipekit';
export default loader(async (ctx) => {
  ctx.log.info('making numbers');
  return tableFromArrays({ x: Float64Array.from([1, 2, 3, 4]) });
});`,
  'blocks/flaky.ts': `import { transformer, type Table } from 'pipekit';
export default transformer(async (t: Table, ctx) => {
  if (ctx.attempt < Number(ctx.variables.succeed_on ?? 1)) throw new Error('flaky failure on attempt ' + ctx.attempt);
  return t;
});`,
  'blocks/slow.ts': `import { transformer, type Table } from 'pipekit';
export default transformer(async (t: Table, ctx) => {
  await new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, Number(ctx.variables.sleep_ms ?? 0));
    ctx.signal.addEventListener('abort', () => { clearTimeout(timer); reject(ctx.signal.reason); });
  });
  return t;
});`,
  'blocks/tested.ts': `import { transformer, type Table } from 'pipekit';
export default transformer(async (t: Table) => t)
  .test('has rows', (out) => { if (out.numRows === 0) throw new Error('no rows'); })
  .test('small enough', (out, ctx) => { if (ctx.variables.max_rows !== undefined && out.numRows > Number(ctx.variables.max_rows)) throw new Error(out.numRows + ' rows is too many'); });`,
  'blocks/gate.ts': `import { conditional, type Table } from 'pipekit';
export default conditional(async (_t: Table, ctx) => ctx.variables.go !== false);`,
  'blocks/big.ts': `import { tableFromArrays } from 'apache-arrow';
import { loader } from 'pipekit';
export default loader(async () => {
  const table = tableFromArrays({ x: new Float64Array(6_000_000).fill(1) }); // 48 MB
  (globalThis as { bigOutput?: WeakRef<object> }).bigOutput = new WeakRef(table);
  return table;
});`,
  'blocks/shrink.ts': `import { tableFromArrays } from 'apache-arrow';
import { transformer, type Table } from 'pipekit';
export default transformer(async (t: Table) => tableFromArrays({ rows: Float64Array.of(t.numRows) }));`,
  // A single reader starts beside the upstream's save: the loader's output goes once that is written.
  'blocks/check_freed.ts': `import { exporter, type Table } from 'pipekit';
export default exporter(async (t: Table) => {
  for (let waited = 0; (globalThis as { bigOutput?: WeakRef<object> }).bigOutput?.deref() !== undefined; waited += 20) {
    if (waited > 5000) throw new Error('the loader output is still in memory');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { rows: t.numRows, target: 'nowhere' };
});`,
  // Several readers start only once the loader's output is gone.
  'blocks/check_freed_now.ts': `import { exporter, type Table } from 'pipekit';
export default exporter(async (t: Table) => {
  if ((globalThis as { bigOutput?: WeakRef<object> }).bigOutput?.deref() !== undefined) throw new Error('the loader output is still in memory');
  return { rows: t.numRows, target: 'nowhere' };
});`,
  'blocks/sink.ts': `import { exporter, type Table } from 'pipekit';
export default exporter(async (t: Table) => ({ rows: t.numRows, target: 'nowhere' }));`,
};

const PIPELINES: Record<string, string> = {
  'retries/pipeline.yaml': `blocks:
  - { uuid: numbers, kind: loader, file: blocks/numbers.ts }
  - { uuid: flaky, kind: transformer, file: blocks/flaky.ts, upstream: [numbers], retry: { attempts: 3, delay: 10ms, backoff: exponential } }
  - { uuid: sink, kind: exporter, file: blocks/sink.ts, upstream: [flaky] }
`,
  'timeouts/pipeline.yaml': `blocks:
  - { uuid: numbers, kind: loader, file: blocks/numbers.ts }
  - { uuid: slow, kind: transformer, file: blocks/slow.ts, upstream: [numbers], timeout: 200ms, retry: { attempts: 2, delay: 10ms } }
  - { uuid: sink, kind: exporter, file: blocks/sink.ts, upstream: [slow] }
`,
  'tests/pipeline.yaml': `blocks:
  - { uuid: numbers, kind: loader, file: blocks/numbers.ts }
  - { uuid: tested, kind: transformer, file: blocks/tested.ts, upstream: [numbers], retry: { attempts: 2, delay: 10ms } }
  - { uuid: sink, kind: exporter, file: blocks/sink.ts, upstream: [tested] }
`,
  'branches/pipeline.yaml': `blocks:
  - { uuid: numbers, kind: loader, file: blocks/numbers.ts }
  - { uuid: gate, kind: conditional, file: blocks/gate.ts, upstream: [numbers] }
  - { uuid: left, kind: transformer, file: blocks/flaky.ts, upstream: [gate] }
  - { uuid: right, kind: transformer, file: blocks/slow.ts, upstream: [numbers] }
  - { uuid: sink, kind: exporter, file: blocks/sink.ts, upstream: [right] }
concurrency: 2
`,
  'fresh/pipeline.yaml': `blocks:
  - { uuid: numbers, kind: loader, file: blocks/numbers.ts }
  - { uuid: sink, kind: exporter, file: blocks/sink.ts, upstream: [numbers] }
`,
  'saves/pipeline.yaml': `blocks:
  - { uuid: numbers, kind: loader, file: blocks/numbers.ts }
  - { uuid: sink, kind: exporter, file: blocks/sink.ts, upstream: [numbers] }
`,
  'memory/pipeline.yaml': `blocks:
  - { uuid: big, kind: loader, file: blocks/big.ts }
  - { uuid: shrink, kind: transformer, file: blocks/shrink.ts, upstream: [big] }
  - { uuid: check_freed, kind: exporter, file: blocks/check_freed.ts, upstream: [shrink] }
`,
  'memory_fanout/pipeline.yaml': `blocks:
  - { uuid: big, kind: loader, file: blocks/big.ts }
  - { uuid: shrink, kind: transformer, file: blocks/shrink.ts, upstream: [big] }
  - { uuid: first, kind: exporter, file: blocks/check_freed_now.ts, upstream: [shrink] }
  - { uuid: second, kind: exporter, file: blocks/check_freed_now.ts, upstream: [shrink] }
`,
  'scheduled/pipeline.yaml': `blocks:
  - { uuid: numbers, kind: loader, file: blocks/numbers.ts }
triggers:
  - { name: daily, schedule: "@daily" }
`,
};

let db: TestDatabase;
let project: TestProject;
let session: Session;

beforeAll(async () => {
  db = await createTestDatabase('runner');
  project = createTestProject('runner', db.profileValues, { ...BLOCKS, ...PIPELINES });
  session = await openSession({ projectRoot: project.root, profile: 'test' });
});

afterAll(async () => {
  await session?.close();
  await db?.drop();
  project?.remove();
});

async function run(name: string, options: Partial<SessionRunOptions> = {}) {
  const pipeline = session.pipeline(name);
  const sink = memorySink();
  const result = await session.runPipeline({
    pipeline,
    plan: planRun(pipeline, { executionDate: new Date('2021-01-15T00:00:00Z') }),
    sinks: [sink],
    ...options,
  });
  const blockStatus = Object.fromEntries(result.blocks.map((b) => [b.block, b.status]));
  return { ...result, blockStatus, logs: sink.records.map((r) => `${r.block ?? '-'}: ${r.message}`) };
}

describe('retries', () => {
  it('retries a failing block with backoff until it succeeds', async () => {
    const r = await run('retries', { variables: { succeed_on: 3 } });
    expect(r.blockStatus).toEqual({ numbers: 'succeeded', flaky: 'succeeded', sink: 'succeeded' });
    expect(r.blocks.find((b) => b.block === 'flaky')!.attempts).toBe(3);
    expect(r.logs.filter((l) => l.includes('attempt 1 failed: flaky failure on attempt 1'))).toHaveLength(1);
    expect(r.blocks.find((b) => b.block === 'sink')!.rowsOut).toBe(4);
  });

  it('fails the block when attempts run out and marks downstream upstream_failed', async () => {
    const r = await run('retries', { variables: { succeed_on: 9 } });
    expect(r.run!.status).toBe('failed');
    expect(r.blockStatus).toEqual({ numbers: 'succeeded', flaky: 'failed', sink: 'upstream_failed' });
    expect(r.run!.error).toContain('flaky: flaky failure on attempt 3');
  });
});

describe('memory', () => {
  it('frees a big output once every block that reads it is done and its save is written', async () => {
    const r = await run('memory');
    expect(r.run!.error ?? null).toBeNull();
    expect(r.blockStatus).toEqual({ big: 'succeeded', shrink: 'succeeded', check_freed: 'succeeded' });
  });

  it('starts several readers of an output only once the memory before it is back', async () => {
    const r = await run('memory_fanout');
    expect(r.run!.error ?? null).toBeNull();
    expect(r.blockStatus).toEqual({ big: 'succeeded', shrink: 'succeeded', first: 'succeeded', second: 'succeeded' });
  });
});

describe('workspace saves', () => {
  /** A workspace whose save of `block`'s output waits for `until` (or throws when `fail`). */
  const slowWorkspace = (block: string, until: Promise<void>, fail = false) =>
    new (class extends Workspace {
      override async save(pipeline: string, runId: string, uuid: string, value: unknown) {
        if (uuid === block) {
          await until;
          if (fail) throw new Error('disk full');
        }
        return super.save(pipeline, runId, uuid, value);
      }
    })(session.workspace.root);
  /** The engine's runPipeline with the session's parts and `workspace` (a session always brings its own). */
  const runWith = async (name: string, workspace: Workspace, options: Partial<SessionRunOptions> = {}) => {
    const pipeline = session.pipeline(name);
    const connectors = session.connectors();
    try {
      const result = await runPipeline({
        pipeline,
        profile: 'test',
        store: session.store,
        workspace,
        connectors,
        plan: planRun(pipeline, { executionDate: new Date('2021-01-15T00:00:00Z') }),
        ...options,
      });
      return { ...result, blockStatus: Object.fromEntries(result.blocks.map((b) => [b.block, b.status])) };
    } finally {
      await connectors.close();
    }
  };

  it('a downstream block starts while its upstream output is still being saved; the upstream is succeeded once saved', async () => {
    let sinkStarted!: () => void;
    const started = new Promise<void>((resolve) => (sinkStarted = resolve));
    let gaveUp = false; // the engine waited for the save: let it through after a while rather than hang
    const giveUp = new Promise<void>((resolve) => setTimeout(() => resolve(void (gaveUp = true)), 3000).unref());
    const r = await runWith('saves', slowWorkspace('numbers', Promise.race([started, giveUp])), {
      onEvent: (e) => {
        if (e.type === 'block' && e.block === 'sink' && e.status === 'running') sinkStarted();
      },
    });
    expect(r.blockStatus).toEqual({ numbers: 'succeeded', sink: 'succeeded' });
    const numbers = r.blocks.find((b) => b.block === 'numbers')!;
    const sink = r.blocks.find((b) => b.block === 'sink')!;
    expect(gaveUp).toBe(false);
    expect(sink.startedAt!.getTime()).toBeGreaterThanOrEqual(numbers.finishedAt!.getTime());
    expect(((await session.workspace.load(numbers.outputUri!)) as Table).numRows).toBe(4);
  });

  it('an output that cannot be saved fails its block and the run, with no output recorded', async () => {
    const r = await runWith('saves', slowWorkspace('numbers', Promise.resolve(), true));
    expect(r.run!.status).toBe('failed');
    const numbers = r.blocks.find((b) => b.block === 'numbers')!;
    expect(numbers.status).toBe('failed');
    expect(numbers.outputUri).toBeNull();
    expect(numbers.error).toContain('could not be saved to the workspace');
    expect(numbers.error).toContain('disk full');
  });
});

describe('timeouts', () => {
  it('times out each attempt, retries, then fails with the timeout in the error', async () => {
    const r = await run('timeouts', { variables: { sleep_ms: 5000 } });
    const slow = r.blocks.find((b) => b.block === 'slow')!;
    expect(slow.status).toBe('failed');
    expect(slow.attempts).toBe(2);
    expect(slow.error).toContain('timed out after 200ms');
  });

  it('does not time out a block that finishes in time', async () => {
    const r = await run('timeouts', { variables: { sleep_ms: 10 } });
    expect(r.run!.status).toBe('succeeded');
  });
});

describe('block tests', () => {
  it('a failed test fails the block with its message, after retrying', async () => {
    const r = await run('tests', { variables: { max_rows: 2 } });
    const tested = r.blocks.find((b) => b.block === 'tested')!;
    expect(tested.status).toBe('failed');
    expect(tested.attempts).toBe(2);
    expect(tested.error).toContain('1/2 tests passed for block tested: small enough: 4 rows is too many');
  });

  it('passing tests are logged', async () => {
    const r = await run('tests');
    expect(r.run!.status).toBe('succeeded');
    expect(r.logs).toContain('tested: 2/2 tests passed');
  });
});

describe('branches, conditionals, cancellation', () => {
  it('a false conditional skips what depends on it; other branches run', async () => {
    const r = await run('branches', { variables: { go: false, sleep_ms: 1 } });
    expect(r.blockStatus).toEqual({ numbers: 'succeeded', gate: 'succeeded', left: 'skipped', right: 'succeeded', sink: 'succeeded' });
    expect(r.run!.status).toBe('succeeded');
  });

  it('cancelling aborts running blocks and cancels the queued ones', async () => {
    const controller = new AbortController();
    const pending = run('branches', {
      variables: { sleep_ms: 10_000 },
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'block' && e.block === 'right' && e.status === 'running') setTimeout(() => controller.abort(), 50);
      },
    });
    const r = await pending;
    expect(r.run!.status).toBe('cancelled');
    expect(r.blockStatus.right).toBe('cancelled');
    expect(r.blockStatus.sink).toBe('cancelled');
  });
});

describe('rerun one block and resume', () => {
  it('runs one block on the latest outputs of its upstreams', async () => {
    await run('retries');
    const r = await run('retries', { only: 'sink' });
    expect(r.blocks.map((b) => [b.block, b.status])).toEqual([['sink', 'succeeded']]);
    expect(r.blocks[0]!.rowsOut).toBe(4);
    expect(r.logs.some((l) => l.includes('reusing the output of flaky'))).toBe(true);
  });

  it('resumes a failed run from the failed block, reusing what succeeded', async () => {
    const failed = await run('retries', { variables: { succeed_on: 9 } });
    expect(failed.run!.status).toBe('failed');
    const resumed = await run('retries', { resumeFrom: failed.run!.id, variables: { succeed_on: 1 } });
    expect(resumed.run!.status).toBe('succeeded');
    expect(resumed.run!.resumedFrom).toBe(failed.run!.id);
    const numbers = resumed.blocks.find((b) => b.block === 'numbers')!;
    expect(numbers.reusedFrom).toBe(failed.run!.id);
    expect(numbers.attempts).toBe(0);
    expect(resumed.blocks.find((b) => b.block === 'flaky')!.attempts).toBe(1);
    const output = await session.workspace.load(resumed.blocks.find((b) => b.block === 'flaky')!.outputUri!);
    expect((output as Table).numRows).toBe(4);
  });

  it('workspace retention keeps only the newest output of each block, found in one query', async () => {
    const older = await run('retries');
    const newest = await run('retries');
    const uris = await session.store.latestOutputUris();
    for (const b of newest.blocks) expect(uris.has(b.outputUri!), b.block).toBe(true);
    for (const b of older.blocks) expect(uris.has(b.outputUri!), b.block).toBe(false);
    // Retention 0: everything older than now goes, except those outputs.
    await session.workspace.clean(0, uris);
    for (const b of newest.blocks) expect(await session.workspace.load(b.outputUri!)).toBeDefined();
    await expect(session.workspace.load(older.blocks[0]!.outputUri!)).rejects.toThrow(/is gone/);
  });

  it('a single-block rerun of a block whose upstream never ran says what to do', async () => {
    const error = await run('fresh', { only: 'sink' }).catch((e) => e);
    expect(String(error.describe?.() ?? error)).toMatch(/numbers has never succeeded[\s\S]*pipekit run fresh/);
  });
});

describe('scheduled runs', () => {
  it('runs a trigger tick once even when it is delivered twice', async () => {
    const pipeline = session.pipeline('scheduled');
    const plan = planRun(pipeline, { trigger: 'daily', now: new Date('2021-01-15T00:00:05Z') });
    const first = await run('scheduled', { plan });
    const second = await run('scheduled', { plan });
    expect(first.status === 'duplicate' ? 'x' : first.run!.status).toBe('succeeded');
    expect(second.status).toBe('duplicate');
    const runs = await session.store.listRuns({ pipeline: 'scheduled' });
    expect(runs).toHaveLength(1);
    expect(runs[0]!.executionDate.toISOString()).toBe('2021-01-15T00:00:00.000Z');
  });
});
