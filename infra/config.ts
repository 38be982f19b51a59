import * as pulumi from '@pulumi/pulumi';
import { ConfigError } from '../src/errors.ts';
import { isValidCloudRunName } from '../src/cloud/naming.ts';

/**
 * Stack configuration, read once and validated before any resource is
 * created, so a typo fails `pulumi preview` with the key to fix instead of
 * half a deployment. Every key lives in the `pipekit:` namespace except the
 * project and region, which are the Google provider's own `gcp:project` and
 * `gcp:region`. Defaults are documented here and in docs/deploy.md.
 */
export interface InfraConfig {
  /** `gcp:project` (required). */
  readonly project: string;
  /** `gcp:region`, default `us-central1`: Cloud Run, Cloud SQL, Scheduler, bucket. */
  readonly region: string;
  /** `pipekit:zone`, default `<region>-b`: the zonal Filestore instance. */
  readonly zone: string;
  /** `pipekit:prefix`, default `pipekit`: first part of every resource name. */
  readonly prefix: string;
  /** `pipekit:pipelinesDir` (or env `PIPEKIT_PIPELINES_DIR`, which wins), default `pipelines`, relative to the repo. */
  readonly pipelinesDir: string;
  /**
   * `pipekit:image`: `<registry>/<repo>/<name>@sha256:<digest>`, for images built elsewhere.
   * Unset (the default) = `pulumi up` builds the image from this repository with Cloud Build.
   */
  readonly image?: string;
  /** `pipekit:workspaceInitImage`: with `pipekit:image`, the Dockerfile's `workspace-init` stage by digest (else the Filestore share is initialised by hand). */
  readonly workspaceInitImage?: string;
  /** `pipekit:buildBucket`, default `<project>-<prefix>-build`: private bucket for the image's source archives. */
  readonly buildBucket: string;
  /** `pipekit:deletionProtection`, default `true`: Cloud SQL, Cloud Run, Filestore, bucket and dataset contents. */
  readonly deletionProtection: boolean;
  /** `pipekit:dbTier`, default `db-custom-1-3840` (dedicated core, ~100 connections). */
  readonly dbTier: string;
  /** `pipekit:dbVersion`, default `POSTGRES_16`. */
  readonly dbVersion: string;
  /** `pipekit:dbBackups`, default `true`: daily backups plus point-in-time recovery. */
  readonly dbBackups: boolean;
  /** `pipekit:dbUser`, default `pipekit`. */
  readonly dbUser: string;
  /** `pipekit:taxiDatabase`, default `ny_taxi`: the database pipelines export to. */
  readonly taxiDatabase: string;
  /** `pipekit:runsDatabase`, default `pipekit`: run history. */
  readonly runsDatabase: string;
  /** `pipekit:subnetCidr`, default `10.20.0.0/20`: the subnet Cloud Run egresses from (Direct VPC egress). */
  readonly subnetCidr: string;
  /** `pipekit:filestoreTier`, default `BASIC_HDD`. */
  readonly filestoreTier: 'BASIC_HDD' | 'BASIC_SSD' | 'ZONAL' | 'REGIONAL';
  /** `pipekit:filestoreCapacityGb`, default the tier's minimum (1024 for BASIC_HDD). */
  readonly filestoreCapacityGb: number;
  /** `pipekit:lakeBucket`, default `<project>-<prefix>-lake`. */
  readonly lakeBucket: string;
  /** `pipekit:bigqueryDataset`, default `ny_taxi`. */
  readonly bigqueryDataset: string;
  /** `pipekit:bigqueryLocation`, default `US`. */
  readonly bigqueryLocation: string;
  /** `pipekit:workspaceRetentionDays`, default `7`: lifecycle of `workspace/` objects in the lake bucket. */
  readonly workspaceRetentionDays: number;
  /** `pipekit:schedulerRegion`, default the region: where Cloud Scheduler jobs live. */
  readonly schedulerRegion: string;
  /** `pipekit:console`, default `true`: deploy the console service and its load balancer. */
  readonly console: boolean;
  /** `pipekit:domain`: the console's domain; gets a managed certificate and HTTPS. Unset = HTTP on the load balancer IP. */
  readonly domain?: string;
  /** `pipekit:cloudArmor`, default `true`. Set `false` where the SECURITY_POLICIES quota is 0 (new and free-trial projects). */
  readonly cloudArmor: boolean;
  /** `pipekit:allowedCidrs`: the only source ranges the console accepts (required while Cloud Armor is on). */
  readonly allowedCidrs: readonly string[];
  /** `pipekit:rateLimitPerMinute`, default `600`: requests per client IP per minute before 429. */
  readonly rateLimitPerMinute: number;
  /** `pipekit:functions`, default `true`: deploy the Cloud Run functions apiTrigger, backfill and gcsTrigger (needs pipekit:image, like the jobs). */
  readonly functions: boolean;
  /**
   * `pipekit:functionsAuth`, default `iam`: callers of the HTTP functions need `roles/run.invoker` and a
   * Google identity token. `token` makes them public (allUsers invoker) behind the bearer API token: an explicit opt-in, warned about.
   */
  readonly functionsAuth: 'iam' | 'token';
  /** `pipekit:functionsSourceBucket`, default `<project>-<prefix>-fn-source`: private bucket holding the functions' source archive. */
  readonly functionsSourceBucket: string;
  /** `pipekit:userSecrets` (set with `--secret --path`): env name → value, given to jobs and console by secretKeyRef. */
  readonly userSecrets: Readonly<Record<string, pulumi.Output<string>>>;
}

