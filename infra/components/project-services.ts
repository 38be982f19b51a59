import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';

/** Every Google API the stack uses. Mage's template forgot compute, file, cloudscheduler, servicenetworking and bigquery; `logging` takes the build logs. */
export const REQUIRED_SERVICES = [
  'artifactregistry.googleapis.com',
  'bigquery.googleapis.com',
  // pulumi up builds the image with Cloud Build.
  'cloudbuild.googleapis.com',
  'cloudresourcemanager.googleapis.com',
  'cloudscheduler.googleapis.com',
  'compute.googleapis.com',
  'file.googleapis.com',
  'iam.googleapis.com',
  'logging.googleapis.com',
  'run.googleapis.com',
  'secretmanager.googleapis.com',
  'servicenetworking.googleapis.com',
  'sqladmin.googleapis.com',
  'storage.googleapis.com',
] as const;

/** What Cloud Run functions (gen2) add: the functions API, Eventarc and Pub/Sub for GCS events (Cloud Build is always on). */
export const FUNCTION_SERVICES = ['cloudfunctions.googleapis.com', 'eventarc.googleapis.com', 'pubsub.googleapis.com'] as const;

export interface ProjectServicesArgs {
  project: pulumi.Input<string>;
  /** Defaults to REQUIRED_SERVICES. */
  services?: readonly string[];
}

/**
 * Enables the project's APIs. Every other component depends on this one, so
 * a fresh project works on the first `pulumi up`. APIs stay enabled on
 * destroy: other things in the project may use them.
 */
export class ProjectServices extends pulumi.ComponentResource {
  readonly services: gcp.projects.Service[];

  constructor(name: string, args: ProjectServicesArgs, opts?: pulumi.ComponentResourceOptions) {
    super('pipekit:gcp:ProjectServices', name, {}, opts);
    this.services = (args.services ?? REQUIRED_SERVICES).map(
      (service) =>
        new gcp.projects.Service(
          `${name}-${service.split('.')[0]}`,
          { project: args.project, service, disableOnDestroy: false, disableDependentServices: false },
          { parent: this },
        ),
    );
    this.registerOutputs({});
  }
}
