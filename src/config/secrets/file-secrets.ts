import { existsSync, readFileSync } from 'node:fs';
import { ConfigError } from '../../errors.ts';
import type { SecretSource } from './secret-source.ts';

/**
 * Secrets on a laptop: a `.env`-style file (`NAME=value` lines, `#` comments,
 * optional quotes), kept out of git. The cloud profile uses Secret Manager.
 */
export function createFileSecretSource(file: string): SecretSource {
  let cache: Map<string, string> | undefined;
  const load = (): Map<string, string> => {
    if (cache) return cache;
    cache = new Map();
    if (!existsSync(file)) return cache;
    const lines = readFileSync(file, 'utf8').split(/\r?\n/);
    for (const line of lines) {
      const m = /^\s*(?:export\s+)?([\w.-]+)\s*=\s*(.*)$/.exec(line);
      if (!m || line.trimStart().startsWith('#')) continue;
      cache.set(m[1]!, unquote(m[2]!.trim()));
    }
    return cache;
  };
  return {
    description: file,
    async get(name) {
      const value = load().get(name);
      if (value === undefined) {
        throw new ConfigError({
          file,
          key: name,
          message: `secret "${name}" is not defined`,
          hint: `add a line ${name}=<value> to ${file} (it is git-ignored), or set the profile's SECRETS_SOURCE to secret-manager`,
        });
      }
      return value;
    },
  };
}

function unquote(value: string): string {
  if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0]) {
    return value.slice(1, -1);
  }
  return value;
}
