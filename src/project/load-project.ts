import { buildProject, type BuildProjectOptions } from './build-project.ts';
import type { Project } from './model.ts';
import { parsePipelineYaml } from './pipeline-yaml.ts';

export { IO_CONFIG_FILE, PIPELINE_FILE, pipelineNames } from './build-project.ts';

/**
 * Reads and validates the project's pipelines, synchronously, every file parsed afresh: for
 * infra/ (the Pulumi program), the functions and the commands that read files only. A run
 * starts through open-project.ts instead, which keeps what it parsed.
 */
export function loadProject(root: string, options: Omit<BuildProjectOptions, 'read'> = {}): Project {
  return buildProject(root, { ...options, read: parsePipelineYaml });
}
