import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { childOptions } from './child-options.ts';

/** The file share's name; the NFS export path is `/<share>`. */
export const WORKSPACE_SHARE = 'workspace';

export interface FilestoreArgs {
  project: pulumi.Input<string>;
  /** Zone for BASIC_* and ZONAL tiers, region for REGIONAL. */
  location: pulumi.Input<string>;
  /** The VPC network name (Filestore wants the name, Cloud SQL the id). */
  networkName: pulumi.Input<string>;
  tier: 'BASIC_HDD' | 'BASIC_SSD' | 'ZONAL' | 'REGIONAL';
  capacityGb: number;
  deletionProtection: boolean;
}

/**
 * The run workspace: block outputs kept between blocks, so a failed run can
 * resume from the last good block and the console can preview outputs. Cloud
 * Run mounts it as a native NFS volume (no `mount` inside the container,
 * which Cloud Run no longer permits). It sits on the private services access
 * range, reached through Direct VPC egress.
 */
export class Filestore extends pulumi.ComponentResource {
  readonly instance: gcp.filestore.Instance;
  /** The NFS server address for Cloud Run's `nfs.server`. */
  readonly ipAddress: pulumi.Output<string>;
  /** The NFS export path for Cloud Run's `nfs.path`. */
  readonly exportPath: string = `/${WORKSPACE_SHARE}`;

  constructor(name: string, args: FilestoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super('pipekit:gcp:Filestore', name, {}, opts);
    this.instance = new gcp.filestore.Instance(
      `${name}-instance`,
      {
        project: args.project,
        location: args.location,
        tier: args.tier,
        fileShares: { name: WORKSPACE_SHARE, capacityGb: args.capacityGb },
        networks: [{ network: args.networkName, modes: ['MODE_IPV4'], connectMode: 'PRIVATE_SERVICE_ACCESS' }],
        deletionProtectionEnabled: args.deletionProtection,
        labels: { 'managed-by': 'pipekit' },
      },
      childOptions(this, opts),
    );
    this.ipAddress = this.instance.networks.apply((networks) => {
      const ip = networks?.[0]?.ipAddresses?.[0];
      if (!ip) throw new Error('Filestore returned no IP address for its network');
      return ip;
    });
    this.registerOutputs({ ipAddress: this.ipAddress });
  }
}
