import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { childOptions } from './child-options.ts';
import { privateBucket } from './private-bucket.ts';

export interface DataStoresArgs {
  project: pulumi.Input<string>;
  /** Bucket location (the Cloud Run region keeps traffic in-region). */
  region: pulumi.Input<string>;
  bucketName: string;
  datasetId: string;
  /** BigQuery location, e.g. `US` or `europe-west1`. */
  datasetLocation: string;
  /** Days before objects under `workspace/` in the bucket are deleted. */
  workspaceRetentionDays: number;
  /** Off: `pulumi destroy` empties the bucket and the dataset; on: both must be emptied by hand first. */
  deletionProtection: boolean;
  /** IAM members that read and write the lake and the dataset (the jobs). */
  writers: pulumi.Input<string>[];
  /** IAM members that only read them (the console, for previews). */
  readers: pulumi.Input<string>[];
  /** Buckets `gcs:` triggers watch: the writers (the jobs) may read their objects, nothing more. */
  watchedBuckets?: readonly string[];
}

/**
 * Where pipelines put data in the cloud: the lake bucket (GCS Parquet) and
 * the BigQuery dataset. The bucket is private by construction (uniform
 * bucket-level access, public access prevention enforced); access is granted
 * on the bucket and dataset themselves, never project-wide.
 */
export class DataStores extends pulumi.ComponentResource {
  readonly bucket: gcp.storage.Bucket;
  readonly dataset: gcp.bigquery.Dataset;
  readonly bucketName: pulumi.Output<string>;
  readonly datasetId: pulumi.Output<string>;

  constructor(name: string, args: DataStoresArgs, opts?: pulumi.ComponentResourceOptions) {
    super('pipekit:gcp:DataStores', name, {}, opts);
    const child = childOptions(this, opts);

    this.bucket = privateBucket(
      `${name}-lake`,
      {
        project: args.project,
        name: args.bucketName,
        location: args.region,
        deletionProtection: args.deletionProtection,
        // Block outputs written to GCS are scratch data of a run, like the Filestore workspace.
        lifecycleRules: [{ action: { type: 'Delete' }, condition: { age: args.workspaceRetentionDays, matchesPrefixes: ['workspace/'] } }],
      },
      child,
    );
    this.dataset = new gcp.bigquery.Dataset(
      `${name}-dataset`,
      {
        project: args.project,
        datasetId: args.datasetId,
        location: args.datasetLocation,
        deleteContentsOnDestroy: !args.deletionProtection,
        labels: { 'managed-by': 'pipekit' },
      },
      child,
    );

    const grant = (members: pulumi.Input<string>[], kind: string, bucketRole: string, datasetRole: string) =>
      members.forEach((member, i) => {
        new gcp.storage.BucketIAMMember(`${name}-lake-${kind}-${i}`, { bucket: this.bucket.name, role: bucketRole, member }, child);
        new gcp.bigquery.DatasetIamMember(
          `${name}-dataset-${kind}-${i}`,
          { project: args.project, datasetId: this.dataset.datasetId, role: datasetRole, member },
          child,
        );
      });
    grant(args.writers, 'writer', 'roles/storage.objectAdmin', 'roles/bigquery.dataEditor');
    grant(args.readers, 'reader', 'roles/storage.objectViewer', 'roles/bigquery.dataViewer');
    // A gcs-triggered run reads the object that triggered it; the lake grant above already covers the lake.
    for (const bucket of args.watchedBuckets ?? []) {
      if (bucket === args.bucketName) continue;
      args.writers.forEach((member, i) => {
        new gcp.storage.BucketIAMMember(
          `${name}-watched-${bucket}-reader-${i}`,
          { bucket, role: 'roles/storage.objectViewer', member },
          child,
        );
      });
    }

    this.bucketName = this.bucket.name;
    this.datasetId = this.dataset.datasetId;
    this.registerOutputs({ bucketName: this.bucketName, datasetId: this.datasetId });
  }
}
