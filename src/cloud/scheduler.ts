import { CloudSchedulerClient } from '@google-cloud/scheduler';
import { ConnectionError } from '../errors.ts';
import { gaxClientOptions } from './job-launcher.ts';
import { schedulerResourceName, type CloudTarget } from './naming.ts';

/**
 * Pauses or resumes the Cloud Scheduler job infra/ made for a schedule
 * trigger (`<job>-<trigger>`), so disabling a trigger in the console stops
 * the ticks instead of only skipping their runs. Needs
 * `cloudscheduler.jobs.pause`/`resume` (roles/cloudscheduler.admin on the console's account).
 */
export async function setSchedulerPaused(
  target: CloudTarget,
  pipeline: string,
  trigger: string,
  paused: boolean,
  options: { client?: CloudSchedulerClient; env?: NodeJS.ProcessEnv } = {},
): Promise<void> {
  const client = options.client ?? new CloudSchedulerClient(gaxClientOptions((options.env ?? process.env).PIPEKIT_SCHEDULER_API_ENDPOINT));
  const name = schedulerResourceName(target, pipeline, trigger);
  try {
    if (paused) await client.pauseJob({ name });
    else await client.resumeJob({ name });
  } catch (error) {
    throw new ConnectionError({
      target: name,
      message: `could not ${paused ? 'pause' : 'resume'} the Cloud Scheduler job: ${(error as Error).message}`,
      hint: 'the trigger override is saved in the run store; check that the scheduler job exists (pulumi up) and that the console may pause/resume it',
      cause: error,
    });
  } finally {
    if (!options.client) await client.close();
  }
}
