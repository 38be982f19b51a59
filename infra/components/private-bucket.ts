import * as gcp from '@pulumi/gcp';
import type * as pulumi from '@pulumi/pulumi';

export interface PrivateBucketArgs {
  project: pulumi.Input<string>;
  name: string;
  location: pulumi.Input<string>;
  /** Off: `pulumi destroy` empties and deletes the bucket. */
  deletionProtection: boolean;
  lifecycleRules?: gcp.types.input.storage.BucketLifecycleRule[];
}

/**
 * Every bucket pipekit creates is private by construction: uniform
 * bucket-level access (no object ACLs) and public access prevention
 * enforced. One function, so no bucket can be created without them.
 */
export function privateBucket(resourceName: string, args: PrivateBucketArgs, opts: pulumi.CustomResourceOptions): gcp.storage.Bucket {
  return new gcp.storage.Bucket(
    resourceName,
    {
      project: args.project,
      name: args.name,
      location: args.location,
      uniformBucketLevelAccess: true,
      publicAccessPrevention: 'enforced',
      forceDestroy: !args.deletionProtection,
      lifecycleRules: args.lifecycleRules,
      labels: { 'managed-by': 'pipekit' },
    },
    opts,
  );
}