/** What `readInfraConfig` reads from; `pulumi.Config` in the program, a plain object in tests. */
export interface ConfigSource {
  get(key: string): string | undefined;
  getObject<T>(key: string): T | undefined;
}

const STACK_FILE = () => `Pulumi.${safeStack()}.yaml`;

/** Reads and validates the stack configuration of the current stack. */
export function readInfraConfig(env: NodeJS.ProcessEnv = process.env): InfraConfig {
  const pipekit = new pulumi.Config('pipekit');
  const gcp = new pulumi.Config('gcp');
  return parseInfraConfig(
    {
      get: (key) => (key.startsWith('gcp:') ? gcp.get(key.slice(4)) : pipekit.get(key)),
      getObject: <T>(key: string) => pipekit.getObject<T>(key),
    },
    env,
  );
}

/** Validates raw configuration values. Throws a ConfigError naming the key and the fix. */
export function parseInfraConfig(source: ConfigSource, env: NodeJS.ProcessEnv = {}): InfraConfig {
  const project = source.get('gcp:project') ?? env.GOOGLE_CLOUD_PROJECT ?? env.GOOGLE_PROJECT;
  if (!project) {
    throw configError('gcp:project', 'is not set', 'run `pulumi config set gcp:project <your-project-id>`');
  }
  const region = source.get('gcp:region') ?? 'us-central1';
  const prefix = source.get('prefix') ?? 'pipekit';
  if (!isValidCloudRunName(prefix) || prefix.length > 20) {
    throw configError(
      'pipekit:prefix',
      `${JSON.stringify(prefix)} is not a usable name prefix`,
      'use 1–20 lower-case letters, digits and hyphens, starting with a letter, e.g. `pipekit`',
    );
  }

  const image = source.get('image');
  if (image !== undefined) validateImage(image);
  const workspaceInitImage = source.get('workspaceInitImage');
  if (workspaceInitImage !== undefined) {
    if (image === undefined)
      throw configError(
        'pipekit:workspaceInitImage',
        'is set without pipekit:image',
        'remove it: without pipekit:image, `pulumi up` builds both images itself',
      );
    validateImage(workspaceInitImage, 'pipekit:workspaceInitImage');
  }

  const filestoreTier = oneOf(source, 'filestoreTier', ['BASIC_HDD', 'BASIC_SSD', 'ZONAL', 'REGIONAL'] as const, 'BASIC_HDD');
  const minCapacity = FILESTORE_MIN_GB[filestoreTier];
  const filestoreCapacityGb = int(source, 'filestoreCapacityGb', minCapacity);
  if (filestoreCapacityGb < minCapacity) {
    throw configError(
      'pipekit:filestoreCapacityGb',
      `${filestoreCapacityGb} GB is below the ${filestoreTier} minimum of ${minCapacity} GB`,
      `set it to at least ${minCapacity}, or remove it to use the minimum`,
    );
  }

  const consoleOn = bool(source, 'console', true);
  const cloudArmor = bool(source, 'cloudArmor', true);
  const allowedCidrs = source.getObject<unknown>('allowedCidrs') ?? [];
  if (!Array.isArray(allowedCidrs) || !allowedCidrs.every((c) => typeof c === 'string' && CIDR.test(c))) {
    throw configError(
      'pipekit:allowedCidrs',
      'must be a list of CIDR ranges such as ["203.0.113.7/32"]',
      'run `pulumi config set --path "pipekit:allowedCidrs[0]" "$(curl -s https://api.ipify.org)/32"`',
    );
  }
  if (consoleOn && cloudArmor && allowedCidrs.length === 0) {
    throw configError(
      'pipekit:allowedCidrs',
      'is empty, and the Cloud Armor policy denies everything it does not allow, so nobody could open the console',
      'add your address: `pulumi config set --path "pipekit:allowedCidrs[0]" "$(curl -s https://api.ipify.org)/32"`; or turn the policy off with `pulumi config set pipekit:cloudArmor false`, or the console with `pulumi config set pipekit:console false`',
    );
  }

  const domain = source.get('domain');
  if (domain !== undefined && !/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$/i.test(domain)) {
    throw configError(
      'pipekit:domain',
      `${JSON.stringify(domain)} is not a domain name`,
      'give a bare host name such as `pipekit.example.com` (no scheme, no path)',
    );
  }

  const bigqueryDataset = source.get('bigqueryDataset') ?? 'ny_taxi';
  if (!/^[A-Za-z0-9_]{1,1024}$/.test(bigqueryDataset)) {
    throw configError(
      'pipekit:bigqueryDataset',
      `${JSON.stringify(bigqueryDataset)} is not a BigQuery dataset id`,
      'use letters, digits and underscores only, e.g. `ny_taxi`',
    );
  }
  const lakeBucket = source.get('lakeBucket') ?? `${project}-${prefix}-lake`;
  if (!BUCKET.test(lakeBucket)) {
    throw configError(
      'pipekit:lakeBucket',
      `${JSON.stringify(lakeBucket)} is not a valid bucket name`,
      'use 3–63 lower-case letters, digits, `-`, `_` and `.`; set pipekit:lakeBucket explicitly if the default from the project id is too long',
    );
  }

  const functionsOn = bool(source, 'functions', true);
  const functionsAuth = oneOf(source, 'functionsAuth', ['iam', 'token'] as const, 'iam');
  const functionsSourceBucket = source.get('functionsSourceBucket') ?? `${project}-${prefix}-fn-source`;
  if (!BUCKET.test(functionsSourceBucket)) {
    throw configError(
      'pipekit:functionsSourceBucket',
      `${JSON.stringify(functionsSourceBucket)} is not a valid bucket name`,
      'use 3–63 lower-case letters, digits, `-`, `_` and `.`; set pipekit:functionsSourceBucket explicitly if the default from the project id is too long',
    );
  }
  const buildBucket = source.get('buildBucket') ?? `${project}-${prefix}-build`;
  if (!BUCKET.test(buildBucket)) {
    throw configError(
      'pipekit:buildBucket',
      `${JSON.stringify(buildBucket)} is not a valid bucket name`,
      'use 3–63 lower-case letters, digits, `-`, `_` and `.`; set pipekit:buildBucket explicitly if the default from the project id is too long',
    );
  }
  if (buildBucket === lakeBucket || buildBucket === functionsSourceBucket) {
    throw configError(
      'pipekit:buildBucket',
      `is the same bucket as pipekit:${buildBucket === lakeBucket ? 'lakeBucket' : 'functionsSourceBucket'}`,
      'give the image sources their own bucket: only the deployer and the build account may touch what gets built',
    );
  }
  if (functionsSourceBucket === lakeBucket) {
    throw configError(
      'pipekit:functionsSourceBucket',
      'is the lake bucket',
      "the jobs write to the lake bucket, so they could replace the functions' code: give the source archive its own bucket",
    );
  }

  return {
    project,
    region,
    zone: source.get('zone') ?? `${region}-b`,
    prefix,
    pipelinesDir: env.PIPEKIT_PIPELINES_DIR ?? source.get('pipelinesDir') ?? 'pipelines',
    image,
    workspaceInitImage,
    buildBucket,
    deletionProtection: bool(source, 'deletionProtection', true),
    dbTier: source.get('dbTier') ?? 'db-custom-1-3840',
    dbVersion: source.get('dbVersion') ?? 'POSTGRES_16',
    dbBackups: bool(source, 'dbBackups', true),
    dbUser: source.get('dbUser') ?? 'pipekit',
    taxiDatabase: source.get('taxiDatabase') ?? 'ny_taxi',
    runsDatabase: source.get('runsDatabase') ?? 'pipekit',
    subnetCidr: cidr(source, 'subnetCidr', '10.20.0.0/20'),
    filestoreTier,
    filestoreCapacityGb,
    lakeBucket,
    bigqueryDataset,
    bigqueryLocation: source.get('bigqueryLocation') ?? 'US',
    workspaceRetentionDays: int(source, 'workspaceRetentionDays', 7),
    schedulerRegion: source.get('schedulerRegion') ?? region,
    console: consoleOn,
    domain,
    cloudArmor,
    allowedCidrs,
    rateLimitPerMinute: int(source, 'rateLimitPerMinute', 600),
    functions: functionsOn,
    functionsAuth,
    functionsSourceBucket,
    userSecrets: userSecrets(source),
  };
}

