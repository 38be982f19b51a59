import type { BlockDefinition } from '../blocks/define.ts';
import { executeAttempt } from '../engine/execute-block.ts';
import { runtimeValues } from '../engine/variables.ts';
import type { Connectors } from '../io/types.ts';
import { RunLogger, memorySink } from '../log/logger.ts';
import { parseDuration } from '../project/duration.ts';
import type { BlockSpec } from '../project/model.ts';

export interface BlockTestOptions {
  /** Upstream outputs, in `upstream` order. */
  readonly inputs?: readonly unknown[];
  readonly variables?: Readonly<Record<string, unknown>>;
  /** Default now. */
  readonly executionDate?: Date;
  /** End of the run's interval; default a day after the execution date. */
  readonly intervalEnd?: Date;
  /** Connectors for blocks that use `ctx.io`; by default any use throws. */
  readonly io?: Partial<Connectors>;
  /** Per-attempt timeout, as in pipeline.yaml (`30s`, `5m`) or milliseconds; default none. */
  readonly timeout?: string | number;
  /** Aborting it cancels the block, like Ctrl-C on a run. */
  readonly signal?: AbortSignal;
  /** Names in the context and in errors (defaults: block `block`, pipeline `test`, profile `test`, trigger `manual`). */
  readonly uuid?: string;
  readonly pipeline?: string;
  readonly env?: string;
  readonly trigger?: string;
  readonly event?: Readonly<Record<string, unknown>>;
}

/**
 * Runs one block definition in-process, its tests included, through the
 * engine's own attempt (`executeAttempt`): a sensor polls until satisfied, a
 * conditional must return true or false, the timeout applies, and `ds`/`hr`
 * come from the execution date exactly as in a run — for unit tests of user
 * blocks:
 *
 * ```ts
 * const { output, logs } = await runBlockForTest(dropZeroPassengers, { inputs: [trips] });
 * ```
 */
export async function runBlockForTest<In extends readonly unknown[], Out>(
  block: BlockDefinition<In, Out>,
  options: BlockTestOptions & { readonly inputs?: In } = {},
): Promise<{ output: Out; logs: string[] }> {
  const uuid = options.uuid ?? 'block';
  const executionDate = options.executionDate ?? new Date();
  const runtime = runtimeValues({
    executionDate,
    intervalStart: executionDate,
    intervalEnd: options.intervalEnd ?? new Date(executionDate.getTime() + 86_400_000),
    profile: options.env ?? 'test',
    pipeline: options.pipeline ?? 'test',
    runId: 'test-run',
    trigger: options.trigger ?? 'manual',
  });
  const sink = memorySink();
  const logger = new RunLogger(runtime.run_id, runtime.pipeline, [sink]);
  const output = await executeAttempt({
    spec: testSpec(block.kind, uuid, options.timeout),
    // The block's own input and output types: the attempt hands it `inputs` and its tests its output.
    definition: block as unknown as BlockDefinition,
    inputs: options.inputs ?? [],
    runtime,
    signal: options.signal ?? new AbortController().signal,
    ctx: {
      variables: options.variables ?? {},
      event: options.event,
      attempt: 1,
      log: logger.forBlock(uuid),
      io: testConnectors(runtime.env, options.io),
    },
  });
  return { output: output as Out, logs: sink.records.map((r) => r.message) };
}

/** What pipeline.yaml would say about this block: its kind and timeout, no retries. */
function testSpec(kind: BlockSpec['kind'], uuid: string, timeout: string | number | undefined): BlockSpec {
  return {
    uuid,
    kind,
    file: `${uuid}.ts`,
    path: `${uuid}.ts`,
    language: 'typescript',
    upstream: [],
    retry: { attempts: 1, delayMs: 0, backoff: 'fixed', maxDelayMs: 0 },
    timeoutMs: timeout === undefined ? undefined : typeof timeout === 'number' ? timeout : parseDuration(timeout),
  };
}

function testConnectors(profile: string, io: Partial<Connectors> = {}): Connectors {
  const unavailable = (name: string) => () =>
    Promise.reject(new Error(`ctx.io.${name}() is not available in runBlockForTest: pass options.io`));
  return {
    profile,
    postgres: io.postgres ?? unavailable('postgres'),
    lake: io.lake ?? unavailable('lake'),
    warehouse: io.warehouse ?? unavailable('warehouse'),
    http: io.http ?? { load: unavailable('http.load'), loadWithReport: unavailable('http.loadWithReport') },
  };
}
