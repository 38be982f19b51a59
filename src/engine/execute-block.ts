import { readFile } from 'node:fs/promises';
import { Table } from 'apache-arrow';
import type { BlockContext } from '../blocks/context.ts';
import { DEFAULT_SENSOR_TIMEOUT_MS, type BlockDefinition } from '../blocks/define.ts';
import { BlockTestError, BlockTimeoutError, CancelledError, ConfigError, NonRetriableError } from '../errors.ts';
import type { BlockSpec } from '../project/model.ts';
import { renderTemplate, TemplateError } from '../config/template.ts';
import { withSignal } from '../io/connectors.ts';
import { formatDuration } from '../project/duration.ts';
import { sleep } from './retry.ts';
import { runSqlBlock } from './sql-block.ts';
import { TEMPLATE_FILTERS, type RuntimeValues } from './variables.ts';

export interface AttemptInput {
  readonly spec: BlockSpec;
  /** Loaded module for TypeScript blocks; undefined for SQL blocks. */
  readonly definition?: BlockDefinition;
  /** Upstream outputs in `upstream` order. */
  readonly inputs: readonly unknown[];
  /** The run's values (execution date, ds, hr, interval, profile, ids): the block's context and its SQL templates both read them. */
  readonly runtime: RuntimeValues;
  /** The rest of the block's context. */
  readonly ctx: Pick<BlockContext, 'variables' | 'event' | 'attempt' | 'log' | 'io'>;
  /** Aborted on cancel; the attempt adds its own timeout on top. */
  readonly signal: AbortSignal;
}

/**
 * One attempt of one block: the block function (or SQL), then its tests, all
 * under the block's timeout; a sensor polls until it is satisfied and a
 * conditional must answer true or false. The caller handles retries and
 * statuses. The engine and `runBlockForTest` both run blocks through here.
 */
export async function executeAttempt(input: AttemptInput): Promise<unknown> {
  const { spec } = input;
  const controller = new AbortController();
  const onCancel = () => controller.abort(new CancelledError(`block ${spec.uuid} cancelled`));
  if (input.signal.aborted) onCancel();
  input.signal.addEventListener('abort', onCancel, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const ctx: BlockContext = {
    ...runtimeContext(input.runtime, spec.uuid),
    ...input.ctx,
    io: withSignal(input.ctx.io, controller.signal),
    signal: controller.signal,
  };

  const work = (async () => {
    const output = spec.language === 'sql' ? await runSql(input, ctx) : await runDefinition(input, ctx);
    if (input.definition) await runTests(spec.uuid, input.definition, output, ctx);
    return output;
  })();

  const stopped = new Promise<never>((_, reject) => {
    if (spec.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        const error = new BlockTimeoutError(`block ${spec.uuid} timed out after ${formatDuration(spec.timeoutMs!)}`, {
          hint: `raise its timeout in pipeline.yaml (blocks.${spec.uuid}.timeout) or make it faster`,
        });
        controller.abort(error);
        reject(error);
      }, spec.timeoutMs);
    }
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
  });
  // The work's own rejection after an abort is expected; don't leave it unhandled.
  work.catch(() => {});
  try {
    return await Promise.race([work, stopped]);
  } finally {
    if (timer) clearTimeout(timer);
    input.signal.removeEventListener('abort', onCancel);
  }
}

/** The context fields that come from the run's runtime values, under the names blocks use. */
function runtimeContext(runtime: RuntimeValues, block: string): Omit<BlockContext, keyof AttemptInput['ctx'] | 'signal'> {
  return {
    executionDate: runtime.execution_date,
    ds: runtime.ds,
    hr: runtime.hr,
    intervalStart: runtime.interval_start,
    intervalEnd: runtime.interval_end,
    env: runtime.env,
    pipeline: runtime.pipeline,
    block,
    runId: runtime.run_id,
    trigger: runtime.trigger,
  };
}

async function runDefinition(input: AttemptInput, ctx: BlockContext): Promise<unknown> {
  const definition = input.definition!;
  if (definition.kind === 'sensor') {
    const options = definition.options;
    const every = options.pollIntervalMs ?? 30_000;
    const waitMs = options.timeoutMs ?? DEFAULT_SENSOR_TIMEOUT_MS;
    const deadline = Date.now() + waitMs;
    for (let polls = 1; ; polls++) {
      if (await definition.run(...input.inputs, ctx)) return true;
      if (Date.now() + every > deadline) {
        // Waiting again would only repeat the wait (and its bill): not retried.
        throw new NonRetriableError(
          `sensor ${input.spec.uuid} was not satisfied within ${formatDuration(waitMs)} (${polls} polls, every ${formatDuration(every)})`,
          {
            hint: `raise its timeoutMs (sensor(fn, { timeoutMs })) if the wait is expected, or start the pipeline when the data arrives (a gcs trigger) instead of waiting for it`,
          },
        );
      }
      ctx.log.info(`sensor not satisfied yet, polling again in ${formatDuration(every)}`);
      await sleep(every, ctx.signal);
    }
  }
  const output = await definition.run(...input.inputs, ctx);
  if (definition.kind === 'conditional' && typeof output !== 'boolean') {
    throw new ConfigError({
      file: input.spec.path,
      message: `a conditional block must return true or false, it returned ${typeof output}`,
    });
  }
  return output;
}

async function runTests(block: string, definition: BlockDefinition, output: unknown, ctx: BlockContext): Promise<void> {
  if (definition.tests.length === 0) return;
  const failures: { test: string; message: string }[] = [];
  for (const test of definition.tests) {
    try {
      await test.fn(output, ctx);
    } catch (error) {
      failures.push({ test: test.name, message: (error as Error).message ?? String(error) });
    }
  }
  const total = definition.tests.length;
  ctx.log.info(`${total - failures.length}/${total} tests passed`);
  if (failures.length > 0) throw new BlockTestError(block, failures, total);
}

async function runSql(input: AttemptInput, ctx: BlockContext): Promise<unknown> {
  const { spec } = input;
  const names = new Map<string, Table>();
  spec.upstream.forEach((uuid, i) => {
    const value = input.inputs[i];
    if (value instanceof Table) {
      names.set(`df_${i + 1}`, value);
      names.set(uuid, value);
    }
  });
  let sql: string;
  try {
    sql = renderTemplate(await readFile(spec.path, 'utf8'), {
      values: { ...input.runtime, block_uuid: spec.uuid, variables_map: ctx.variables },
      filters: TEMPLATE_FILTERS,
      functions: {
        variables: (name) => {
          const key = String(name);
          if (!(key in ctx.variables)) throw new TemplateError(key, `unknown variable "${key}"`);
          return ctx.variables[key];
        },
      },
      passThrough: (name) => names.has(name) || /^df_\d+$/.test(name),
    });
  } catch (error) {
    throw new ConfigError({
      file: spec.path,
      message: (error as Error).message,
      hint: "a SQL block may use {{ df_N }}, upstream uuids, runtime variables and variables('name')",
    });
  }
  for (const m of sql.matchAll(/\{\{\s*(df_\d+)\s*\}\}/g)) {
    if (!names.has(m[1]!)) {
      throw new ConfigError({
        file: spec.path,
        message: `{{ ${m[1]} }} has no upstream table (the block has ${spec.upstream.length} upstream${spec.upstream.length === 1 ? '' : 's'})`,
        hint: 'df_1 is the first block in upstream, df_2 the second, …',
      });
    }
  }
  return runSqlBlock(sql, names, spec, ctx);
}
