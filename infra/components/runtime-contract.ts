import type * as gcp from '@pulumi/gcp';
import type * as pulumi from '@pulumi/pulumi';
import type { SecretEnv } from './secrets.ts';

/**
 * The contract between infra/ and the pipekit image: the env the io_config
 * `cloud` profile reads, the workspace volume, and the network path. Jobs and
 * the console get the same, built here once.
 */

/** Where the Filestore workspace is mounted in every container. */
export const WORKSPACE_MOUNT = '/mnt/workspace';
export const WORKSPACE_VOLUME = 'workspace';

export interface RuntimeContractArgs {
  project: pulumi.Input<string>;
  region: pulumi.Input<string>;
  /** Where the Cloud Scheduler jobs live: the console pauses and resumes them there. */
  schedulerRegion: pulumi.Input<string>;
  dbHost: pulumi.Input<string>;
  /** The Cloud SQL server CA (PEM): the clients verify the server certificate against it. */
  dbServerCa: pulumi.Input<string>;
  dbUser: pulumi.Input<string>;
  /** Secret Manager secret id of the DB password. */
  dbPasswordSecret: pulumi.Input<string>;
  taxiDatabase: string;
  runsDatabase: string;
  lakeBucket: pulumi.Input<string>;
  bigqueryDataset: pulumi.Input<string>;
  bigqueryLocation: string;
  /** Prefix of job names; the console and functions pass it to `jobNameFor`. */
  jobPrefix: string;
  userSecrets: readonly SecretEnv[];
  nfsServer: pulumi.Input<string>;
  nfsPath: string;
  networkId: pulumi.Input<string>;
  subnetId: pulumi.Input<string>;
  /** The console's URL, for links in alerts (jobs only: the console's own URL depends on the console). */
  consoleUrl?: pulumi.Input<string>;
}

/**
 * The user secret that feeds failure alerts: `pipekit:userSecrets.ALERT_WEBHOOK_URL`
 * (docs/deploy.md) becomes the `PIPEKIT_ALERT_WEBHOOK` the cloud profile reads.
 */
export const ALERT_WEBHOOK_SECRET = 'ALERT_WEBHOOK_URL';

/** One env entry, the shape jobs and services share. */
export type RunEnv = gcp.types.input.cloudrunv2.JobTemplateTemplateContainerEnv;

/** Plain env vars: configuration, never credentials. */
export function plainEnv(args: RuntimeContractArgs): RunEnv[] {
  const values: Record<string, pulumi.Input<string>> = {
    PIPEKIT_PROFILE: 'cloud',
    GOOGLE_CLOUD_PROJECT: args.project,
    PIPEKIT_REGION: args.region,
    PIPEKIT_SCHEDULER_REGION: args.schedulerRegion,
    PIPEKIT_DB_HOST: args.dbHost,
    PIPEKIT_DB_USER: args.dbUser,
    // Cloud SQL is set to ENCRYPTED_ONLY: a client without TLS is refused. verify-ca also checks the
    // certificate chains to the instance's CA (its name is `project:instance`, not the private IP).
    PIPEKIT_DB_SSLMODE: 'verify-ca',
    PIPEKIT_DB_SERVER_CA: args.dbServerCa,
    PIPEKIT_DB_NAME: args.taxiDatabase,
    PIPEKIT_RUNS_DB_NAME: args.runsDatabase,
    PIPEKIT_LAKE_BUCKET: args.lakeBucket,
    PIPEKIT_BQ_DATASET: args.bigqueryDataset,
    PIPEKIT_BQ_LOCATION: args.bigqueryLocation,
    PIPEKIT_WORKSPACE: WORKSPACE_MOUNT,
    PIPEKIT_JOB_PREFIX: args.jobPrefix,
    ...(args.consoleUrl !== undefined ? { PIPEKIT_CONSOLE_URL: args.consoleUrl } : {}),
  };
  return Object.entries(values).map(([name, value]) => ({ name, value }));
}

/** A secret env var: Cloud Run resolves the secret at start, the value never sits in the job spec. */
export function secretEnv(name: string, secret: pulumi.Input<string>): RunEnv {
  return { name, valueSource: { secretKeyRef: { secret, version: 'latest' } } };
}

/** Env of a pipeline job: configuration, the DB password, the alert webhook and the user secrets by reference. */
export function jobEnv(args: RuntimeContractArgs): RunEnv[] {
  const webhook = args.userSecrets.find((s) => s.env === ALERT_WEBHOOK_SECRET);
  return [
    ...plainEnv(args),
    secretEnv('PIPEKIT_DB_PASSWORD', args.dbPasswordSecret),
    ...(webhook ? [secretEnv('PIPEKIT_ALERT_WEBHOOK', webhook.secret)] : []),
    ...args.userSecrets.map((s) => secretEnv(s.env, s.secret)),
  ];
}

/** The NFS workspace volume, for `template.volumes`. */
export function workspaceVolume(args: RuntimeContractArgs): {
  name: string;
  nfs: { server: pulumi.Input<string>; path: string; readOnly: boolean };
} {
  return { name: WORKSPACE_VOLUME, nfs: { server: args.nfsServer, path: args.nfsPath, readOnly: false } };
}

/** The workspace mount, for `containers[].volumeMounts`. */
export const workspaceMount = { name: WORKSPACE_VOLUME, mountPath: WORKSPACE_MOUNT };

/**
 * Direct VPC egress into the pipekit subnet. Only private ranges go through
 * the VPC (Cloud SQL, Filestore); Google APIs and the public internet (the
 * taxi data CDN) go out directly.
 */
export function vpcAccess(args: RuntimeContractArgs): gcp.types.input.cloudrunv2.JobTemplateTemplateVpcAccess {
  return { egress: 'PRIVATE_RANGES_ONLY', networkInterfaces: [{ network: args.networkId, subnetwork: args.subnetId }] };
}
