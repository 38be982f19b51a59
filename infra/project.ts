/**
 * The Pulumi entry point for a project of one's own (`import { deployProject }
 * from 'pipekit/infra'`, as `pipekit init` scaffolds it): the same components
 * and config as this repository's infra/index.ts, with the pipelines read from
 * the project's folder instead of this repository's `pipelines/`.
 */
import { resolve } from 'node:path';
import { readInfraConfig } from './config.ts';
import { loadDeployedPipelines } from './pipelines-source.ts';
import { deployPipekit, type PipekitStackOutputs } from './program.ts';

export type { PipekitStackOutputs } from './program.ts';

export function deployProject(options: { projectDir: string }): PipekitStackOutputs {
  const config = { ...readInfraConfig(), pipelinesDir: resolve(options.projectDir) };
  return deployPipekit(config, loadDeployedPipelines(config.pipelinesDir, config.prefix));
}
