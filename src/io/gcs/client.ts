/**
 * The `@google-cloud/storage` client for a profile. Credentials, in order:
 * a key file when GOOGLE_SERVICE_ACC_KEY_FILEPATH is set; otherwise
 * Application Default Credentials (the metadata server on Cloud Run,
 * GOOGLE_APPLICATION_CREDENTIALS or `gcloud auth application-default login`
 * on a laptop). STORAGE_EMULATOR_HOST is honoured by the library itself.
 */
import { existsSync } from 'node:fs';
import { Storage } from '@google-cloud/storage';
import { IoProfile } from '../../config/io-profile.ts';
import { ConfigError } from '../../errors.ts';
import { googleSettings, type GoogleSettings } from '../settings/google.ts';

/** Client options shared by the GCS and BigQuery connectors: project and key file. */
export function googleClientOptions(source: IoProfile | GoogleSettings | undefined): { projectId?: string; keyFilename?: string } {
  if (!source) return {};
  const { projectId, keyFilename, file, profile } = source instanceof IoProfile ? googleSettings(source) : source;
  if (keyFilename !== undefined && !existsSync(keyFilename)) {
    throw new ConfigError({
      file,
      key: `${profile}.GOOGLE_SERVICE_ACC_KEY_FILEPATH`,
      message: `the key file ${keyFilename} does not exist`,
      hint: 'fix the path, or remove the key to use Application Default Credentials (`gcloud auth application-default login`; the service account on Cloud Run)',
    });
  }
  return { ...(projectId ? { projectId } : {}), ...(keyFilename ? { keyFilename } : {}) };
}

/** A Storage client for the profile (see the module comment for where credentials come from). */
export function createStorageClient(profile?: IoProfile | GoogleSettings): Storage {
  // Retries with backoff on 429/5xx are the library's; uploads without a
  // generation precondition are retried only when the library deems them safe.
  return new Storage({ ...googleClientOptions(profile), retryOptions: { autoRetry: true, maxRetries: 3 } });
}
