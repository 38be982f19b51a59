import type { BlockContext } from '../blocks/context.ts';
import type { BlockDefinition } from '../blocks/define.ts';
import { BlockTestError } from '../errors.ts';
import type { Connectors } from '../io/types.ts';
import { RunLogger, memorySink } from '../log/logger.ts';
import { strftime } from '../time/strftime.ts';

export interface BlockTestOptions {
  /** Upstream outputs, in `upstream` order. */
  readonly inputs?: readonly unknown[];
  readonly variables?: Readonly<Record<string, unknown>>;
  readonly executionDate?: Date;
  /** Connectors for blocks that use `ctx.io`; by default any use throws. */
  readonly io?: Partial<Connectors>;
}

/**
 * Runs one block definition in-process, its tests included, the way the
 * engine would — for unit tests of user blocks:
 *
 * ```ts
 * const { output, logs } = await runBlockForTest(dropZeroPassengers, { inputs: [trips] });
 * ```
 */
export async function runBlockForTest<Out>(
  block: BlockDefinition<readonly unknown[], Out>,
  options: BlockTestOptions = {},
): Promise<{ output: Out; logs: string[] }> {
  const sink = memorySink();
  const logger = new RunLogger('test-run', 'test', [sink]);
  const executionDate = options.executionDate ?? new Date();
  const unavailable = (name: string) => () => Promise.reject(new Error(`ctx.io.${name}() is not available in runBlockForTest: pass options.io`));
  const io: Connectors = {
    profile: 'test',
    postgres: options.io?.postgres ?? unavailable('postgres'),
    lake: options.io?.lake ?? unavailable('lake'),
    warehouse: options.io?.warehouse ?? unavailable('warehouse'),
    http: options.io?.http ?? { load: unavailable('http.load'), loadWithReport: unavailable('http.loadWithReport') },
  };
  const ctx: BlockContext = {
    executionDate,
    ds: strftime(executionDate, '%Y-%m-%d'),
    hr: strftime(executionDate, '%H'),
    intervalStart: executionDate,
    intervalEnd: new Date(executionDate.getTime() + 86_400_000),
    env: 'test',
    pipeline: 'test',
    block: 'block',
    runId: 'test-run',
    trigger: 'manual',
    variables: options.variables ?? {},
    attempt: 1,
    log: logger.forBlock('block'),
    io,
    signal: new AbortController().signal,
  };
  const output = await block.run(...(options.inputs ?? []), ctx);
  const failures: { test: string; message: string }[] = [];
  for (const test of block.tests) {
    try {
      await test.fn(output, ctx);
    } catch (error) {
      failures.push({ test: test.name, message: (error as Error).message });
    }
  }
  if (failures.length) throw new BlockTestError('block', failures, block.tests.length);
  return { output, logs: sink.records.map((r) => r.message) };
}
