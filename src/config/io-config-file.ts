import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../errors.ts';

/** The profile names in io_config.yaml. */
export function listProfiles(file: string): string[] {
  return Object.keys(readIoConfigFile(file)).filter((k) => k !== 'version');
}

/** io_config.yaml parsed: a mapping of profile names to settings, or a ConfigError naming the file. */
export function readIoConfigFile(file: string): Record<string, unknown> {
  if (!existsSync(file)) {
    throw new ConfigError({
      file,
      message: 'io_config.yaml not found',
      hint: 'run pipekit from a project folder (one holding io_config.yaml), or pass --project <folder>',
    });
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError({ file, message: `is not valid YAML: ${(error as Error).message}` });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError({ file, message: 'must be a mapping of profile names to settings' });
  }
  return parsed as Record<string, unknown>;
}
