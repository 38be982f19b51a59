import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { childOptions } from './child-options.ts';

export interface NetworkArgs {
  project: pulumi.Input<string>;
  region: pulumi.Input<string>;
  /** The subnet Cloud Run jobs and the console egress from (Direct VPC egress); a /26 at least, larger for big fan-outs. */
  subnetCidr: pulumi.Input<string>;
}

/**
 * A dedicated VPC (not `default`), one regional subnet for Cloud Run's Direct
 * VPC egress (no Serverless VPC Access connector to size and pay for), and
 * private services access: the peering that gives Cloud SQL and Filestore
 * private IPs reachable from that subnet.
 */
export class Network extends pulumi.ComponentResource {
  readonly network: gcp.compute.Network;
  readonly subnet: gcp.compute.Subnetwork;
  /** Depend on this before creating anything with a private-services IP (Cloud SQL, Filestore). */
  readonly privateServicesConnection: gcp.servicenetworking.Connection;
  readonly networkId: pulumi.Output<string>;
  readonly networkName: pulumi.Output<string>;
  readonly subnetId: pulumi.Output<string>;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super('pipekit:gcp:Network', name, {}, opts);
    const child = childOptions(this, opts);

    this.network = new gcp.compute.Network(
      `${name}-vpc`,
      { project: args.project, autoCreateSubnetworks: false, description: 'pipekit: Cloud Run egress, Cloud SQL and Filestore' },
      child,
    );
    this.subnet = new gcp.compute.Subnetwork(
      `${name}-subnet`,
      {
        project: args.project,
        region: args.region,
        network: this.network.id,
        ipCidrRange: args.subnetCidr,
        // Lets the jobs reach Google APIs (GCS, BigQuery, Secret Manager) without public IPs.
        privateIpGoogleAccess: true,
      },
      child,
    );
    const peeringRange = new gcp.compute.GlobalAddress(
      `${name}-psa-range`,
      {
        project: args.project,
        network: this.network.id,
        purpose: 'VPC_PEERING',
        addressType: 'INTERNAL',
        // Google recommends a /16 so later Cloud SQL and Filestore instances fit; it is private space of this VPC only.
        prefixLength: 16,
      },
      child,
    );
    this.privateServicesConnection = new gcp.servicenetworking.Connection(
      `${name}-psa`,
      {
        network: this.network.id,
        service: 'servicenetworking.googleapis.com',
        reservedPeeringRanges: [peeringRange.name],
        // Deleting the peering fails while Google still holds the producer side for a few minutes after
        // Cloud SQL is gone; abandoning it lets `pulumi destroy` finish and the VPC deletion removes it.
        deletionPolicy: 'ABANDON',
      },
      child,
    );
    this.networkId = this.network.id;
    this.networkName = this.network.name;
    this.subnetId = this.subnet.id;
    this.registerOutputs({ networkId: this.networkId, subnetId: this.subnetId });
  }
}
