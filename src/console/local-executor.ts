import { cancelBackfill, newBackfillId, retryBackfill, runBackfill } from '../engine/backfill.ts';
import { planRun } from '../engine/run-plan.ts';
import { newRunId } from '../engine/runner.ts';
import type { Session } from '../engine/session.ts';
import { describeError } from '../errors.ts';
import { runStoreSink } from '../log/store-sink.ts';
import { cancelRunElsewhere } from './cancel-run.ts';
import { ApiError } from './http.ts';
import type { Executor } from './executor.ts';
import { parseEvery } from '../time/backfill-range.ts';

/**
 * Runs and backfills inside the console process, each with its own
 * connectors and AbortController, so Cancel stops blocks that are running
 * (not only the ones not yet started).
 */
export function createLocalExecutor(session: Session, log: (message: string) => void): Executor {
  const running = new Map<string, { controller: AbortController; done: Promise<unknown> }>();
  const sinks = [runStoreSink(session.store, { intervalMs: 250 })];

  const track = (id: string, controller: AbortController, work: Promise<unknown>) => {
    const done = work.catch((error) => log(`console: ${id} failed: ${describeError(error)}`)).finally(() => running.delete(id));
    running.set(id, { controller, done });
    return done;
  };

  /** Resolves once `check` sees the record (or the work ended), so the page can open it right away. */
  const recorded = async (check: () => Promise<unknown>, done: Promise<unknown>) => {
    let ended = false;
    void done.then(() => (ended = true));
    for (let i = 0; i < 500 && !ended; i++) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  return {
    mode: 'local',
    async startRun({ pipeline: name, variables, executionDate }) {
      const pipeline = session.pipeline(name);
      const runId = newRunId();
      const controller = new AbortController();
      const work = session.runPipeline({
        pipeline,
        plan: planRun(pipeline, { executionDate, kind: 'manual' }),
        variables,
        runId,
        signal: controller.signal,
        sinks,
        log,
      });
      const done = track(runId, controller, work);
      await recorded(() => session.store.getRun(runId), done);
      return { runId };
    },
    async cancelRun(runId) {
      const entry = running.get(runId);
      // Started elsewhere (the CLI) or whose process is gone.
      if (!entry) return cancelRunElsewhere(session, runId);
      entry.controller.abort();
      await entry.done;
    },
    async startBackfill(request) {
      const pipeline = session.pipeline(request.pipeline);
      const every = parseEvery(request.every, request.timezone);
      const id = newBackfillId();
      const controller = new AbortController();
      const work = runBackfill(session, {
        pipeline,
        start: request.start,
        end: request.end,
        every,
        variables: request.variables,
        parallel: request.parallel,
        id,
        signal: controller.signal,
        sinks,
      });
      const done = track(id, controller, work);
      await recorded(() => session.store.getBackfill(id), done);
      return { backfillId: id };
    },
    async cancelBackfill(id) {
      const backfill = await session.store.getBackfill(id);
      if (!backfill) throw new ApiError(404, `backfill ${id} is not in the run store`);
      if (backfill.status !== 'running')
        throw new ApiError(409, `backfill ${id} has already ${backfill.status}: there is nothing to cancel`);
      await cancelBackfill(session, id);
      const entry = running.get(id);
      if (entry) {
        entry.controller.abort();
        await entry.done;
      }
    },
    async retryBackfill(id, options = {}) {
      const backfill = await session.store.getBackfill(id);
      if (!backfill) throw new ApiError(404, `backfill ${id} is not in the run store`);
      if (running.has(id)) throw new ApiError(409, `backfill ${id} is still running: cancel it first or wait`);
      const controller = new AbortController();
      const work = retryBackfill(session, id, {
        pipeline: session.pipeline(backfill.pipeline),
        variables: options.variables,
        parallel: options.parallel ?? 2,
        signal: controller.signal,
        sinks,
      });
      track(id, controller, work);
      return {};
    },
    async setTriggerPaused() {
      // Locally the scheduler (pipekit dev) reads the run store's overrides: nothing else to pause.
    },
    async close() {
      for (const entry of running.values()) entry.controller.abort();
      await Promise.allSettled([...running.values()].map((e) => e.done));
      await Promise.all(sinks.map((s) => s.flush?.()));
    },
  };
}
