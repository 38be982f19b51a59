import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { Table } from 'apache-arrow';
import { notifyRunFinished, type RunAlertOptions } from '../alerts/slack.ts';
import type { BlockDefinition } from '../blocks/define.ts';
import { CancelledError, describeError, NotFoundError } from '../errors.ts';
import type { Connectors } from '../io/types.ts';
import { RunLogger, type LogSink } from '../log/logger.ts';
import { downstreamOf, topologicalOrder } from '../project/dag.ts';
import type { BlockSpec, PipelineSpec } from '../project/model.ts';
import type { BlockRunRecord, BlockStatus, RunOwner, RunRecord, RunStatus } from '../runs/model.ts';
import { currentOwner } from '../runs/owner.ts';
import type { RunStore } from '../runs/store.ts';
import { executeAttempt } from './execute-block.ts';
import { loadBlockModule } from './load-block.ts';
import { resumeSource } from './resume.ts';
import { nextRetryDelay, sleep } from './retry.ts';
import type { RunPlan } from './run-plan.ts';
import { resolveVariables, runtimeValues } from './variables.ts';
import type { Workspace } from './workspace.ts';
import { isBigOutput, reclaimMemory } from './reclaim.ts';

/** Progress events for the terminal view and the console. */
export type RunEvent =
  | { readonly type: 'run'; readonly runId: string; readonly status: RunStatus }
  | {
      readonly type: 'block';
      readonly runId: string;
      readonly block: string;
      readonly status: BlockStatus;
      readonly attempt?: number;
      readonly rows?: number | null;
    };

export interface RunPipelineOptions {
  readonly pipeline: PipelineSpec;
  readonly profile: string;
  readonly store: RunStore;
  readonly workspace: Workspace;
  readonly connectors: Connectors;
  readonly plan: RunPlan;
  /** Run variables (`--var`, the API body); override pipeline and trigger variables. */
  readonly variables?: Readonly<Record<string, unknown>>;
  readonly event?: Readonly<Record<string, unknown>>;
  /** Run only this block, feeding it the latest succeeded outputs of its upstreams. */
  readonly only?: string;
  /** Re-run a failed run: blocks that succeeded in it are reused, the rest run again. */
  readonly resumeFrom?: string;
  readonly backfillId?: string;
  readonly runId?: string;
  readonly signal?: AbortSignal;
  readonly sinks?: readonly LogSink[];
  readonly onEvent?: (event: RunEvent) => void;
  readonly env?: NodeJS.ProcessEnv;
  /** Notify a webhook when the run ends (the profile's ALERT_WEBHOOK_URL; see `session.alerts`). */
  readonly alerts?: RunAlertOptions;
  /** Who runs it (default: this process, and its Cloud Run task from the environment). */
  readonly owner?: RunOwner;
  /**
   * Asked about the live-looking run that already holds this run's dedupe key;
   * true when it was dead and has been ended (see `Reconciler.reconcileRun`).
   */
  readonly reconcile?: (holder: RunRecord) => Promise<boolean>;
}

export interface RunResult {
  /** `duplicate` when a scheduled tick already has a run (nothing was executed). */
  readonly status: RunStatus | 'duplicate';
  readonly run: RunRecord | null;
  readonly blocks: readonly BlockRunRecord[];
}