/** Minimum capacity per Filestore tier, in GB. */
const FILESTORE_MIN_GB = { BASIC_HDD: 1024, BASIC_SSD: 2560, ZONAL: 1024, REGIONAL: 1024 } as const;

const BUCKET = /^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/;

const CIDR = /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$|^[0-9a-f:]+\/\d{1,3}$/i;

/** Env names pipekit sets itself; a user secret may not shadow them. */
const RESERVED_ENV = /^(PIPEKIT_|CLOUD_RUN_|GOOGLE_CLOUD_PROJECT$|PORT$|K_)/;

/**
 * An image reference pinned by digest. Tags (`:latest`, `:v1`) are refused:
 * a tag can move, so the same stack could run different code tomorrow, and
 * Cloud Run would not redeploy when the tag moves. An all-zero digest is a
 * placeholder copied from an example, never an image.
 */
export function validateImage(image: string, key = 'pipekit:image'): void {
  if (/@sha256:0{64}$/.test(image)) {
    throw configError(
      key,
      'is the all-zero placeholder digest, not an image',
      `remove it (\`pulumi config rm ${key}\`) and \`pulumi up\` builds the image itself, or set the digest of an image you built`,
    );
  }
  if (!/^[a-z0-9.-]+(:\d+)?\/[a-z0-9._/-]+@sha256:[a-f0-9]{64}$/.test(image)) {
    throw configError(
      key,
      `${JSON.stringify(image)} is not pinned by digest${/:[\w.-]+$/.test(image) ? ' (tags such as :latest can move under a deployment)' : ''}`,
      'leave pipekit:image unset and `pulumi up` builds and pins the image itself; to use one built elsewhere, pin its digest: ' +
        '`pulumi config set pipekit:image "$(gcloud artifacts docker images describe REGION-docker.pkg.dev/PROJECT/pipekit/pipekit:v1 --format="value(image_summary.fully_qualified_digest)")"` ' +
        '(it looks like REGION-docker.pkg.dev/PROJECT/pipekit/pipekit@sha256:<64 hex>)',
    );
  }
}

