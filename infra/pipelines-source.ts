import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../src/errors.ts';
import { loadProject } from '../src/project/load-project.ts';
import type { PipelineSpec } from '../src/project/model.ts';
import { jobNameFor, workspaceInitJobNameFor } from '../src/cloud/naming.ts';

/** The repository root: infra/ lives directly under it. Relative pipeline folders resolve here, not against the cwd Pulumi happens to use. */
export const REPO_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

/**
 * The pipelines the stack deploys, read with the same `loadProject` the CLI
 * uses, so pipeline.yaml stays the single source of truth: a new pipeline
 * folder becomes a new Cloud Run job on the next `pulumi up`, and an invalid
 * pipeline.yaml fails the preview with the CLI's own error.
 *
 * Also checks that no two pipelines map to the same job name (`a_b` and
 * `a-b` would), since the second would silently replace the first.
 */
export function loadDeployedPipelines(pipelinesDir: string, prefix: string): PipelineSpec[] {
  const root = isAbsolute(pipelinesDir) ? pipelinesDir : resolve(REPO_ROOT, pipelinesDir);
  if (!existsSync(root)) {
    throw new ConfigError({
      file: root,
      message: 'the pipelines folder does not exist',
      hint: 'set `pulumi config set pipekit:pipelinesDir <folder>` (or env PIPEKIT_PIPELINES_DIR), relative to the repository root',
    });
  }
  const pipelines = [...loadProject(root).pipelines.values()];
  const byJob = new Map<string, string>([[workspaceInitJobNameFor(prefix), '(the workspace-init job pulumi up runs)']]);
  for (const pipeline of pipelines) {
    const job = jobNameFor(prefix, pipeline.name);
    const other = byJob.get(job);
    if (other !== undefined) {
      throw new ConfigError({
        file: pipeline.file,
        message: `pipelines "${other}" and "${pipeline.name}" would both deploy as Cloud Run job ${job}`,
        hint: 'rename one of the two pipeline folders so that they differ by more than _ versus -',
      });
    }
    byJob.set(job, pipeline.name);
  }
  return pipelines;
}
