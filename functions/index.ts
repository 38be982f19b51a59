/**
 * Cloud Run functions (gen2) entry point: the Functions Framework loads this
 * file and serves the function named by `--target` / FUNCTION_TARGET.
 *
 * - `apiTrigger` (HTTP): run a pipeline's job with variables.
 * - `backfill` (HTTP): one job execution fanned out over a date range.
 * - `gcsTrigger` (CloudEvent, storage.object.v1.finalized): run pipelines whose `gcs` trigger matches.
 *
 * They start Cloud Run jobs and return: the runs themselves are recorded by
 * the jobs in the run store, where the console shows them.
 */
import { cloudEvent, http } from '@google-cloud/functions-framework';
import { apiTrigger } from './api-trigger.ts';
import { backfill } from './backfill.ts';
import { gcsTrigger, type StorageObjectData } from './gcs-trigger.ts';

http('apiTrigger', apiTrigger);
http('backfill', backfill);
cloudEvent<StorageObjectData>('gcsTrigger', gcsTrigger);
