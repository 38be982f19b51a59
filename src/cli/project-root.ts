import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../errors.ts';

/**
 * The project folder: `--project`, else PIPEKIT_PROJECT, else `./pipelines`
 * when it holds io_config.yaml (the repo layout), else the current folder.
 */
export function findProjectRoot(flag?: string, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  const explicit = flag ?? env.PIPEKIT_PROJECT;
  if (explicit) return resolve(cwd, explicit);
  for (const candidate of [resolve(cwd, 'pipelines'), cwd]) {
    if (existsSync(resolve(candidate, 'io_config.yaml'))) return candidate;
  }
  throw new ConfigError({
    file: resolve(cwd, 'io_config.yaml'),
    message: 'no pipekit project here',
    hint: 'run from a folder holding io_config.yaml (or its parent with pipelines/), pass --project <folder>, or start a project with: pipekit init <folder>',
  });
}
