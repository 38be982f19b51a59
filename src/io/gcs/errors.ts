/**
 * GCS failures as pipekit errors: one message naming the bucket or object,
 * and what to do. A missing object is the lake's NotFoundError (never an
 * empty table, unlike Mage's loader).
 */
import { ConnectionError, isPipekitError } from '../../errors.ts';
import { objectNotFound } from '../lake/object-keys.ts';

/** Least-privilege role that grants a permission on a bucket. */
const ROLE_OF: Record<string, string> = {
  'storage.objects.get': 'roles/storage.objectViewer',
  'storage.objects.list': 'roles/storage.objectViewer',
  'storage.buckets.get': 'roles/storage.legacyBucketReader',
};

export interface GcsErrorContext {
  readonly bucket: string;
  /** `gs://bucket/key` of the object, or the bucket URI for listings. */
  readonly url: string;
  /** What we were doing: "read", "write", "list", "delete", "check". */
  readonly action: string;
  /** True when the call addressed one object (so a 404 may mean the object, not the bucket). */
  readonly object?: boolean;
}

/** Translates an error from the Storage client; PipekitErrors pass through. */
export function gcsError(error: unknown, ctx: GcsErrorContext): Error {
  if (isPipekitError(error)) return error;
  const e = error as {
    code?: number | string;
    status?: number;
    message?: string;
    errors?: { message?: string; error?: { message?: string } }[];
    response?: { status?: number; data?: { error?: { message?: string } } };
  };
  // Resumable uploads fail with "Upload failed" (or a bare Gaxios error) and
  // the server's answer in `errors` or `response.data`.
  const detail = [...(e.errors ?? []).map((x) => x?.error?.message ?? x?.message), e.response?.data?.error?.message]
    .filter((m): m is string => typeof m === 'string' && m !== e.message)
    .join('; ');
  const message = [e.message ?? String(error), detail].filter(Boolean).join(': ');
  const status = [e.code, e.status, e.response?.status].map(Number).find((n) => n >= 400) ?? NaN;
  const base = { target: ctx.url, cause: error };

  // Without credentials the library goes on anonymously (public buckets need
  // none), so the usual symptom is GCS's 401 "Anonymous caller".
  if (status === 401 || /Anonymous caller|default credentials|Could not refresh access token|invalid_grant/i.test(message)) {
    return new ConnectionError({
      ...base,
      retriable: false,
      message: `no usable Google credentials to ${ctx.action} gs://${ctx.bucket}`,
      hint: "on a laptop run `gcloud auth application-default login` (or set GOOGLE_APPLICATION_CREDENTIALS / GOOGLE_SERVICE_ACC_KEY_FILEPATH to a key file); on Cloud Run the job's service account is used",
    });
  }
  if (status === 404) {
    if (/bucket does not exist|bucket.*not found/i.test(message) || !ctx.object) {
      return new ConnectionError({
        ...base,
        retriable: false,
        message: `bucket gs://${ctx.bucket} does not exist`,
        hint: `check LAKE_URI in io_config.yaml, or create it: gcloud storage buckets create gs://${ctx.bucket} --location=<region>`,
      });
    }
    return objectNotFound(ctx.url);
  }
  if (status === 403) {
    const permission = /storage\.[a-zA-Z]+\.[a-zA-Z]+/.exec(message)?.[0];
    const principal = /^([^\s]+@[^\s]+) does not have/.exec(message)?.[1];
    const role = (permission && ROLE_OF[permission]) ?? 'roles/storage.objectAdmin';
    const member = principal ? `serviceAccount:${principal}` : '<the service account>';
    return new ConnectionError({
      ...base,
      retriable: false,
      message: `permission denied to ${ctx.action} (${permission ?? 'a storage permission'} is missing${principal ? ` for ${principal}` : ''})`,
      hint:
        `grant ${role} on the bucket: gcloud storage buckets add-iam-policy-binding gs://${ctx.bucket} --member=${member} --role=${role}` +
        (role === 'roles/storage.objectAdmin' ? ' (objectCreator is not enough: the lake overwrites and deletes objects)' : ''),
    });
  }
  return new ConnectionError({ ...base, message: `could not ${ctx.action}: ${message}` });
}
