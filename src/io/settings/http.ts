import type { IoProfile } from '../../config/io-profile.ts';
import { ConfigError } from '../../errors.ts';
import { parseDuration } from '../../project/duration.ts';

/** HTTP_* keys of `ctx.io.http`; unset means the loader's own defaults (30 s to answer, 60 s idle). */
export interface HttpSettings {
  readonly connectTimeoutMs?: number;
  readonly idleTimeoutMs?: number;
}

export function httpSettings(profile: IoProfile): HttpSettings {
  return Object.freeze({
    connectTimeoutMs: durationKey(profile, 'HTTP_CONNECT_TIMEOUT'),
    idleTimeoutMs: durationKey(profile, 'HTTP_IDLE_TIMEOUT'),
  });
}

/** A duration key (`30s`, `2m`, or seconds), checked here so a typo names the key. */
function durationKey(profile: IoProfile, key: 'HTTP_CONNECT_TIMEOUT' | 'HTTP_IDLE_TIMEOUT'): number | undefined {
  const value = profile.get(key);
  if (value === undefined) return undefined;
  try {
    const ms = parseDuration(value);
    if (ms > 0) return ms;
  } catch {
    // reported below
  }
  throw new ConfigError({
    file: profile.file,
    key: `${profile.name}.${key}`,
    message: `"${value}" is not a duration`,
    hint: 'write e.g. 30s, 2m or a number of seconds',
  });
}
