import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { childOptions } from './child-options.ts';

export interface ContainerImageArgs {
  project: pulumi.Input<string>;
  region: string;
  /** Repository id, e.g. `pipekit`. */
  repositoryId: string;
  /** A prebuilt image pinned by digest (validated by infra/config.ts), or undefined before the first build. */
  image?: string;
}

/**
 * The Artifact Registry repository for the one pipekit image (jobs and the
 * console run the same image), and the image reference the workloads deploy:
 * always by digest, so a deployment runs exactly the bytes that were tested.
 *
 * The image is built outside Pulumi (`gcloud builds submit`, see
 * docs/deploy.md): building inside `pulumi up` would need a Docker daemon or
 * the docker-build provider on the deploying machine.
 */
export class ContainerImage extends pulumi.ComponentResource {
  readonly repository: gcp.artifactregistry.Repository;
  /** `<region>-docker.pkg.dev/<project>/<repo>`: where to push. */
  readonly repositoryUrl: pulumi.Output<string>;
  /** The image to deploy, or undefined when none is configured yet. */
  readonly imageRef?: string;

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
    this.imageRef = args.image;
    this.registerOutputs({ repositoryUrl: this.repositoryUrl });
  }
}
