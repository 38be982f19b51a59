import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { jobNameFor } from '../../src/cloud/naming.ts';
import { childOptions } from './child-options.ts';

/** What `pipekit:gcp:Functions` needs. Wired by `deployPipekit` (infra/program.ts). */
export interface FunctionsArgs {
  project: string;
  region: string;
  /** PIPEKIT_JOB_PREFIX: the jobs are `jobNameFor(prefix, pipeline)`. */
  prefix: string;
  /** Pipelines whose Cloud Run jobs the functions may start (and nothing else). */
  pipelines: readonly string[];
  /** Buckets named by `gcs` triggers; one Eventarc-triggered function per bucket. Empty: no gcsTrigger. */
  gcsBuckets: readonly string[];
  /** The function source archive (repo zip with pipelines/ and functions/), uploaded by the caller. */
  sourceBucket: pulumi.Input<string>;
  sourceObject: pulumi.Input<string>;
  /** Secret Manager secret id holding PIPEKIT_API_TOKEN. */
  apiTokenSecret: pulumi.Input<string>;
  /**
   * `iam` (default): no public invoker; callers need roles/run.invoker and a Google identity token.
   * `token`: HTTP functions are public (allUsers invoker) and check the bearer token. Opt-in only.
   */
  auth?: 'token' | 'iam';
  /** Project folder inside the source archive (default `pipelines`). */
  projectDir?: string;
  /** `projects/P/serviceAccounts/EMAIL`: the builds run as this account, never Cloud Build's default one. */
  buildServiceAccount: pulumi.Input<string>;
  /** `projects/P/locations/R/repositories/REPO`: where the builds push, so the build account needs no other repository. */
  dockerRepository: pulumi.Input<string>;
}

const RUNNER_PERMISSIONS = ['run.jobs.run', 'run.jobs.runWithOverrides'];

/**
 * The three Cloud Run functions (gen2): `apiTrigger` and `backfill` over
 * HTTP, `gcsTrigger` on `storage.object.v1.finalized`, with their own service
 * account that may only run the pipeline jobs (a custom role with
 * `run.jobs.run` + `run.jobs.runWithOverrides`, granted per job, not on the
 * project) and read the API token secret.
 *
 * The functions run pipekit compiled: the source archive (see
 * function-source.ts) has a plain-JS `index.js` at its root, which the
 * buildpack syntax-checks and the Functions Framework loads, importing
 * `dist/functions/index.js`.
 */
export class Functions extends pulumi.ComponentResource {
  readonly serviceAccount: gcp.serviceaccount.Account;
  readonly apiTrigger: gcp.cloudfunctionsv2.Function;
  readonly backfill: gcp.cloudfunctionsv2.Function;
  readonly gcsTriggers: gcp.cloudfunctionsv2.Function[];
  readonly apiTriggerUrl: pulumi.Output<string>;
  readonly backfillUrl: pulumi.Output<string>;
  readonly serviceAccountEmail: pulumi.Output<string>;

