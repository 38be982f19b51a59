import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { childOptions } from './child-options.ts';

export interface ContainerImageArgs {
  project: pulumi.Input<string>;
  region: string;
  /** Repository id, e.g. `pipekit`. */
  repositoryId: string;
}

/**
 * The Artifact Registry repository for the pipekit images (jobs and the
 * console run the same image; ImageBuild pushes it here) and the functions'
 * builds. Workloads always deploy by digest, so a deployment runs exactly
 * the bytes that were built.
 */
export class ContainerImage extends pulumi.ComponentResource {
  readonly repository: gcp.artifactregistry.Repository;
  /** `<region>-docker.pkg.dev/<project>/<repo>`: where to push. */
  readonly repositoryUrl: pulumi.Output<string>;
  /** `projects/P/locations/R/repositories/REPO`, as Cloud Functions' `buildConfig.dockerRepository` wants it. */
  readonly repositoryId: pulumi.Output<string>;

  constructor(name: string, args: ContainerImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super('pipekit:gcp:ContainerImage', name, {}, opts);
    const child = childOptions(this, opts);
    this.repository = new gcp.artifactregistry.Repository(
      `${name}-repo`,
      {
        project: args.project,
        location: args.region,
        repositoryId: args.repositoryId,
        format: 'DOCKER',
        description: 'pipekit image (jobs and console)',
        // Keep the last 10 versions; older untagged digests are cleaned up.
        cleanupPolicies: [{ id: 'keep-recent', action: 'KEEP', mostRecentVersions: { keepCount: 10 } }],
      },
      child,
    );
    // No reader grant: Cloud Run pulls with its service agent, which reads same-project repositories already.
    this.repositoryUrl = pulumi.interpolate`${args.region}-docker.pkg.dev/${this.repository.project}/${this.repository.repositoryId}`;
    this.repositoryId = pulumi.interpolate`projects/${this.repository.project}/locations/${this.repository.location}/repositories/${this.repository.repositoryId}`;
    this.registerOutputs({ repositoryUrl: this.repositoryUrl });
  }
}
