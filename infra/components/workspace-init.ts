import { createHash } from 'node:crypto';
import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { workspaceInitJobNameFor } from '../../src/cloud/naming.ts';
import { childOptions } from './child-options.ts';
import { vpcAccess, WORKSPACE_MOUNT, workspaceMount, workspaceVolume, type RuntimeContractArgs } from './runtime-contract.ts';

export interface WorkspaceInitArgs {
  project: string;
  region: string;
  prefix: string;
  /** The Dockerfile's `workspace-init` stage, by digest. */
  image: pulumi.Input<string>;
  /** The jobs' account: mounting NFS needs no IAM, so it needs nothing more. */
  serviceAccountEmail: pulumi.Input<string>;
  /** The Filestore instance id: a new share is initialised again. */
  filestoreId: pulumi.Input<string>;
  deletionProtection: boolean;
  runtime: RuntimeContractArgs;
}

/**
 * Makes the Filestore share writable by the image's non-root `node` user.
 * A new share is owned by root, and Cloud Run cannot run the runtime image
 * as another user, so `pulumi up` runs the Dockerfile's `workspace-init`
 * stage (root, `chown node:node`) once as a Cloud Run job with the share
 * mounted. `runExecutionToken` makes the provider start an execution when
 * the job is created (or the token changes: a new share or init image) and
 * wait for it to succeed, so the workloads that depend on this resource
 * start on a writable workspace.
 */
export class WorkspaceInit extends pulumi.ComponentResource {
  readonly job: gcp.cloudrunv2.Job;

  constructor(name: string, args: WorkspaceInitArgs, opts?: pulumi.ComponentResourceOptions) {
    super('pipekit:gcp:WorkspaceInit', name, {}, opts);
    const jobName = workspaceInitJobNameFor(args.prefix);
    this.job = new gcp.cloudrunv2.Job(
      `${name}-job`,
      {
        project: args.project,
        location: args.region,
        name: jobName,
        deletionProtection: args.deletionProtection,
        labels: { 'managed-by': 'pipekit' },
        // Execution names are `<job>-<token>`, at most 63 characters.
        runExecutionToken: pulumi
          .all([args.filestoreId, args.image])
          .apply(([share, image]) => `i${createHash('sha256').update(`${share}\0${image}`).digest('hex').slice(0, 8)}`),
        template: {
          taskCount: 1,
          template: {
            serviceAccount: args.serviceAccountEmail,
            timeout: '300s',
            maxRetries: 2,
            executionEnvironment: 'EXECUTION_ENVIRONMENT_GEN2',
            containers: [
              { image: args.image, envs: [{ name: 'PIPEKIT_WORKSPACE', value: WORKSPACE_MOUNT }], volumeMounts: [workspaceMount] },
            ],
            volumes: [workspaceVolume(args.runtime)],
            vpcAccess: vpcAccess(args.runtime),
          },
        },
      },
      childOptions(this, opts),
    );
    this.registerOutputs({ jobName: this.job.name });
  }
}
