/**
 * Every BigQuery job pipekit starts is awaited here, and its failure
 * surfaced. (Mage fires its DROP/CREATE queries without `.result()`, so
 * errors vanish and statements race.)
 */
import type { BigQuery, Job, JobMetadata } from '@google-cloud/bigquery';
import { bigQueryError, jobFailed, type BigQueryErrorProto } from './errors.ts';

export interface AwaitJobOptions {
  /** First poll delay; doubles up to 2 s. Default 250 ms. */
  readonly pollMs?: number;
  /** Give up after this long. Default 6 hours (BigQuery's own job limit). */
  readonly timeoutMs?: number;
}

/**
 * Polls `jobs.get` until the job is DONE; throws the job's `errorResult`
 * (with its detailed `errors`) when it failed. Returns the final metadata.
 */
export async function awaitJob(job: Job, target: string, options: AwaitJobOptions = {}): Promise<JobMetadata> {
  let delay = options.pollMs ?? 250;
  const deadline = Date.now() + (options.timeoutMs ?? 6 * 3600_000);
  let metadata = job.metadata as JobMetadata | undefined;
  for (;;) {
    if (metadata?.status?.state === 'DONE') break;
    if (Date.now() > deadline)
      throw jobFailed(job.id ?? '?', target, {
        reason: 'timeout',
        message: `still ${metadata?.status?.state ?? 'PENDING'} after ${options.timeoutMs} ms`,
      });
    if (metadata) await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 2000);
    try {
      [metadata] = await job.getMetadata();
    } catch (error) {
      throw bigQueryError(error, target, `poll job ${job.id}`);
    }
  }
  const status = metadata.status!;
  if (status.errorResult)
    throw jobFailed(job.id ?? '?', target, status.errorResult as BigQueryErrorProto, (status.errors ?? []) as BigQueryErrorProto[]);
  return metadata;
}

/** Inserts a job from a full `jobs.insert` body and awaits it. */
export async function runJob(
  bigquery: BigQuery,
  body: Record<string, unknown>,
  target: string,
  options: AwaitJobOptions = {},
): Promise<{ job: Job; metadata: JobMetadata }> {
  let job: Job;
  try {
    [job] = await bigquery.createJob(body as never);
  } catch (error) {
    throw bigQueryError(error, target, 'start a BigQuery job');
  }
  return { job, metadata: await awaitJob(job, target, options) };
}
