import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { childOptions } from './child-options.ts';
import { privateBucket } from './private-bucket.ts';

export interface BuildAccountArgs {
  project: string;
  region: string;
  /** Account id `<prefix>-build`. */
  prefix: string;
  /** The private bucket for the image's source archives, created here. */
  bucketName: string;
  /** The Artifact Registry repository the images (and the functions' images) are pushed to. */
  repository: gcp.artifactregistry.Repository;
  deletionProtection: boolean;
}

/**
 * Where the functions' Cloud Build keeps a copy of their source: a bucket
 * Cloud Run functions (gen2) create per project number and region, which a
 * stack cannot grant on before it exists. The grant is on the project,
 * narrowed by this condition to those buckets.
 */
export const FUNCTION_SOURCES_CONDITION = 'resource.name.startsWith("projects/_/buckets/gcf-v2-sources-")';

/**
 * The one account every build of this stack runs as (the image's Cloud
 * Build and the functions' builds), so a project whose default Cloud Build
 * account lacks rights (projects created since mid-2024, or inside an
 * organisation that disables default grants) still builds. Least privilege:
 * push to this stack's repository only, read this stack's source bucket and
 * the functions' source copies, and write build logs (a project permission).
 */
export class BuildAccount extends pulumi.ComponentResource {
  readonly account: gcp.serviceaccount.Account;
  readonly email: pulumi.Output<string>;
  /** `projects/P/serviceAccounts/EMAIL`, as Cloud Functions' `buildConfig.serviceAccount` wants it. */
  readonly resourceName: pulumi.Output<string>;
  readonly bucket: gcp.storage.Bucket;
  /** Every grant: a build must start after them, or it fails on its first read or push. */
  readonly grants: pulumi.Resource[];

  constructor(name: string, args: BuildAccountArgs, opts?: pulumi.ComponentResourceOptions) {
    super('pipekit:gcp:BuildAccount', name, {}, opts);
    const child = childOptions(this, opts);
    this.account = new gcp.serviceaccount.Account(
      `${name}-sa`,
      { project: args.project, accountId: `${args.prefix}-build`, displayName: 'pipekit builds: the image and the functions' },
      child,
    );
    this.email = this.account.email;
    this.resourceName = pulumi.interpolate`projects/${args.project}/serviceAccounts/${this.account.email}`;
    const member = pulumi.interpolate`serviceAccount:${this.account.email}`;

    this.bucket = privateBucket(
      `${name}-bucket`,
      {
        project: args.project,
        name: args.bucketName,
        location: args.region,
        deletionProtection: args.deletionProtection,
        // Archives are named by content hash; old ones are never read again once their build ran.
        lifecycleRules: [{ action: { type: 'Delete' }, condition: { age: 30, matchesPrefixes: ['image/'] } }],
      },
      child,
    );

    this.grants = [
      new gcp.artifactregistry.RepositoryIamMember(
        `${name}-push`,
        {
          project: args.project,
          location: args.repository.location,
          repository: args.repository.repositoryId,
          role: 'roles/artifactregistry.writer',
          member,
        },
        child,
      ),
      new gcp.storage.BucketIAMMember(
        `${name}-read-source`,
        { bucket: this.bucket.name, role: 'roles/storage.objectViewer', member },
        child,
      ),
      new gcp.projects.IAMMember(
        `${name}-read-function-sources`,
        {
          project: args.project,
          role: 'roles/storage.objectViewer',
          member,
          condition: {
            title: 'gcf-v2-sources buckets only',
            description: 'the functions build from their copy of the source there',
            expression: FUNCTION_SOURCES_CONDITION,
          },
        },
        child,
      ),
      new gcp.projects.IAMMember(`${name}-logs`, { project: args.project, role: 'roles/logging.logWriter', member }, child),
    ];
    this.registerOutputs({ email: this.email, bucket: this.bucket.name });
  }
}
