import type { Session } from '../engine/session.ts';
import type { PipelineSpec, Trigger } from '../project/model.ts';
import type { RunFilter, RunStatus } from '../runs/model.ts';
import { ApiError } from './http.ts';
import { previewOutput } from './preview.ts';

const RECONCILE_EVERY_MS = 5_000;

const RUN_STATUSES: readonly RunStatus[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];

/** The JSON the console's pages read. Everything comes from the project and the run store. */
export function createReadApi(session: Session) {
  const { store } = session;
  // Runs whose process or Cloud Run task is gone are ended before a page shows them as running.
  const reconciled = () => session.reconciler.reconcileAtMostEvery(RECONCILE_EVERY_MS);

  const triggersOf = async (pipeline: PipelineSpec) => {
    const overrides = new Map((await store.triggerOverrides(pipeline.name)).map((o) => [o.trigger, o.enabled]));
    return pipeline.triggers.map((t: Trigger) => ({
      name: t.name,
      type: t.type,
      description: t.description ?? null,
      declaredEnabled: t.enabled,
      enabled: overrides.get(t.name) ?? t.enabled,
      overridden: overrides.has(t.name),
      ...(t.type === 'schedule' ? { schedule: t.schedule, timezone: t.timezone } : {}),
      ...(t.type === 'gcs' ? { bucket: t.bucket, prefix: t.prefix } : {}),
    }));
  };

  const describePipeline = async (pipeline: PipelineSpec) => {
    const [latest] = await store.listRuns({ pipeline: pipeline.name, limit: 1 });
    const blockRuns = latest ? await store.getBlockRuns(latest.id) : [];
    const status = new Map(blockRuns.map((b) => [b.block, b.status]));
    return {
      name: pipeline.name,
      description: pipeline.description ?? null,
      tags: pipeline.tags,
      // What a run from the console gets: the active profile's overrides on top, as the CLI does.
      variables: { ...pipeline.variables, ...(pipeline.profileVariables[session.profile.name] ?? {}) },
      profile: session.profile.name,
      blocks: pipeline.blocks.map((b) => ({
        uuid: b.uuid,
        kind: b.kind,
        upstream: b.upstream,
        language: b.language,
        description: b.description ?? null,
        status: status.get(b.uuid) ?? null,
      })),
      triggers: await triggersOf(pipeline),
      latestRun: latest ?? null,
    };
  };

  return {
    async pipelines() {
      await reconciled();
      return Promise.all([...session.project.pipelines.values()].map(describePipeline));
    },

    async pipeline(name: string) {
      const spec = session.project.pipelines.get(name);
      if (!spec) throw new ApiError(404, `there is no pipeline "${name}"`);
      return describePipeline(spec);
    },

    async runs(query: URLSearchParams) {
      const status = query.get('status') || undefined;
      if (status && !RUN_STATUSES.includes(status as RunStatus)) throw new ApiError(400, `status: use one of ${RUN_STATUSES.join(', ')}`);
      const limit = Math.min(500, Math.max(1, Number(query.get('limit') ?? 100) || 100));
      const filter: RunFilter = {
        pipeline: query.get('pipeline') || undefined,
        status: status as RunStatus | undefined,
        backfillId: query.get('backfill') || undefined,
        limit,
      };
      await reconciled();
      const runs = await store.listRuns(filter);
      const rows = await store.rowsOut(runs.map((r) => r.id));
      return runs.map((r) => ({ ...r, rowsOut: rows.get(r.id) ?? null }));
    },

    async run(id: string) {
      await reconciled();
      const run = await store.getRun(id);
      if (!run) throw new ApiError(404, `run ${id} is not in the run store`);
      const spec = session.project.pipelines.get(run.pipeline);
      const blocks = await store.getBlockRuns(id);
      const order = spec ? spec.blocks.map((b) => b.uuid) : [];
      blocks.sort((a, b) => order.indexOf(a.block) - order.indexOf(b.block));
      return { run, blocks: blocks.map(({ outputUri, ...b }) => ({ ...b, hasOutput: Boolean(outputUri) })) };
    },

    async logs(id: string, query: URLSearchParams) {
      if (!(await store.getRun(id))) throw new ApiError(404, `run ${id} is not in the run store`);
      return store.getLogs(id, {
        block: query.get('block') || undefined,
        limit: Math.min(5000, Number(query.get('limit') ?? 1000) || 1000),
      });
    },

    async preview(id: string, block: string) {
      const blocks = await store.getBlockRuns(id);
      const found = blocks.find((b) => b.block === block);
      if (!found) throw new ApiError(404, `run ${id} has no block "${block}"`);
      // The path comes from the run store, never from the request.
      if (!found.outputUri) throw new ApiError(404, `block ${block} of run ${id} has no saved output (status ${found.status})`);
      try {
        const preview = await previewOutput(found.outputUri);
        return { ...preview, totalRows: preview.totalRows ?? found.rowsOut };
      } catch (error) {
        throw new ApiError(410, (error as Error).message);
      }
    },

    async backfills(query: URLSearchParams) {
      return store.listBackfills({ pipeline: query.get('pipeline') || undefined, limit: 100 });
    },

    async backfill(id: string) {
      await reconciled();
      const backfill = await store.getBackfill(id);
      if (!backfill) throw new ApiError(404, `backfill ${id} is not in the run store`);
      const runs = await store.listRuns({ backfillId: id, limit: 10_000 });
      const latest = new Map<number, (typeof runs)[number]>();
      for (const r of runs) if (!latest.has(r.executionDate.getTime())) latest.set(r.executionDate.getTime(), r);
      const counts = { planned: backfill.executionDates.length, succeeded: 0, failed: 0, cancelled: 0, running: 0, pending: 0 };
      const dates = backfill.executionDates.map((d) => {
        const run = latest.get(d.getTime());
        const s = run?.status;
        if (s === 'succeeded' || s === 'failed' || s === 'cancelled') counts[s]++;
        else if (s === 'running' || s === 'queued') counts.running++;
        else counts.pending++;
        return {
          executionDate: d,
          runId: run?.id ?? null,
          status: s ?? 'pending',
          attempts: runs.filter((r) => r.executionDate.getTime() === d.getTime()).length,
        };
      });
      return { backfill, counts, dates };
    },
  };
}

export type ReadApi = ReturnType<typeof createReadApi>;
