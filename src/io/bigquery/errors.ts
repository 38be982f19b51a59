/**
 * BigQuery failures as pipekit errors: the table, dataset or job they concern,
 * and what to do. API errors (HTTP) and job errors (`status.errorResult`)
 * both end up here.
 */
import { ConnectionError, DataError, isPipekitError } from '../../errors.ts';

/** What a job or API error reports, in the REST API's shape. */
export interface BigQueryErrorProto {
  readonly reason?: string;
  readonly location?: string;
  readonly message?: string;
}

/** Least-privilege roles for the permissions pipekit needs. */
const ROLE_OF: Record<string, string> = {
  'bigquery.jobs.create': 'roles/bigquery.jobUser on the project',
  'bigquery.datasets.create': 'roles/bigquery.dataEditor on the project (or create the dataset beforehand)',
};

/** Translates an API error; PipekitErrors pass through. `target` names what was addressed. */
export function bigQueryError(error: unknown, target: string, action: string): Error {
  if (isPipekitError(error)) return error;
  const e = error as { code?: number; message?: string; errors?: BigQueryErrorProto[]; response?: { statusCode?: number } };
  const message = e.message ?? String(error);
  const status = Number(e.code ?? e.response?.statusCode);
  if (status === 401 || /default credentials|Could not refresh access token|invalid_grant|Anonymous caller/i.test(message)) {
    return new ConnectionError({
      target,
      cause: error,
      retriable: false,
      message: `no usable Google credentials to ${action}`,
      hint: "on a laptop run `gcloud auth application-default login` (or set GOOGLE_SERVICE_ACC_KEY_FILEPATH); on Cloud Run the job's service account is used",
    });
  }
  if (status === 403 || e.errors?.some((x) => x.reason === 'accessDenied')) return permissionError(message, target, action, error);
  return new ConnectionError({ target, cause: error, message: `could not ${action}: ${message}` });
}

function permissionError(message: string, target: string, action: string, cause: unknown): ConnectionError {
  const permission = /bigquery\.[a-zA-Z]+\.[a-zA-Z]+/.exec(message)?.[0];
  const role = (permission && ROLE_OF[permission]) ?? 'roles/bigquery.dataEditor on the dataset';
  return new ConnectionError({
    target,
    cause,
    retriable: false,
    message: `permission denied to ${action}${permission ? ` (${permission} is missing)` : ''}: ${message}`,
    hint: `grant the service account ${role}; loads and queries also need roles/bigquery.jobUser on the project`,
  });
}

/**
 * The error of a finished job: its `errorResult` plus the first detailed
 * `errors` (they name the offending column or file). Schema problems are
 * DataErrors; the rest ConnectionErrors.
 */
export function jobFailed(
  jobId: string,
  target: string,
  errorResult: BigQueryErrorProto,
  errors: readonly BigQueryErrorProto[] = [],
): Error {
  const details = errors
    .filter((x) => x.message && x.message !== errorResult.message)
    .slice(0, 5)
    .map((x) => x.message + (x.location ? ` (${x.location})` : ''));
  const text = [errorResult.message ?? errorResult.reason ?? 'failed', ...details].join('; ');
  const message = `job ${jobId} failed: ${text}`;
  if (errorResult.reason === 'accessDenied') return permissionError(message, target, `run job ${jobId}`, undefined);
  if (/schema|field .* (has changed|type)|Provided Schema does not match/i.test(text)) {
    return new DataError({
      source: target,
      message,
      hint: "the data does not fit the table: write with ifExists: replace, or cast the columns to the table's types",
    });
  }
  if (errorResult.reason === 'duplicate' || /Already Exists/i.test(text)) {
    return new DataError({ source: target, message, hint: 'the table is not empty and ifExists is fail: use replace or append' });
  }
  return new ConnectionError({ target, message, hint: `bq show -j ${jobId} shows the job's details` });
}