/** A readable, sortable run id: `20210101T000000-3f9a1c`. */
export function newRunId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, '').slice(0, 15)}-${randomBytes(3).toString('hex')}`;
}

/**
 * Runs a pipeline: blocks in dependency order, independent branches in
 * parallel up to `pipeline.concurrency`, each block retried by its policy
 * under its timeout, every status recorded in the run store as it changes.
 */
export async function runPipeline(options: RunPipelineOptions): Promise<RunResult> {
  const { pipeline, store, plan } = options;
  let runId = options.runId ?? newRunId();
  const selected = selectBlocks(pipeline, options.only);

  const reused = new Map<string, { runId: string; outputUri: string }>();
  let runVariables = options.variables ?? {};
  let effectivePlan = plan;
  let resumedFrom: string | null = null;
  if (options.resumeFrom) {
    const previous = await resumeSource(store, options.resumeFrom, pipeline);
    resumedFrom = previous.id;
    effectivePlan = {
      ...plan,
      executionDate: previous.executionDate,
      intervalStart: previous.intervalStart,
      intervalEnd: previous.intervalEnd,
      trigger: previous.trigger,
      dedupeKey: null,
    };
    runVariables = { ...previous.variables, ...runVariables };
    for (const b of await store.getBlockRuns(previous.id)) {
      if (b.status === 'succeeded' && b.outputUri) reused.set(b.block, { runId: b.reusedFrom ?? previous.id, outputUri: b.outputUri });
    }
  }
  if (options.only) {
    const block = pipeline.blocks.find((b) => b.uuid === options.only)!;
    for (const up of block.upstream) {
      const latest = await store.latestOutput(pipeline.name, up);
      if (!latest) {
        throw new NotFoundError(`block ${options.only} needs the output of ${up}, and ${up} has never succeeded`, {
          hint: `run the whole pipeline once: pipekit run ${pipeline.name}`,
        });
      }
      reused.set(up, latest);
    }
  }

  const newRun = {
    id: runId,
    pipeline: pipeline.name,
    trigger: effectivePlan.trigger,
    executionDate: effectivePlan.executionDate,
    intervalStart: effectivePlan.intervalStart,
    intervalEnd: effectivePlan.intervalEnd,
    profile: options.profile,
    variables: runVariables,
    backfillId: options.backfillId ?? null,
    resumedFrom,
    dedupeKey: effectivePlan.dedupeKey,
    owner: options.owner ?? currentOwner(options.env ?? process.env),
  };
  const resolve = (id: string) => {
    const values = runtimeValues({ ...effectivePlan, profile: options.profile, pipeline: pipeline.name, runId: id });
    return {
      runtime: values,
      variables: resolveVariables(
        pipeline,
        options.profile,
        effectivePlan.triggerVariables,
        runVariables,
        values,
        options.env,
        dirname(dirname(pipeline.file)),
      ),
    };
  };
  // Resolved before anything is recorded: a bad variable fails here, leaving no queued run behind.
  let { runtime, variables } = resolve(runId);
  const blockIds = selected.map((b) => b.uuid);
  const takeOver = effectivePlan.takeOver ?? 'same-task';
  let created = await store.createRun(newRun, blockIds, { takeOver });
  // The tick's run may say running while its process is gone: a dead run does not hold the tick.
  if (created.outcome === 'duplicate' && options.reconcile && (await options.reconcile(created.run))) {
    created = await store.createRun(newRun, blockIds, { takeOver });
  }
  if (created.outcome === 'duplicate') return { status: 'duplicate', run: null, blocks: [] };
  const run = created.run;
  if (run.id !== runId) {
    runId = run.id; // attempt N+1 of the tick's run
    ({ runtime, variables } = resolve(runId));
  }

  const logger = new RunLogger(runId, pipeline.name, options.sinks ?? []);
  const emit = (event: RunEvent) => options.onEvent?.(event);
  const execution = new Execution(options, runId, selected, reused, variables, runtime, logger, emit);
  const startedAt = run.attempt > 1 ? new Date() : run.createdAt;
  await store.updateRun(runId, { status: 'running', startedAt: new Date() });
  emit({ type: 'run', runId, status: 'running' });
  logger.info(
    `run ${runId}${run.attempt > 1 ? ` attempt ${run.attempt}` : ''} of ${pipeline.name} for ${effectivePlan.executionDate.toISOString()} (${effectivePlan.trigger}, profile ${options.profile})`,
  );

  let status: RunStatus;
  let error: string | null = null;
  try {
    const outcome = await execution.run();
    status = outcome.status;
    error = outcome.error;
  } catch (e) {
    status = 'failed';
    error = describeError(e);
    logger.error(error);
  }
  const finishedAt = new Date();
  await store.updateRun(runId, { status, finishedAt, error });
  logger.log(
    status === 'succeeded' ? 'INFO' : 'ERROR',
    `run ${status} in ${((finishedAt.getTime() - startedAt.getTime()) / 1000).toFixed(1)}s`,
  );
  await logger.flush();
  emit({ type: 'run', runId, status });
  const finalRun = (await store.getRun(runId))!;
  const blocks = await store.getBlockRuns(runId);
  // Never fails the run: a webhook problem is logged by notifyRunFinished itself.
  if (options.alerts) await notifyRunFinished(finalRun, blocks, options.alerts);
  return { status, run: finalRun, blocks };
}

function selectBlocks(pipeline: PipelineSpec, only: string | undefined): BlockSpec[] {
  const order = topologicalOrder(pipeline.blocks);
  const byId = new Map(pipeline.blocks.map((b) => [b.uuid, b]));
  if (only === undefined) return order.map((id) => byId.get(id)!);
  const block = byId.get(only);
  if (!block) {
    throw new NotFoundError(`pipeline ${pipeline.name} has no block "${only}"`, { hint: `its blocks: ${order.join(', ')}` });
  }
  return [block];
}

/** The state of one run while it executes. */
class Execution {
  private readonly status = new Map<string, BlockStatus>();
  private readonly outputs = new Map<string, unknown>();
  /** Downstream blocks still to read each output: memory is released when it reaches 0. */
  private readonly readers = new Map<string, number>();
  private readonly definitions = new Map<string, BlockDefinition>();
  /** Blocks whose output downstream blocks may read: in memory, its tests passed (it may still be being saved). */
  private readonly available = new Set<string>();
  /** Outputs still being written to the workspace, by block; settles either way. */
  private readonly saving = new Map<string, Promise<void>>();
  /** The latest save (they run one after another); settles either way. */
  private saves: Promise<void> = Promise.resolve();
  /** Each save's end: the block's row recorded as succeeded (or failed when its output could not be saved). */
  private readonly recording: Promise<void>[] = [];
  /** Upstream outputs being dropped once their saves end (see release). */
  private readonly releasing: Promise<void>[] = [];
  private firstError: string | null = null;

  constructor(
    private readonly options: RunPipelineOptions,
    private readonly runId: string,
    private readonly blocks: readonly BlockSpec[],
    private readonly reused: ReadonlyMap<string, { runId: string; outputUri: string }>,
    private readonly variables: Readonly<Record<string, unknown>>,
    private readonly runtime: ReturnType<typeof runtimeValues>,
    private readonly logger: RunLogger,
    private readonly emit: (event: RunEvent) => void,
  ) {
    for (const b of blocks) this.status.set(b.uuid, 'queued');
    for (const b of blocks) for (const up of b.upstream) this.readers.set(up, (this.readers.get(up) ?? 0) + 1);
  }

  async run(): Promise<{ status: RunStatus; error: string | null }> {
    const signal = this.options.signal ?? new AbortController().signal;
    // Load every TypeScript block first: a broken file fails the run before any data moves.
    for (const b of this.blocks) {
      if (b.language === 'typescript' && !this.reused.has(b.uuid)) {
        this.definitions.set(b.uuid, await loadBlockModule(this.options.pipeline.file, b));
      }
    }
    const specs = new Map(this.options.pipeline.blocks.map((b) => [b.uuid, b]));
    for (const [uuid, previous] of this.reused) await this.markReused(specs.get(uuid)!, previous);

    const limit = Math.max(1, this.options.pipeline.concurrency);
    const running = new Map<string, Promise<void>>();
    for (;;) {
      if (signal.aborted) break;
      for (const block of this.ready()) {
        if (running.size >= limit) break;
        this.status.set(block.uuid, 'running');
        running.set(
          block.uuid,
          this.runBlock(block, signal).finally(() => running.delete(block.uuid)),
        );
      }
      if (running.size === 0) break;
      await Promise.race(running.values());
    }
    await Promise.allSettled(running.values());
    await Promise.allSettled(this.releasing);
    const recorded = await Promise.allSettled(this.recording);
    const lost = recorded.find((r) => r.status === 'rejected');
    if (lost) throw lost.reason; // the run store failed: the run fails, as when any block's row cannot be written
    if (signal.aborted) await this.cancelRemaining();

    const statuses = [...this.status.values()];
    if (statuses.includes('cancelled')) return { status: 'cancelled', error: this.firstError ?? 'cancelled' };
    if (statuses.includes('failed') || statuses.includes('upstream_failed')) return { status: 'failed', error: this.firstError };
    return { status: 'succeeded', error: null };
  }

  private ready(): BlockSpec[] {
    return this.blocks.filter(
      (b) =>
        this.status.get(b.uuid) === 'queued' &&
        b.upstream.every((up) => this.available.has(up) || (!this.status.has(up) && this.outputs.has(up))),
    );
  }

  private async markReused(block: BlockSpec, previous: { runId: string; outputUri: string }): Promise<void> {
    const inRun = this.status.has(block.uuid);
    // Only outputs a block still to run will read are loaded back into memory.
    const needed = this.blocks.some((b) => !this.reused.has(b.uuid) && b.upstream.includes(block.uuid));
    const value = needed || !inRun ? await this.options.workspace.load(previous.outputUri) : undefined;
    if (value !== undefined) this.outputs.set(block.uuid, value);
    if (inRun) this.status.set(block.uuid, 'succeeded');
    if (inRun) this.available.add(block.uuid);
    if (inRun) {
      await this.options.store.updateBlockRun(this.runId, block.uuid, {
        status: 'succeeded',
        outputUri: previous.outputUri,
        reusedFrom: previous.runId,
        rowsOut: value instanceof Table ? value.numRows : null,
      });
      this.emit({ type: 'block', runId: this.runId, block: block.uuid, status: 'succeeded' });
    }
    this.logger.info(`reusing the output of ${block.uuid} from run ${previous.runId}`);
  }

  private async runBlock(block: BlockSpec, signal: AbortSignal): Promise<void> {
    const { store, workspace, pipeline } = this.options;
    const startedAt = new Date();
    const log = this.logger.forBlock(block.uuid);
    const inputs = block.upstream.map((up) => this.outputs.get(up));
    let attempt = 0;
    for (;;) {
      attempt++;
      await store.updateBlockRun(this.runId, block.uuid, { status: 'running', attempts: attempt, startedAt });
      this.emit({ type: 'block', runId: this.runId, block: block.uuid, status: 'running', attempt });
      log.info(attempt === 1 ? 'started' : `attempt ${attempt} of ${block.retry.attempts}`);
      try {
        const output = await executeAttempt({
          spec: block,
          definition: this.definitions.get(block.uuid),
          inputs,
          runtime: this.runtime,
          signal,
          ctx: {
            variables: this.variables,
            event: this.options.event,
            attempt,
            log,
            io: this.options.connectors,
          },
        });
        const finishedAt = new Date();
        if (block.kind === 'conditional' && output === false) await this.skipDownstream(block);
        // Written to the workspace beside the blocks that read it: a taxi month takes 0.3-0.5 s to
        // write, which no reader needs to wait for. The row says succeeded only once the file is
        // there, so a resume or a single-block rerun never finds an output that is not.
        // One save at a time, in the order the outputs came: the first is what the next block's
        // release waits for (two at once shared the disk and both finished later).
        const saved = this.saves.then(() => workspace.save(pipeline.name, this.runId, block.uuid, output));
        const settled = saved.then(
          () => undefined,
          () => undefined,
        );
        this.saves = settled;
        this.saving.set(block.uuid, settled);
        inputs.length = 0; // this frame must not keep released outputs alive
        const released = this.release(block);
        // A single reader of this output need not wait for its upstreams' saves and the collection
        // after them (a taxi month's save outlasts the filter after it by up to ~0.9 s): it streams
        // what it reads. Several readers starting at once each allocate a working set of their own,
        // so they start once the upstream memory is back (api_to_gcs: +100 MB of peak otherwise).
        if ((this.readers.get(block.uuid) ?? 0) > 1) await released;
        else this.releasing.push(released);
        this.outputs.set(block.uuid, output);
        this.available.add(block.uuid);
        this.recording.push(this.recordSucceeded(block, output, saved, startedAt, finishedAt));
        return;
      } catch (error) {
        const message = describeError(error);
        const cancelled = signal.aborted || error instanceof CancelledError;
        const delay = cancelled ? null : nextRetryDelay(block.retry, attempt, error);
        if (delay !== null) {
          log.warn(`attempt ${attempt} failed: ${message}; retrying in ${(delay / 1000).toFixed(1)}s`);
          try {
            await sleep(delay, signal);
            continue;
          } catch {
            // Cancelled while waiting: fall through to record it.
          }
        }
        const status: BlockStatus = cancelled || signal.aborted ? 'cancelled' : 'failed';
        this.status.set(block.uuid, status);
        this.firstError ??= `${block.uuid}: ${message}`;
        await store.updateBlockRun(this.runId, block.uuid, { status, finishedAt: new Date(), error: message });
        log.error(`${status} after ${attempt} attempt${attempt === 1 ? '' : 's'}: ${message}`);
        this.emit({ type: 'block', runId: this.runId, block: block.uuid, status });
        if (status === 'failed') await this.markDownstream(block, 'upstream_failed');
        inputs.length = 0;
        await this.release(block);
        return;
      }
    }
  }

  /** Records a block whose output is being saved: succeeded once saved, failed when it cannot be (nothing to resume from). */
  private async recordSucceeded(
    block: BlockSpec,
    output: unknown,
    saved: Promise<{ uri: string; rows: number | null }>,
    startedAt: Date,
    finishedAt: Date,
  ): Promise<void> {
    const { store } = this.options;
    const log = this.logger.forBlock(block.uuid);
    let uri: string;
    let rows: number | null;
    try {
      const result = await saved;
      uri = result.uri;
      rows = rowsOf(output) ?? result.rows;
    } catch (error) {
      const message = `its output could not be saved to the workspace ${this.options.workspace.root}: ${describeError(error)}`;
      this.status.set(block.uuid, 'failed');
      this.firstError ??= `${block.uuid}: ${message}`;
      await store.updateBlockRun(this.runId, block.uuid, { status: 'failed', finishedAt, error: message });
      log.error(`failed: ${message}`);
      this.emit({ type: 'block', runId: this.runId, block: block.uuid, status: 'failed' });
      await this.markDownstream(block, 'upstream_failed');
      return;
    } finally {
      this.saving.delete(block.uuid);
    }
    this.status.set(block.uuid, 'succeeded');
    await store.updateBlockRun(this.runId, block.uuid, { status: 'succeeded', finishedAt, rowsOut: rows, outputUri: uri, error: null });
    const took = ((finishedAt.getTime() - startedAt.getTime()) / 1000).toFixed(2);
    log.info(`succeeded in ${took}s${rows !== null ? `, ${rows.toLocaleString('en-US')} rows` : ''}`);
    this.emit({ type: 'block', runId: this.runId, block: block.uuid, status: 'succeeded', rows });
  }

  private async skipDownstream(block: BlockSpec): Promise<void> {
    this.logger.forBlock(block.uuid).info('condition is false: skipping what depends on it');
    await this.markDownstream(block, 'skipped');
  }

  private async markDownstream(block: BlockSpec, status: 'upstream_failed' | 'skipped'): Promise<void> {
    for (const id of downstreamOf(this.blocks, block.uuid)) {
      if (this.status.get(id) !== 'queued') continue;
      this.status.set(id, status);
      await this.options.store.updateBlockRun(this.runId, id, { status, finishedAt: new Date() });
      this.emit({ type: 'block', runId: this.runId, block: id, status });
    }
  }

  private async cancelRemaining(): Promise<void> {
    for (const [id, status] of this.status) {
      if (status !== 'queued' && status !== 'running') continue;
      this.status.set(id, 'cancelled');
      await this.options.store.updateBlockRun(this.runId, id, { status: 'cancelled', finishedAt: new Date() });
      this.emit({ type: 'block', runId: this.runId, block: id, status: 'cancelled' });
    }
  }

  /** Drops upstream outputs nobody else will read, so a month of taxi data is not held twice. */
  private async release(block: BlockSpec): Promise<void> {
    // Counted at once, before any wait: the block is done reading all of them.
    const dropped = block.upstream.filter((up) => {
      const left = (this.readers.get(up) ?? 1) - 1;
      this.readers.set(up, left);
      return left <= 0;
    });
    let freed = false;
    for (const up of dropped) {
      // Its save still holds it: the memory comes back only once the file is written.
      await this.saving.get(up);
      freed ||= isBigOutput(this.outputs.get(up));
      this.outputs.delete(up);
    }
    // Nothing left to run that could allocate: the collection would only delay the run's end.
    const more = this.blocks.some((b) => b.uuid !== block.uuid && ['queued', 'running'].includes(this.status.get(b.uuid)!));
    if (freed && more) await reclaimMemory();
  }
}

function rowsOf(output: unknown): number | null {
  if (output instanceof Table) return output.numRows;
  if (output && typeof output === 'object' && typeof (output as { rows?: unknown }).rows === 'number') {
    return (output as { rows: number }).rows;
  }
  return null;
}
