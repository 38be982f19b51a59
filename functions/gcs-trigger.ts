import type { CloudEvent } from '@google-cloud/functions-framework';
import { runArgs } from '../src/cloud/job-args.ts';
import { describeError, isPipekitError } from '../src/errors.ts';
import type { GcsEventTrigger, PipelineSpec, Project } from '../src/project/model.ts';
import { functionContext } from './context.ts';
import { logLine } from './log.ts';

/** The part of a `google.cloud.storage.object.v1.finalized` event's data pipekit uses. */
export interface StorageObjectData {
  readonly bucket: string;
  readonly name: string;
  readonly size?: string | number;
  readonly contentType?: string;
  readonly generation?: string | number;
  readonly timeCreated?: string;
  readonly updated?: string;
  readonly md5Hash?: string;
}

export const FINALIZED = 'google.cloud.storage.object.v1.finalized';

/** Every enabled `gcs` trigger whose bucket is the object's and whose prefix starts its name. */
export function matchingTriggers(
  project: Project,
  object: { bucket: string; name: string },
): { pipeline: PipelineSpec; trigger: GcsEventTrigger }[] {
  const matches: { pipeline: PipelineSpec; trigger: GcsEventTrigger }[] = [];
  for (const pipeline of project.pipelines.values()) {
    for (const trigger of pipeline.triggers) {
      if (trigger.type !== 'gcs' || !trigger.enabled) continue;
      if (trigger.bucket === object.bucket && object.name.startsWith(trigger.prefix)) matches.push({ pipeline, trigger });
    }
  }
  return matches;
}

/**
 * A file landed in a bucket: run every pipeline with a matching `gcs`
 * trigger, the object's description in the run variable `event` (JSON).
 * Nothing matching is logged and nothing starts. A job that fails to start
 * is logged and makes the function fail, so Eventarc's retry (on: infra/)
 * delivers the event again; every start carries the event id (`--event-id`),
 * so the jobs start one run per pipeline and event however often it arrives.
 */
export async function gcsTrigger(event: CloudEvent<StorageObjectData>): Promise<void> {
  const data = event.data;
  if (event.type !== FINALIZED || !data?.bucket || !data.name) {
    logLine('WARNING', `gcsTrigger ignores event ${event.id} of type ${event.type}: expected ${FINALIZED} with bucket and name`, {
      function: 'gcsTrigger',
    });
    return;
  }
  const { project, launcher } = functionContext();
  const matches = matchingTriggers(project, data);
  if (matches.length === 0) {
    logLine('INFO', `gs://${data.bucket}/${data.name}: no gcs trigger matches, nothing started`, {
      function: 'gcsTrigger',
      bucket: data.bucket,
      object: data.name,
    });
    return;
  }
  const payload = {
    bucket: data.bucket,
    name: data.name,
    uri: `gs://${data.bucket}/${data.name}`,
    size: data.size === undefined ? undefined : Number(data.size),
    contentType: data.contentType,
    generation: data.generation === undefined ? undefined : String(data.generation),
    timeCreated: data.timeCreated,
    eventId: event.id,
    eventTime: event.time,
  };
  const failures: string[] = [];
  for (const { pipeline, trigger } of matches) {
    try {
      const args = runArgs({ pipeline: pipeline.name, trigger: trigger.name, eventId: event.id, variables: { event: payload } });
      const launched = await launcher.launch({ pipeline: pipeline.name, args });
      logLine('INFO', `gs://${data.bucket}/${data.name} → ${pipeline.name} (${trigger.name}): ${launched.execution}`, {
        function: 'gcsTrigger',
        pipeline: pipeline.name,
        trigger: trigger.name,
        execution: launched.execution,
      });
    } catch (error) {
      // A missing job stays missing: failing would have Eventarc redeliver for a day to no end.
      const permanent = isPipekitError(error) && error.code === 'NOT_FOUND';
      if (!permanent) failures.push(`${pipeline.name}: ${describeError(error)}`);
      logLine(
        'ERROR',
        `could not start ${pipeline.name} for gs://${data.bucket}/${data.name}${permanent ? '' : ' (Eventarc will deliver the event again)'}: ${describeError(error)}`,
        {
          function: 'gcsTrigger',
          pipeline: pipeline.name,
        },
      );
    }
  }
  if (failures.length > 0)
    throw new Error(`gcsTrigger: ${failures.length} of ${matches.length} pipelines did not start: ${failures.join('; ')}`);
}
