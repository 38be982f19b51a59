import { statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { keepDerived, projectCachePath, readDerived } from '../cache/derived-file.ts';
import { buildProject, type BuildProjectOptions } from './build-project.ts';
import type { Project } from './model.ts';
import type { RawPipeline } from './pipeline-schema.ts';

/**
 * The project as a run, a backfill or the console opens it: like loadProject, but each
 * pipeline.yaml parsed and schema-checked once and kept in `.pipekit/cache/pipelines` until
 * the file changes, so a start loads neither the YAML parser nor zod (~0.1 CPU-s on Node 20).
 * The checks against other files (block files, the DAG, schedules) run every time.
 */
export async function openProject(root: string, options: Omit<BuildProjectOptions, 'read'> = {}): Promise<Project> {
  const identity = schemaIdentity();
  // One entry a pipeline, named after its folder.
  const entry = (file: string) => projectCachePath(resolve(root), 'pipelines', `${basename(dirname(file))}.json`);
  const cached = (file: string) => readDerived<RawPipeline>(entry(file), identity);
  try {
    return buildProject(root, {
      ...options,
      read: (file) => {
        const raw = cached(file);
        if (raw === undefined) throw NOT_CACHED;
        return raw;
      },
    });
  } catch (error) {
    if (error !== NOT_CACHED) throw error;
  }
  const { parsePipelineYaml } = await import('./pipeline-yaml.ts');
  return buildProject(root, {
    ...options,
    read: (file) => {
      const kept = cached(file);
      if (kept !== undefined) return kept;
      const startedAt = Date.now();
      const raw = parsePipelineYaml(file);
      keepDerived(entry(file), identity, [file], raw, startedAt);
      return raw;
    },
  });
}

const NOT_CACHED = Symbol('not cached');

/** What the schema is: its module's build. A pipekit upgrade or rebuild parses every file again. */
function schemaIdentity(): string {
  const schema = new URL(import.meta.url.endsWith('.ts') ? './pipeline-schema.ts' : './pipeline-schema.js', import.meta.url);
  return `pipeline-yaml/1 ${statSync(schema).mtimeMs}`;
}