function userSecrets(source: ConfigSource): Record<string, pulumi.Output<string>> {
  const raw = source.getObject<unknown>('userSecrets') ?? {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw configError(
      'pipekit:userSecrets',
      'must be a map of ENV_NAME: value',
      'run `pulumi config set --secret --path "pipekit:userSecrets.ALERT_WEBHOOK_URL" https://hooks.slack.com/...`',
    );
  }
  const result: Record<string, pulumi.Output<string>> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (!/^[A-Z_][A-Z0-9_]*$/.test(name) || RESERVED_ENV.test(name)) {
      throw configError(
        `pipekit:userSecrets.${name}`,
        'is not a usable environment variable name',
        'use UPPER_SNAKE_CASE names that do not start with PIPEKIT_, CLOUD_RUN_ or K_',
      );
    }
    if (typeof value !== 'string' || value === '') {
      throw configError(
        `pipekit:userSecrets.${name}`,
        'must be a non-empty string',
        `run \`pulumi config set --secret --path "pipekit:userSecrets.${name}" <value>\``,
      );
    }
    // Read in plain text (the names are needed to plan resources), re-wrapped as secret at once.
    result[name] = pulumi.secret(value);
  }
  return result;
}

function bool(source: ConfigSource, key: string, fallback: boolean): boolean {
  const raw = source.get(key);
  if (raw === undefined) return fallback;
  if (/^(true|yes|1|on)$/i.test(raw)) return true;
  if (/^(false|no|0|off)$/i.test(raw)) return false;
  throw configError(
    `pipekit:${key}`,
    `must be true or false, got ${JSON.stringify(raw)}`,
    `run \`pulumi config set pipekit:${key} ${fallback}\``,
  );
}

function int(source: ConfigSource, key: string, fallback: number): number {
  const raw = source.get(key);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    throw configError(
      `pipekit:${key}`,
      `must be a positive whole number, got ${JSON.stringify(raw)}`,
      `remove it to use the default (${fallback})`,
    );
  }
  return value;
}

function cidr(source: ConfigSource, key: string, fallback: string): string {
  const value = source.get(key) ?? fallback;
  if (!CIDR.test(value))
    throw configError(`pipekit:${key}`, `${JSON.stringify(value)} is not a CIDR range`, `use a range such as ${fallback}`);
  return value;
}

function oneOf<const T extends string>(source: ConfigSource, key: string, values: readonly T[], fallback: T): T {
  const raw = source.get(key) ?? fallback;
  if (!(values as readonly string[]).includes(raw)) {
    throw configError(`pipekit:${key}`, `must be one of ${values.join(', ')}, got ${JSON.stringify(raw)}`, `remove it to use ${fallback}`);
  }
  return raw as T;
}

function configError(key: string, message: string, hint: string): ConfigError {
  return new ConfigError({ file: STACK_FILE(), key, message, hint });
}

function safeStack(): string {
  try {
    return pulumi.getStack() || '<stack>';
  } catch {
    return '<stack>';
  }
}
