import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { runJobUrl } from '../../src/cloud/naming.ts';
import { childOptions } from './child-options.ts';

export interface ReconcileScheduleArgs {
  project: string;
  region: string;
  schedulerRegion: string;
  prefix: string;
  /** The pipeline jobs; the first runs `pipekit reconcile` (every job has the image, the run store's env and the VPC path). */
  jobNames: pulumi.Input<string>[];
  schedulerServiceAccountEmail: pulumi.Input<string>;
  /** Who reads executions and tasks: the jobs (they reconcile too, before each run) and the console (its reads and Cancel). */
  readers: pulumi.Input<string>[];
  /** Cron, in UTC (default every 10 minutes). */
  schedule?: string;
}

/**
 * The cloud reconciler: a Cloud Scheduler job that runs `pipekit reconcile`
 * in a pipeline job's container every few minutes, so a run whose task died
 * (out of memory, task timeout, a cancelled execution) is failed with the
 * reason and alerted even when nobody opens the console or starts a run.
 * It reuses a pipeline job rather than deploying one more: the scheduler's
 * account may already run it with overrides (PipelineJob's grant), and a
 * reconcile pass is a few queries and Run API reads.
 */
export class ReconcileSchedule extends pulumi.ComponentResource {
  readonly scheduler: gcp.cloudscheduler.Job;

  constructor(name: string, args: ReconcileScheduleArgs, opts?: pulumi.ComponentResourceOptions) {
    super('pipekit:gcp:ReconcileSchedule', name, {}, opts);
    const child = childOptions(this, opts);
    // roles/run.viewer on each job (its executions and tasks), nothing that starts or changes anything.
    const readers = args.jobNames.flatMap((job, j) =>
      args.readers.map(
        (member, i) =>
          new gcp.cloudrunv2.JobIamMember(
            `${name}-viewer-${j}-${i}`,
            { project: args.project, location: args.region, name: job, role: 'roles/run.viewer', member },
            child,
          ),
      ),
    );
    const body = { overrides: { containerOverrides: [{ args: ['reconcile'] }] } };
    this.scheduler = new gcp.cloudscheduler.Job(
      `${name}-scheduler`,
      {
        project: args.project,
        region: args.schedulerRegion,
        name: `${args.prefix}-reconcile`,
        description: 'pipekit: end runs whose Cloud Run task died (out of memory, timeout, cancelled) and alert once',
        schedule: args.schedule ?? '*/10 * * * *',
        timeZone: 'UTC',
        attemptDeadline: '320s',
        // The next pass is minutes away: one retry covers a blip.
        retryConfig: { retryCount: 1, minBackoffDuration: '30s', maxBackoffDuration: '60s' },
        httpTarget: {
          httpMethod: 'POST',
          uri: pulumi.output(args.jobNames[0]!).apply((job) => runJobUrl(args.project, args.region, job)),
          headers: { 'Content-Type': 'application/json' },
          body: Buffer.from(JSON.stringify(body), 'utf8').toString('base64'),
          oauthToken: { serviceAccountEmail: args.schedulerServiceAccountEmail, scope: 'https://www.googleapis.com/auth/cloud-platform' },
        },
      },
      childOptions(this, opts, { dependsOn: readers }),
    );
    this.registerOutputs({ scheduler: this.scheduler.name });
  }
}