  constructor(name: string, args: FunctionsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('pipekit:gcp:Functions', name, {}, opts);
    validate(args);
    const child = (extra: pulumi.CustomResourceOptions = {}) => childOptions(this, opts, extra);
    const auth = args.auth ?? 'iam';

    this.serviceAccount = new gcp.serviceaccount.Account(
      `${name}-sa`,
      { project: args.project, accountId: `${args.prefix}-functions`.slice(0, 30), displayName: 'pipekit functions: start pipeline jobs' },
      child(),
    );
    const member = pulumi.interpolate`serviceAccount:${this.serviceAccount.email}`;

    const role = new gcp.projects.IAMCustomRole(
      `${name}-runner-role`,
      {
        project: args.project,
        roleId: `${args.prefix.replace(/[^A-Za-z0-9_]/g, '_')}_pipeline_runner`,
        title: 'pipekit: run pipeline jobs with overrides',
        permissions: RUNNER_PERMISSIONS,
      },
      child(),
    );
    for (const pipeline of args.pipelines) {
      new gcp.cloudrunv2.JobIamMember(
        `${name}-run-${pipeline}`,
        { project: args.project, location: args.region, name: jobNameFor(args.prefix, pipeline), role: role.name, member },
        child(),
      );
    }
    // Cloud Run checks the revision's account can read a mounted secret when it deploys: grant first.
    const tokenAccess = new gcp.secretmanager.SecretIamMember(
      `${name}-token-access`,
      { project: args.project, secretId: args.apiTokenSecret, role: 'roles/secretmanager.secretAccessor', member },
      child(),
    );

    const env = {
      PIPEKIT_JOB_PREFIX: args.prefix,
      GOOGLE_CLOUD_PROJECT: args.project,
      PIPEKIT_REGION: args.region,
      PIPEKIT_PROJECT: args.projectDir ?? 'pipelines',
      PIPEKIT_FUNCTIONS_AUTH: auth,
    };
    const make = (
      id: string,
      entryPoint: string,
      eventTrigger?: gcp.types.input.cloudfunctionsv2.FunctionEventTrigger,
      after: pulumi.Resource[] = [],
    ) =>
      new gcp.cloudfunctionsv2.Function(
        `${name}-${id}`,
        {
          project: args.project,
          location: args.region,
          name: `${args.prefix}-${id}`
            .toLowerCase()
            .replace(/[^a-z0-9-]+/g, '-')
            .slice(0, 63),
          buildConfig: {
            runtime: 'nodejs20',
            entryPoint,
            source: { storageSource: { bucket: args.sourceBucket, object: args.sourceObject } },
            serviceAccount: args.buildServiceAccount,
            dockerRepository: args.dockerRepository,
          },
          serviceConfig: {
            serviceAccountEmail: this.serviceAccount.email,
            availableMemory: '512Mi',
            timeoutSeconds: 60,
            maxInstanceCount: 5,
            ingressSettings: 'ALLOW_ALL',
            environmentVariables: env,
            secretEnvironmentVariables: [
              { key: 'PIPEKIT_API_TOKEN', projectId: args.project, secret: args.apiTokenSecret, version: 'latest' },
            ],
          },
          eventTrigger,
          labels: { 'managed-by': 'pipekit' },
        },
        child({ dependsOn: [tokenAccess, ...after] }),
      );

    this.apiTrigger = make('api-trigger', 'apiTrigger');
    this.backfill = make('backfill', 'backfill');
    if (auth === 'token') {
      // The bearer token is the gate; IAM would refuse callers without a Google identity.
      for (const [id, fn] of [
        ['api-trigger', this.apiTrigger],
        ['backfill', this.backfill],
      ] as const) {
        new gcp.cloudrunv2.ServiceIamMember(
          `${name}-${id}-public`,
          {
            project: args.project,
            location: args.region,
            name: fn.serviceConfig.apply((s) => s?.service ?? ''),
            role: 'roles/run.invoker',
            member: 'allUsers',
          },
          child(),
        );
      }
    }

    this.gcsTriggers = [];
    if (args.gcsBuckets.length > 0) {
      // Cloud Storage publishes its events through Pub/Sub as its service agent.
      const gcsAgent = gcp.storage.getProjectServiceAccountOutput({ project: args.project }, { parent: this });
      const publisher = new gcp.projects.IAMMember(
        `${name}-gcs-publisher`,
        { project: args.project, role: 'roles/pubsub.publisher', member: pulumi.interpolate`serviceAccount:${gcsAgent.emailAddress}` },
        child(),
      );
      const receiver = new gcp.projects.IAMMember(
        `${name}-event-receiver`,
        { project: args.project, role: 'roles/eventarc.eventReceiver', member },
        child(),
      );
      args.gcsBuckets.forEach((bucket, i) => {
        const fn = make(
          `gcs-${i}`,
          'gcsTrigger',
          {
            triggerRegion: args.region,
            eventType: 'google.cloud.storage.object.v1.finalized',
            // A transient Run API error must not drop the event: Eventarc redelivers (with backoff, up to 24 h),
            // and the job dedupes on the CloudEvent id (`run --event-id`), so a redelivery starts no second run.
            retryPolicy: 'RETRY_POLICY_RETRY',
            serviceAccountEmail: this.serviceAccount.email,
            eventFilters: [{ attribute: 'bucket', value: bucket }],
          },
          [publisher, receiver],
        );
        // Eventarc delivers as the functions account: it must be allowed to invoke its own function.
        new gcp.cloudrunv2.ServiceIamMember(
          `${name}-gcs-${i}-invoker`,
          {
            project: args.project,
            location: args.region,
            name: fn.serviceConfig.apply((s) => s?.service ?? ''),
            role: 'roles/run.invoker',
            member,
          },
          child({ dependsOn: [publisher, receiver] }),
        );
        this.gcsTriggers.push(fn);
      });
    }

    this.apiTriggerUrl = this.apiTrigger.url;
    this.backfillUrl = this.backfill.url;
    this.serviceAccountEmail = this.serviceAccount.email;
    this.registerOutputs({ apiTriggerUrl: this.apiTriggerUrl, backfillUrl: this.backfillUrl, serviceAccount: this.serviceAccountEmail });
  }
}

function validate(args: FunctionsArgs): void {
  if (!/^[a-z][a-z0-9-]{0,20}$/.test(args.prefix)) {
    throw new Error(
      `Functions: prefix "${args.prefix}" must be lowercase letters, digits and -, starting with a letter, at most 21 characters`,
    );
  }
  if (args.pipelines.length === 0) throw new Error('Functions: no pipelines: the functions would have no job to start');
  const invalid = args.gcsBuckets.filter((b) => !/^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/.test(b));
  if (invalid.length) throw new Error(`Functions: gcsBuckets holds invalid bucket names: ${invalid.join(', ')}`);
}
