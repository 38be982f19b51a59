import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import type { PipelineSpec } from '../../src/project/model.ts';
import { runArgs } from '../../src/cloud/job-args.ts';
import { jobNameFor, runJobUrl, schedulerNameFor } from '../../src/cloud/naming.ts';
import { scheduledTriggers, schedulerRunBody } from '../../src/cloud/scheduler-jobs.ts';
import { childOptions } from './child-options.ts';
import { jobEnv, vpcAccess, workspaceMount, workspaceVolume, type RuntimeContractArgs } from './runtime-contract.ts';

export interface PipelineJobArgs {
  /** The pipeline as `loadProject` read it from pipeline.yaml. */
  pipeline: PipelineSpec;
  project: string;
  region: string;
  /** Where the Cloud Scheduler jobs live (Scheduler is not in every Cloud Run region). */
  schedulerRegion: string;
  /** Image by digest. */
  /** The runtime image, by digest. */
  image: pulumi.Input<string>;
  jobPrefix: string;
  serviceAccountEmail: pulumi.Input<string>;
  /** Scheduler's account: its OAuth token calls the Cloud Run Admin API. */
  schedulerServiceAccountEmail: pulumi.Input<string>;
  /** Full name (`projects/P/roles/R`) of the job-runner custom role. */
  jobRunnerRole: pulumi.Input<string>;
  /** Other IAM members bound on this job, each with its role (the console: start, follow and cancel executions). */
  extraRunners: { member: pulumi.Input<string>; role: pulumi.Input<string> }[];
  deletionProtection: boolean;
  runtime: RuntimeContractArgs;
}

/**
 * One pipeline in the cloud: a Cloud Run v2 job running `pipekit run
 * <pipeline>`, and one Cloud Scheduler job per schedule trigger.
 *
 * Scheduler POSTs to the Admin API's `jobs/J:run` with an OAuth token (OIDC
 * is for Cloud Run *services*; a `*.googleapis.com` API wants OAuth) and a
 * body overriding the args to `run <pipeline> --trigger <name>`, so the job
 * derives its own execution_date from the trigger's latest tick. Overrides
 * need `run.jobs.runWithOverrides`, hence the custom role, bound on this job
 * only. Disabled triggers are deployed paused rather than left out: they stay
 * visible in Cloud Scheduler and resume when enabled in pipeline.yaml.
 */
export class PipelineJob extends pulumi.ComponentResource {
  readonly job: gcp.cloudrunv2.Job;
  readonly jobName: string;
  readonly schedulers: gcp.cloudscheduler.Job[] = [];

  constructor(name: string, args: PipelineJobArgs, opts?: pulumi.ComponentResourceOptions) {
    super('pipekit:gcp:PipelineJob', name, {}, opts);
    const child = childOptions(this, opts);
    const { pipeline } = args;
    const resources = pipeline.resources;
    this.jobName = jobNameFor(args.jobPrefix, pipeline.name);

    this.job = new gcp.cloudrunv2.Job(
      `${name}-job`,
      {
        project: args.project,
        location: args.region,
        name: this.jobName,
        deletionProtection: args.deletionProtection,
        labels: { 'managed-by': 'pipekit', 'pipekit-pipeline': label(pipeline.name) },
        template: {
          // One task by default; a backfill asks for more with `--tasks=N` and each task takes its share.
          taskCount: 1,
          parallelism: resources.parallelism,
          template: {
            serviceAccount: args.serviceAccountEmail,
            timeout: `${Math.ceil(resources.taskTimeoutMs / 1000)}s`,
            maxRetries: resources.maxRetries,
            executionEnvironment: 'EXECUTION_ENVIRONMENT_GEN2',
            containers: [
              {
                image: args.image,
                // The image's entrypoint is `node bin/pipekit.js`; these are its arguments.
                args: runArgs({ pipeline: pipeline.name }),
                envs: jobEnv(args.runtime),
                resources: { limits: { cpu: resources.cpu, memory: resources.memory } },
                volumeMounts: [workspaceMount],
              },
            ],
            volumes: [workspaceVolume(args.runtime)],
            vpcAccess: vpcAccess(args.runtime),
          },
        },
      },
      child,
    );

    const runners: [string, pulumi.Input<string>, pulumi.Input<string>][] = [
      ['scheduler', pulumi.interpolate`serviceAccount:${args.schedulerServiceAccountEmail}`, args.jobRunnerRole],
      ...args.extraRunners.map(({ member, role }, i): [string, pulumi.Input<string>, pulumi.Input<string>] => [
        `runner-${i}`,
        member,
        role,
      ]),
    ];
    const grants = runners.map(
      ([id, member, role]) =>
        new gcp.cloudrunv2.JobIamMember(
          `${name}-${id}`,
          { project: args.project, location: args.region, name: this.job.name, role, member },
          child,
        ),
    );

    for (const { trigger, cron, paused } of scheduledTriggers(pipeline)) {
      this.schedulers.push(
        new gcp.cloudscheduler.Job(
          `${name}-${trigger.name}`,
          {
            project: args.project,
            region: args.schedulerRegion,
            name: schedulerNameFor(this.jobName, trigger.name),
            description: trigger.description ?? `pipekit: run ${pipeline.name} on trigger ${trigger.name} (${trigger.schedule})`,
            schedule: cron,
            timeZone: trigger.timezone,
            paused,
            // The :run call only starts an execution (a long-running operation); it returns in seconds.
            attemptDeadline: '320s',
            retryConfig: { retryCount: 3, minBackoffDuration: '30s', maxBackoffDuration: '300s', maxDoublings: 3 },
            httpTarget: {
              httpMethod: 'POST',
              uri: this.job.name.apply((job) => runJobUrl(args.project, args.region, job)),
              headers: { 'Content-Type': 'application/json' },
              body: schedulerRunBody(pipeline.name, trigger.name),
              oauthToken: {
                serviceAccountEmail: args.schedulerServiceAccountEmail,
                scope: 'https://www.googleapis.com/auth/cloud-platform',
              },
            },
          },
          // A tick before the grant exists would fail with 403: create the scheduler after it.
          childOptions(this, opts, { dependsOn: grants }),
        ),
      );
    }

    this.registerOutputs({ jobName: this.job.name, schedulers: this.schedulers.map((s) => s.name) });
  }
}

/** Label values: lower-case letters, digits, `_` and `-`, at most 63 characters. */
function label(value: string): string {
  return value
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '-')
    .slice(0, 63);
}
