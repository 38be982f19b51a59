import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import { childOptions } from './child-options.ts';

/** A secret as a Cloud Run env var takes it: `valueSource.secretKeyRef`. */
export interface SecretEnv {
  /** Environment variable name. */
  readonly env: string;
  /** Secret Manager secret id (not its value). */
  readonly secret: pulumi.Output<string>;
}

export interface SecretsArgs {
  project: pulumi.Input<string>;
  /** Prefix of the secret ids, e.g. `pipekit` → `pipekit-db-password`. */
  prefix: string;
  /** User secrets from `pipekit:userSecrets`: env name → value. Jobs and the console both get them. */
  userSecrets: Readonly<Record<string, pulumi.Input<string>>>;
  /** Service accounts that read the DB password (jobs, console). */
  dbPasswordReaders: pulumi.Input<string>[];
  /** Service accounts that read the API-trigger token (console, the API-trigger function). */
  apiTokenReaders: pulumi.Input<string>[];
  /** Service accounts that read the user secrets (jobs, console). */
  userSecretReaders: pulumi.Input<string>[];
}

/**
 * Secret Manager secrets: a generated database password, a generated token
 * for API triggers, and the user's own secrets. Values never reach an env var
 * in plain text: workloads get them by `secretKeyRef`, and each secret grants
 * `secretAccessor` only to the service accounts that read it (no project-wide
 * grant).
 */
export class Secrets extends pulumi.ComponentResource {
  /** The generated database password, for the Cloud SQL user. Secret in state. */
  readonly dbPassword: pulumi.Output<string>;
  readonly dbPasswordSecretId: pulumi.Output<string>;
  readonly apiTokenSecretId: pulumi.Output<string>;
  /** User secrets as env entries. */
  readonly userSecretEnv: SecretEnv[];
  /** Every secret version; workloads depend on them so a job never starts before its secrets have a value. */
  readonly versions: gcp.secretmanager.SecretVersion[] = [];

  constructor(name: string, args: SecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('pipekit:gcp:Secrets', name, {}, opts);
    const child = childOptions(this, opts);

    // Letters and digits only: the password goes into connection strings without escaping.
    const password = new random.RandomPassword(`${name}-db-password`, { length: 32, special: false }, { parent: this });
    const token = new random.RandomPassword(`${name}-api-token`, { length: 48, special: false }, { parent: this });
    this.dbPassword = password.result;

    this.dbPasswordSecretId = this.secret(name, `${args.prefix}-db-password`, args.project, password.result, args.dbPasswordReaders, child);
    this.apiTokenSecretId = this.secret(name, `${args.prefix}-api-token`, args.project, token.result, args.apiTokenReaders, child);
    this.userSecretEnv = Object.entries(args.userSecrets).map(([env, value]) => ({
      env,
      secret: this.secret(
        name,
        `${args.prefix}-${env.toLowerCase().replace(/_/g, '-')}`,
        args.project,
        value,
        args.userSecretReaders,
        child,
      ),
    }));

    this.registerOutputs({ dbPasswordSecretId: this.dbPasswordSecretId, apiTokenSecretId: this.apiTokenSecretId });
  }

  private secret(
    name: string,
    secretId: string,
    project: pulumi.Input<string>,
    value: pulumi.Input<string>,
    readers: pulumi.Input<string>[],
    child: pulumi.CustomResourceOptions,
  ): pulumi.Output<string> {
    const secret = new gcp.secretmanager.Secret(
      `${name}-${secretId}`,
      { project, secretId, replication: { auto: {} }, labels: { 'managed-by': 'pipekit' } },
      child,
    );
    this.versions.push(
      new gcp.secretmanager.SecretVersion(`${name}-${secretId}-v`, { secret: secret.id, secretData: pulumi.secret(value) }, child),
    );
    readers.forEach((member, i) => {
      new gcp.secretmanager.SecretIamMember(
        `${name}-${secretId}-reader-${i}`,
        { project, secretId: secret.secretId, role: 'roles/secretmanager.secretAccessor', member },
        child,
      );
    });
    return secret.secretId;
  }
}
