import { ConfigError, NotFoundError, UsageError } from '../errors.ts';
import type { PipelineSpec } from '../project/model.ts';
import type { RunRecord } from '../runs/model.ts';
import type { RunStore } from '../runs/store.ts';

/**
 * The run a `--resume <id>` continues from: the newest run in the chain of
 * resumes that started at <id>. Resuming the same failed run twice then picks
 * up where the last resume stopped, so no block that already succeeded (an
 * exporter above all) runs again; a chain that ended in success has nothing
 * left to resume.
 */
export async function resumeSource(store: RunStore, runId: string, pipeline: PipelineSpec): Promise<RunRecord> {
  const asked = await store.getRun(runId);
  if (!asked) throw new NotFoundError(`run ${runId} is not in the run store`, { hint: `list runs with: pipekit runs ${pipeline.name}` });
  if (asked.pipeline !== pipeline.name)
    throw new ConfigError({ file: pipeline.file, message: `run ${asked.id} belongs to pipeline ${asked.pipeline}` });
  let source = asked;
  for (let next = await newestResume(store, source.id); next; next = await newestResume(store, source.id)) source = next;
  const via = source.id === asked.id ? `run ${asked.id}` : `run ${asked.id} was resumed by ${source.id}, which`;
  if (source.status === 'succeeded') {
    throw new UsageError(`${via} succeeded: there is nothing to resume`, {
      hint: `start a new run instead: pipekit run ${pipeline.name} --execution-date ${source.executionDate.toISOString()}`,
    });
  }
  if (source.status === 'running' || source.status === 'queued') {
    throw new UsageError(`${via} is still ${source.status}: resume it once it has failed or been cancelled`, {
      hint: `follow it with: pipekit logs ${source.id}`,
    });
  }
  return source;
}

async function newestResume(store: RunStore, runId: string): Promise<RunRecord | undefined> {
  const [newest] = await store.listRuns({ resumedFrom: runId, limit: 1 });
  return newest;
}
