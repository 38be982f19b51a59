import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { consoleServiceNameFor } from '../../src/cloud/naming.ts';
import { childOptions } from './child-options.ts';
import { plainEnv, secretEnv, vpcAccess, workspaceMount, workspaceVolume, type RuntimeContractArgs } from './runtime-contract.ts';

/** The port the console listens on; Cloud Run sets `PORT` to it. */
export const CONSOLE_PORT = 8080;

export interface ConsoleServiceArgs {
  project: string;
  region: string;
  /** The runtime image, by digest. */
  image: pulumi.Input<string>;
  prefix: string;
  serviceAccountEmail: pulumi.Input<string>;
  /** Secret id of the token API triggers present. */
  apiTokenSecret: pulumi.Input<string>;
  deletionProtection: boolean;
  runtime: RuntimeContractArgs;
}

/**
 * The console as a Cloud Run v2 service: scales to zero, reachable only
 * through the load balancer (ingress `internal-and-cloud-load-balancing`),
 * where Cloud Armor filters who gets in.
 *
 * `invokerIamDisabled` replaces Mage's `allUsers` invoker binding: a
 * load balancer sends no identity token, so Cloud Run's IAM check would
 * refuse every visitor; with the check off, the ingress setting still keeps
 * the `run.app` URL closed to the internet.
 */
export class ConsoleService extends pulumi.ComponentResource {
  readonly service: gcp.cloudrunv2.Service;
  readonly serviceName: pulumi.Output<string>;

  constructor(name: string, args: ConsoleServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super('pipekit:gcp:ConsoleService', name, {}, opts);
    const { runtime } = args;
    this.service = new gcp.cloudrunv2.Service(
      `${name}-service`,
      {
        project: args.project,
        location: args.region,
        name: consoleServiceNameFor(args.prefix),
        deletionProtection: args.deletionProtection,
        ingress: 'INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER',
        invokerIamDisabled: true,
        labels: { 'managed-by': 'pipekit' },
        template: {
          serviceAccount: args.serviceAccountEmail,
          scaling: { minInstanceCount: 0, maxInstanceCount: 3 },
          executionEnvironment: 'EXECUTION_ENVIRONMENT_GEN2',
          containers: [
            {
              image: args.image,
              args: ['console', '--port', String(CONSOLE_PORT)],
              ports: { containerPort: CONSOLE_PORT },
              envs: [
                ...plainEnv(runtime),
                secretEnv('PIPEKIT_DB_PASSWORD', runtime.dbPasswordSecret),
                secretEnv('PIPEKIT_API_TOKEN', args.apiTokenSecret),
                ...runtime.userSecrets.map((s) => secretEnv(s.env, s.secret)),
              ],
              resources: { limits: { cpu: '1', memory: '1Gi' }, cpuIdle: true },
              volumeMounts: [workspaceMount],
            },
          ],
          volumes: [workspaceVolume(runtime)],
          vpcAccess: vpcAccess(runtime),
        },
      },
      childOptions(this, opts),
    );
    this.serviceName = this.service.name;
    this.registerOutputs({ serviceName: this.serviceName, uri: this.service.uri });
  }
}
