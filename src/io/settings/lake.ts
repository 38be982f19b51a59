import { isAbsolute, resolve } from 'node:path';
import type { IoProfile } from '../../config/io-profile.ts';
import { ConfigError } from '../../errors.ts';

/** LAKE_URI, parsed: a folder on this machine or a GCS prefix. */
export type LakeSettings =
  | { readonly kind: 'local' /** Absolute folder. */; readonly path: string }
  | { readonly kind: 'gcs' /** `gs://bucket/prefix` as written. */; readonly uri: string };

export const LAKE_DEFAULTS = { uri: '.pipekit/lake' } as const;

export function lakeSettings(profile: IoProfile): LakeSettings {
  const uri = profile.get('LAKE_URI') ?? LAKE_DEFAULTS.uri;
  if (uri.startsWith('gs://')) return Object.freeze({ kind: 'gcs', uri });
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri) && !uri.startsWith('file://')) {
    throw new ConfigError({
      file: profile.file,
      key: `${profile.name}.LAKE_URI`,
      message: `${uri} is not a lake pipekit can use`,
      hint: 'use a local folder (relative to the project) or gs://bucket/prefix',
    });
  }
  const folder = uri.replace(/^file:\/\//, '');
  return Object.freeze({ kind: 'local', path: isAbsolute(folder) ? folder : resolve(profile.root, folder) });
}
