/**
 * Object keys: `/`-separated, relative, no `.`/`..` segments. Shared by every
 * ObjectStore so a key that works on a laptop also works on GCS.
 */
import { ConfigError, NotFoundError } from '../../errors.ts';

/**
 * Throws unless `key` is a usable object key; returns it unchanged.
 * `allowEmpty` is for list prefixes, where `''` means "everything".
 */
export function checkKey(key: string, storeUri: string, options: { allowEmpty?: boolean; prefix?: boolean } = {}): string {
  const problem = keyProblem(key, options);
  if (problem) {
    throw new ConfigError({
      file: storeUri,
      key: JSON.stringify(key),
      message: `is not a valid object key: ${problem}`,
      hint: 'use a relative path with "/" between folders, e.g. "nyc_taxi_data/2021-01.parquet"',
    });
  }
  return key;
}

function keyProblem(key: string, options: { allowEmpty?: boolean; prefix?: boolean }): string | undefined {
  if (key === '') return options.allowEmpty ? undefined : 'it is empty';
  if (key.startsWith('/')) return 'it starts with "/"';
  if (key.includes('\\')) return 'it contains "\\"';
  if (key.includes('\0')) return 'it contains a NUL character';
  const segments = key.split('/');
  // A list prefix may end with "/" (a folder); an object key may not.
  const last = segments.length - 1;
  for (const [i, segment] of segments.entries()) {
    if (segment === '' && !(options.prefix && i === last)) return 'it has an empty path segment ("//" or a trailing "/")';
    if (segment === '.' || segment === '..') return `it has a "${segment}" segment`;
  }
  return undefined;
}

/** Joins key parts with `/`, ignoring empty parts and trimming stray slashes. */
export function joinKey(...parts: string[]): string {
  return parts
    .map((p) => p.replace(/^\/+|\/+$/g, ''))
    .filter((p) => p !== '')
    .join('/');
}

/** The error every store raises for a missing object: never an empty result. */
export function objectNotFound(url: string): NotFoundError {
  return new NotFoundError(`${url}: no such object`, {
    hint: 'check the key and that the upstream block or pipeline that writes it has run',
  });
}
