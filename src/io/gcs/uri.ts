/**
 * `gs://bucket/prefix` parsing. The prefix is where the lake lives inside the
 * bucket; every key of the store is relative to it.
 */
import { ConfigError } from '../../errors.ts';

export interface GcsLocation {
  readonly bucket: string;
  /** `''` or a prefix ending with `/`, e.g. `lake/`. */
  readonly prefix: string;
  /** `gs://bucket/prefix` without a trailing slash. */
  readonly uri: string;
}

// GCS bucket names: 3–63 chars of lowercase letters, digits, `-`, `_`, `.`,
// starting and ending with a letter or digit (dotted names may be up to 222).
const BUCKET = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;

/**
 * Parses `gs://bucket[/prefix]`.
 *
 * @param source where the URI came from (io_config key), for the error message.
 * @throws ConfigError when it is not a usable gs:// URI.
 */
export function parseGsUri(uri: string, source = 'LAKE_URI'): GcsLocation {
  const m = /^gs:\/\/([^/]+)(?:\/(.*))?$/.exec(uri.trim());
  const bucket = m?.[1] ?? '';
  if (!m || !BUCKET.test(bucket) || bucket.includes('..')) {
    throw new ConfigError({
      file: source,
      key: JSON.stringify(uri),
      message: 'is not a gs://bucket/prefix URI with a valid bucket name',
      hint: 'bucket names are 3–63 lowercase letters, digits, "-", "_" or "."; e.g. gs://my-project-lake/nyc',
    });
  }
  const rest = (m[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (rest.split('/').some((s) => s === '.' || s === '..')) {
    throw new ConfigError({ file: source, key: JSON.stringify(uri), message: 'the prefix has a "." or ".." segment' });
  }
  const prefix = rest ? `${rest}/` : '';
  return { bucket, prefix, uri: `gs://${bucket}${rest ? `/${rest}` : ''}` };
}
