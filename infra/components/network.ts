import * as command from '@pulumi/command';
import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { childOptions } from './child-options.ts';

export interface NetworkArgs {
  project: string;
  region: string;
  /** The subnet Cloud Run jobs and the console egress from (Direct VPC egress); a /26 at least, larger for big fan-outs. */
  subnetCidr: pulumi.Input<string>;
}

/**
 * A dedicated VPC (not `default`), one regional subnet for Cloud Run's Direct
 * VPC egress (no Serverless VPC Access connector to size and pay for), and
 * private services access: the peering that gives Cloud SQL and Filestore
 * private IPs reachable from that subnet. `pulumi destroy` removes all of
 * it, in order (see `teardown`).
 */
export class Network extends pulumi.ComponentResource {
  readonly network: gcp.compute.Network;
  readonly subnet: gcp.compute.Subnetwork;
  /** Depend on this before creating anything with a private-services IP (Cloud SQL, Filestore). */
  readonly privateServicesConnection: gcp.servicenetworking.Connection;
  /**
   * Removes the peering and the subnet on `pulumi destroy` (infra/build/network-teardown.ts).
   * Everything that uses the network must depend on it, so it runs after they are gone.
   */
  readonly teardown: command.local.Command;
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
        // Service Networking refuses to delete the connection while Cloud SQL keeps a deleted
        // instance restorable, so the connection record is dropped from the stack; the peering it
        // made, which would keep the VPC from being deleted, is removed by `teardown` below.
        deletionPolicy: 'ABANDON',
      },
      child,
    );
    this.teardown = new command.local.Command(
      `${name}-teardown`,
      {
        // Nothing to do on create; on destroy: remove the peering, then delete the subnet once Cloud Run lets go of it.
        // Relative to the Pulumi project directory (the repo root): `pulumi destroy` runs the
        // command stored in the state, perhaps from another checkout or machine.
        delete: 'node --import tsx infra/build/network-teardown.ts',
        environment: {
          PIPEKIT_TEARDOWN_PROJECT: args.project,
          PIPEKIT_TEARDOWN_REGION: args.region,
          PIPEKIT_TEARDOWN_NETWORK: this.network.name,
          PIPEKIT_TEARDOWN_SUBNET: this.subnet.name,
        },
        logging: 'stderr',
      },
      // Deleted before these (and after everything that depends on it): Cloud SQL, Filestore, the workloads.
      childOptions(this, opts, {
        dependsOn: [this.network, this.subnet, peeringRange, this.privateServicesConnection],
        customTimeouts: { delete: '160m' },
      }),
    );
    this.networkId = this.network.id;
    this.networkName = this.network.name;
    this.subnetId = this.subnet.id;
    this.registerOutputs({ networkId: this.networkId, subnetId: this.subnetId });
  }
}
