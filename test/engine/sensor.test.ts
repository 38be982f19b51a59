import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SENSOR_TIMEOUT_MS } from '../../src/blocks/define.ts';
import { planRun } from '../../src/engine/run-plan.ts';
import { openSession, type Session } from '../../src/engine/session.ts';
import { createTestDatabase, type TestDatabase } from '../support/postgres.ts';
import { createTestProject, type TestProject } from '../support/project.ts';

/** Sensors poll inside the run (a billed Cloud Run task): they must give up on their own. */
let db: TestDatabase;
let project: TestProject;
let session: Session;

const sensorFile = (options: string) => `import { sensor } from 'pipekit';
let polls = 0;
export default sensor(${options}, async (ctx) => ++polls >= Number(ctx.variables.ready_after ?? Infinity));`;
const SINK = `import { exporter } from 'pipekit';\nexport default exporter(async () => ({ rows: 0, target: 'nowhere' }));`;
const pipeline = (sensor: string) => `blocks:
  - { uuid: wait, kind: sensor, file: blocks/${sensor}.ts, retry: { attempts: 3, delay: 10ms } }
  - { uuid: after, kind: exporter, file: blocks/sink.ts, upstream: [wait] }
`;

beforeAll(async () => {
  db = await createTestDatabase('sensor');
  project = createTestProject('sensor', db.profileValues, {
    'blocks/quick.ts': sensorFile('{ pollIntervalMs: 20, timeoutMs: 150 }'),
    'blocks/default_timeout.ts': sensorFile(`{ pollIntervalMs: ${DEFAULT_SENSOR_TIMEOUT_MS + 60_000} }`),
    'blocks/sink.ts': SINK,
    'quick/pipeline.yaml': pipeline('quick'),
    'default_timeout/pipeline.yaml': pipeline('default_timeout'),
  });
  session = await openSession({ projectRoot: project.root, profile: 'test', env: {} });
});

afterAll(async () => {
  await session?.close();
  await db?.drop();
  project?.remove();
});

async function run(name: string, variables: Record<string, unknown> = {}) {
  const spec = session.pipeline(name);
  return session.runPipeline({ pipeline: spec, plan: planRun(spec, {}), variables });
}

describe('sensors', () => {
  it('poll until satisfied, then the blocks after them run', async () => {
    const result = await run('quick', { ready_after: 3 });
    expect(result.status).toBe('succeeded');
    expect(result.blocks.map((b) => [b.block, b.status, b.attempts])).toEqual([
      ['wait', 'succeeded', 1],
      ['after', 'succeeded', 1],
    ]);
  });

  it('give up after their timeout with how long and how often they polled, without spending retries', async () => {
    const started = Date.now();
    const result = await run('quick');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(result.status).toBe('failed');
    const wait = result.blocks.find((b) => b.block === 'wait')!;
    expect(wait).toMatchObject({ status: 'failed', attempts: 1 });
    expect(wait.error).toMatch(/^sensor wait was not satisfied within 150ms \(\d+ polls, every 20ms\)/);
    expect(result.blocks.find((b) => b.block === 'after')!.status).toBe('upstream_failed');
  });

  it('have a default timeout (30 minutes) when they set none', async () => {
    expect(DEFAULT_SENSOR_TIMEOUT_MS).toBe(30 * 60_000);
    // Polling again would pass the default deadline: the sensor fails at once instead of waiting.
    const result = await run('default_timeout');
    expect(result.blocks.find((b) => b.block === 'wait')!.error).toMatch(/not satisfied within 30m/);
  });
});
