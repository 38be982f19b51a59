import { hostname } from 'node:os';
import type { RunOwner } from './model.ts';
import { processStartToken } from './process-identity.ts';

/**
 * Who this process is, for the runs it starts: host, pid and start token
 * always; on Cloud Run also the execution (as a resource name the Run API
 * takes, from CLOUD_RUN_JOB/CLOUD_RUN_EXECUTION and the GOOGLE_CLOUD_PROJECT /
 * PIPEKIT_REGION infra/ sets), the task index and the task attempt.
 */
export function currentOwner(env: NodeJS.ProcessEnv = process.env): RunOwner {
  const execution = env.CLOUD_RUN_EXECUTION;
  return {
    host: hostname(),
    pid: process.pid,
    processStart: processStartToken(process.pid),
    cloudExecution: execution ? executionResourceName(execution, env) : null,
    cloudTaskIndex: execution ? Number(env.CLOUD_RUN_TASK_INDEX ?? 0) : null,
    cloudTaskAttempt: execution ? Number(env.CLOUD_RUN_TASK_ATTEMPT ?? 0) : null,
  };
}

function executionResourceName(execution: string, env: NodeJS.ProcessEnv): string {
  if (execution.startsWith('projects/')) return execution;
  const project = env.GOOGLE_CLOUD_PROJECT ?? env.GCLOUD_PROJECT;
  const region = env.PIPEKIT_REGION ?? env.CLOUD_RUN_REGION;
  const job = env.CLOUD_RUN_JOB;
  // Without them the bare id is kept: the reconciler reports it cannot look the execution up.
  return project && region && job ? `projects/${project}/locations/${region}/jobs/${job}/executions/${execution}` : execution;
}
