import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { childOptions } from './child-options.ts';

export interface DatabaseArgs {
  project: pulumi.Input<string>;
  region: pulumi.Input<string>;
  /** The VPC whose private services access gives the instance its private IP. */
  networkId: pulumi.Input<string>;
  /** e.g. `db-custom-1-3840`; shared-core tiers (`db-f1-micro`) run out of connections under concurrent schedules. */
  tier: string;
  /** e.g. `POSTGRES_16`. */
  databaseVersion: string;
  /** Daily backups plus point-in-time recovery (7 days of WAL). */
  backups: boolean;
  deletionProtection: boolean;
  user: string;
  password: pulumi.Input<string>;
  /** Databases to create: the taxi data and the run history. */
  databases: readonly string[];
}

/**
 * Cloud SQL for PostgreSQL reachable only on its private IP from the VPC:
 * no public IPv4 (Mage's template had one), TLS required on every connection
 * (and the clients verify the server against `serverCa`),
 * backups and PITR on unless turned off. With deletion protection off,
 * `pulumi destroy` removes it: users and databases are abandoned rather than
 * dropped one by one (dropping fails while they own objects or have sessions)
 * and go away with the instance.
 */
export class Database extends pulumi.ComponentResource {
  readonly instance: gcp.sql.DatabaseInstance;
  /** `project:region:instance`, for the Cloud SQL connectors and `gcloud sql connect`. */
  readonly connectionName: pulumi.Output<string>;
  readonly privateIp: pulumi.Output<string>;
  /**
   * The instance's server CA certificates (PEM, the current one and any
   * upcoming one during a rotation): the workloads verify the server against
   * them (`verify-ca`) instead of only encrypting.
   */
  readonly serverCa: pulumi.Output<string>;

  constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super('pipekit:gcp:Database', name, {}, opts);
    const child = childOptions(this, opts);

    this.instance = new gcp.sql.DatabaseInstance(
      `${name}-instance`,
      {
        project: args.project,
        region: args.region,
        databaseVersion: args.databaseVersion,
        // Pulumi-side guard (refuses to delete) and Google-side guard (the API refuses too).
        deletionProtection: args.deletionProtection,
        settings: {
          tier: args.tier,
          edition: 'ENTERPRISE',
          deletionProtectionEnabled: args.deletionProtection,
          availabilityType: 'ZONAL',
          diskAutoresize: true,
          ipConfiguration: {
            ipv4Enabled: false,
            privateNetwork: args.networkId,
            sslMode: 'ENCRYPTED_ONLY',
          },
          backupConfiguration: {
            enabled: args.backups,
            pointInTimeRecoveryEnabled: args.backups,
            startTime: '03:00',
            transactionLogRetentionDays: 7,
            backupRetentionSettings: { retainedBackups: 7, retentionUnit: 'COUNT' },
          },
          insightsConfig: { queryInsightsEnabled: true },
          userLabels: { 'managed-by': 'pipekit' },
        },
      },
      child,
    );

    for (const database of args.databases) {
      new gcp.sql.Database(
        `${name}-${database.replace(/_/g, '-')}`,
        { project: args.project, instance: this.instance.name, name: database, deletionPolicy: 'ABANDON' },
        child,
      );
    }
    new gcp.sql.User(
      `${name}-user`,
      {
        project: args.project,
        instance: this.instance.name,
        name: args.user,
        password: pulumi.secret(args.password),
        deletionPolicy: 'ABANDON',
      },
      child,
    );

    this.connectionName = this.instance.connectionName;
    this.privateIp = this.instance.privateIpAddress;
    this.serverCa = this.instance.serverCaCerts.apply((certs) => {
      const pem = (certs ?? []).map((c) => c.cert.trim()).filter(Boolean);
      if (pem.length === 0) throw new Error('Cloud SQL returned no server CA certificate: the workloads could not verify the database');
      return `${pem.join('\n')}\n`;
    });
    this.registerOutputs({ connectionName: this.connectionName, privateIp: this.privateIp, serverCa: this.serverCa });
  }
}
