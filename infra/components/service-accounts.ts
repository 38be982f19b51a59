import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { childOptions } from './child-options.ts';

/**
 * Permissions of the custom "run this job" role: what Cloud Scheduler and the
 * console need to start a job with overrides (`roles/run.invoker` lacks
 * `runWithOverrides`; `roles/run.developer` could also edit or delete jobs),
 * plus reading executions so the console can follow the runs it starts.
 */
export const JOB_RUNNER_PERMISSIONS = [
  'run.jobs.run',
  'run.jobs.runWithOverrides',
  'run.jobs.get',
  'run.executions.get',
  'run.executions.list',
] as const;

/**
 * The console's role on each job: the runner's permissions plus cancelling an
 * execution and reading its tasks (reconciliation). Cloud Scheduler keeps the
 * narrower JOB_RUNNER_PERMISSIONS.
 */
export const CONSOLE_RUNNER_PERMISSIONS = [...JOB_RUNNER_PERMISSIONS, 'run.executions.cancel', 'run.tasks.list'] as const;

/**
 * Pausing and resuming the pipelines' Cloud Scheduler jobs from the console.
 * Scheduler has no per-job IAM, so this is granted on the project (instead
 * of roles/cloudscheduler.admin, which could also create, edit and delete jobs).
 */
export const SCHEDULER_TOGGLE_PERMISSIONS = ['cloudscheduler.jobs.get', 'cloudscheduler.jobs.pause', 'cloudscheduler.jobs.resume'] as const;

export interface ServiceAccountsArgs {
  project: pulumi.Input<string>;
  /** Account ids start with it: `<prefix>-jobs`, `<prefix>-console`, `<prefix>-scheduler`. */
  prefix: string;
  /** The console is deployed: create its job role and grant it the scheduler pause/resume role. Default false. */
  console?: boolean;
}

/**
 * One service account per workload, no keys (Cloud Run and Cloud Scheduler
 * get tokens from the metadata server), and only the project-wide roles that
 * cannot be scoped to a resource. Everything else is granted on the resource
 * by the component that owns it: secrets per secret, the bucket and dataset
 * on themselves, the job-runner role on each job.
 */
export class ServiceAccounts extends pulumi.ComponentResource {
  /** Runs the pipeline jobs. */
  readonly jobs: gcp.serviceaccount.Account;
  /** Runs the console service. */
  readonly console: gcp.serviceaccount.Account;
  /** Cloud Scheduler calls the Cloud Run Admin API as this account. */
  readonly scheduler: gcp.serviceaccount.Account;
  /** Custom role with JOB_RUNNER_PERMISSIONS, bound per job. */
  readonly jobRunnerRole: gcp.projects.IAMCustomRole;
  /** Custom role with CONSOLE_RUNNER_PERMISSIONS, bound per job to the console (only with `console`). */
  readonly consoleRunnerRole?: gcp.projects.IAMCustomRole;
  /** Custom role with SCHEDULER_TOGGLE_PERMISSIONS, granted to the console on the project (only with `console`). */
  readonly schedulerToggleRole?: gcp.projects.IAMCustomRole;
  readonly jobsMember: pulumi.Output<string>;
  readonly consoleMember: pulumi.Output<string>;
  readonly schedulerMember: pulumi.Output<string>;

  constructor(name: string, args: ServiceAccountsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('pipekit:gcp:ServiceAccounts', name, {}, opts);
    const child = childOptions(this, opts);
    const account = (id: string, displayName: string) =>
      new gcp.serviceaccount.Account(`${name}-${id}`, { project: args.project, accountId: `${args.prefix}-${id}`, displayName }, child);

    this.jobs = account('jobs', 'pipekit pipeline jobs');
    this.console = account('console', 'pipekit console');
    this.scheduler = account('scheduler', 'pipekit Cloud Scheduler caller');
    this.jobsMember = pulumi.interpolate`serviceAccount:${this.jobs.email}`;
    this.consoleMember = pulumi.interpolate`serviceAccount:${this.console.email}`;
    this.schedulerMember = pulumi.interpolate`serviceAccount:${this.scheduler.email}`;

    // Project-wide only where Google offers no narrower scope. No roles/cloudsql.client: the
    // workloads reach Cloud SQL on its private IP with a password, never through the Cloud SQL connector.
    const projectRoles: [string, pulumi.Output<string>, string][] = [
      // Running a query or load job is a project permission; table access comes from the dataset grant.
      ['jobs-bq-jobs', this.jobsMember, 'roles/bigquery.jobUser'],
    ];
    for (const [id, member, role] of projectRoles) {
      new gcp.projects.IAMMember(`${name}-${id}`, { project: args.project, member, role }, child);
    }

    // Custom roles carry exactly the permissions a caller needs; `id` names both the resource and the role.
    const customRole = (id: string, title: string, description: string, permissions: readonly string[]) =>
      new gcp.projects.IAMCustomRole(
        `${name}-${id}`,
        { project: args.project, roleId: `${args.prefix}-${id}`.replace(/-/g, '_'), title, description, permissions: [...permissions] },
        child,
      );

    this.jobRunnerRole = customRole(
      'job-runner',
      'pipekit job runner',
      'Start a pipekit Cloud Run job with overrides and read its executions',
      JOB_RUNNER_PERMISSIONS,
    );

    if (args.console) {
      this.consoleRunnerRole = customRole(
        'console-runner',
        'pipekit console job runner',
        'Start a pipekit Cloud Run job with overrides, read and cancel its executions',
        CONSOLE_RUNNER_PERMISSIONS,
      );
      this.schedulerToggleRole = customRole(
        'scheduler-toggle',
        'pipekit scheduler pause/resume',
        'Pause and resume Cloud Scheduler jobs (the console toggles pipekit triggers)',
        SCHEDULER_TOGGLE_PERMISSIONS,
      );
      new gcp.projects.IAMMember(
        `${name}-console-scheduler`,
        { project: args.project, member: this.consoleMember, role: this.schedulerToggleRole.name },
        child,
      );
    }

    this.registerOutputs({
      jobsEmail: this.jobs.email,
      consoleEmail: this.console.email,
      schedulerEmail: this.scheduler.email,
      jobRunnerRole: this.jobRunnerRole.name,
    });
  }
}
