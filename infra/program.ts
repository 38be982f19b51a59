import { isAbsolute, resolve } from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { ConfigError } from '../src/errors.ts';
import type { PipelineSpec } from '../src/project/model.ts';
import { CloudArmorPolicy } from './components/cloud-armor.ts';
import { ConsoleService } from './components/console-service.ts';
import { ContainerImage } from './components/container-image.ts';
import { DataStores } from './components/data-stores.ts';
import { Database } from './components/database.ts';
import { Filestore } from './components/filestore.ts';
import { FunctionSource } from './components/function-source.ts';
import { Functions } from './components/functions.ts';
import { ConsoleLoadBalancer } from './components/load-balancer.ts';
import { Network } from './components/network.ts';
import { PipelineJob } from './components/pipeline-job.ts';
import { FUNCTION_SERVICES, ProjectServices, REQUIRED_SERVICES } from './components/project-services.ts';
import type { RuntimeContractArgs } from './components/runtime-contract.ts';
import { Secrets } from './components/secrets.ts';
import { ServiceAccounts } from './components/service-accounts.ts';
import type { InfraConfig } from './config.ts';
import { jobNameFor } from '../src/cloud/naming.ts';
import { REPO_ROOT } from './pipelines-source.ts';

/** What the stack exports (see infra/index.ts). */
export interface PipekitStackOutputs {
  consoleUrl?: pulumi.Output<string>;
  consoleIp?: pulumi.Output<string>;
  /** pipeline name → Cloud Run job name. */
  jobNames: Record<string, string>;
  /** Cloud Scheduler job names, one per scheduled trigger. */
  schedulerJobs: pulumi.Output<string>[];
  lakeBucket: pulumi.Output<string>;
  bigqueryDataset: pulumi.Output<string>;
  sqlConnectionName: pulumi.Output<string>;
  sqlPrivateIp: pulumi.Output<string>;
  filestoreIp: pulumi.Output<string>;
  /** VPC and subnet names, for one-off `gcloud run jobs` that need the same network (docs/deploy.md). */
  networkName: pulumi.Output<string>;
  subnetName: pulumi.Output<string>;
  imageRepository: pulumi.Output<string>;
  image?: string;
  dbPasswordSecret: pulumi.Output<string>;
  apiTokenSecret: pulumi.Output<string>;
  /** HTTP functions (unset without an image or with `pipekit:functions false`). Under `iam` auth, call with an identity token. */
  apiTriggerUrl?: pulumi.Output<string>;
  backfillUrl?: pulumi.Output<string>;
  /** The functions' own service account (may only run the pipeline jobs). */
  functionsServiceAccount?: pulumi.Output<string>;
  /** Set while no image is configured: what to do before the jobs can be deployed. */
  nextStep?: string;
}

/**
 * Builds the whole kit from validated config and the pipelines read from
 * pipeline.yaml. Everything that can be wrong in config was checked before
 * this runs, so no resource is created for a stack that cannot work.
 */
export function deployPipekit(config: InfraConfig, pipelines: readonly PipelineSpec[]): PipekitStackOutputs {
  const { project, region, prefix } = config;

  const services = new ProjectServices(`${prefix}-services`, {
    project,
    services: config.functions && config.image ? [...REQUIRED_SERVICES, ...FUNCTION_SERVICES] : REQUIRED_SERVICES,
  });
  const afterApis = { dependsOn: [services] };

  // The console's roles only matter once it can be deployed (it needs the image).
  const consoleOn = config.console && config.image !== undefined;
  const accounts = new ServiceAccounts(`${prefix}-accounts`, { project, prefix, console: consoleOn }, afterApis);
  const network = new Network(`${prefix}-network`, { project, region, subnetCidr: config.subnetCidr }, afterApis);
  const secrets = new Secrets(
    `${prefix}-secrets`,
    {
      project,
      prefix,
      userSecrets: config.userSecrets,
      dbPasswordReaders: [accounts.jobsMember, accounts.consoleMember],
      // The functions' account is granted by the Functions component itself (it owns that account).
      apiTokenReaders: [accounts.consoleMember],
      userSecretReaders: [accounts.jobsMember, accounts.consoleMember],
    },
    afterApis,
  );
  const afterPeering = { dependsOn: [services, network.privateServicesConnection] };
  const database = new Database(
    `${prefix}-db`,
    {
      project,
      region,
      networkId: network.networkId,
      tier: config.dbTier,
      databaseVersion: config.dbVersion,
      backups: config.dbBackups,
      deletionProtection: config.deletionProtection,
      user: config.dbUser,
      password: secrets.dbPassword,
      databases: [config.taxiDatabase, config.runsDatabase],
    },
    afterPeering,
  );
  const filestore = new Filestore(
    `${prefix}-workspace`,
    {
      project,
      location: config.filestoreTier === 'REGIONAL' ? region : config.zone,
      networkName: network.networkName,
      tier: config.filestoreTier,
      capacityGb: config.filestoreCapacityGb,
      deletionProtection: config.deletionProtection,
    },
    afterPeering,
  );
  const data = new DataStores(
    `${prefix}-data`,
    {
      project,
      region,
      bucketName: config.lakeBucket,
      datasetId: config.bigqueryDataset,
      datasetLocation: config.bigqueryLocation,
      workspaceRetentionDays: config.workspaceRetentionDays,
      deletionProtection: config.deletionProtection,
      writers: [accounts.jobsMember],
      readers: [accounts.consoleMember],
    },
    afterApis,
  );
  const image = new ContainerImage(`${prefix}-image`, { project, region, repositoryId: prefix, image: config.image }, afterApis);

  const outputs: PipekitStackOutputs = {
    jobNames: Object.fromEntries(pipelines.map((p) => [p.name, jobNameFor(prefix, p.name)])),
    schedulerJobs: [],
    lakeBucket: data.bucketName,
    bigqueryDataset: data.datasetId,
    sqlConnectionName: database.connectionName,
    sqlPrivateIp: database.privateIp,
    filestoreIp: filestore.ipAddress,
    networkName: network.networkName,
    subnetName: network.subnet.name,
    imageRepository: image.repositoryUrl,
    image: config.image,
    dbPasswordSecret: secrets.dbPasswordSecretId,
    apiTokenSecret: secrets.apiTokenSecretId,
  };

  if (!image.imageRef) {
    // First deployment: the repository exists now; the jobs need an image in it.
    pulumi.log.warn('pipekit:image is not set: deployed the foundation only (no pipeline jobs, no console). See the nextStep output.');
    outputs.nextStep =
      `build and push the image, then set it by digest and run \`pulumi up\` again: ` +
      `gcloud builds submit --tag ${region}-docker.pkg.dev/${project}/${prefix}/pipekit:v1 . && ` +
      `pulumi config set pipekit:image "$(gcloud artifacts docker images describe ${region}-docker.pkg.dev/${project}/${prefix}/pipekit:v1 --format='value(image_summary.fully_qualified_digest)')"`;
    return outputs;
  }

  const runtime: RuntimeContractArgs = {
    project,
    region,
    dbHost: database.privateIp,
    dbUser: config.dbUser,
    dbPasswordSecret: secrets.dbPasswordSecretId,
    taxiDatabase: config.taxiDatabase,
    runsDatabase: config.runsDatabase,
    lakeBucket: data.bucketName,
    bigqueryDataset: data.datasetId,
    bigqueryLocation: config.bigqueryLocation,
    jobPrefix: prefix,
    userSecrets: secrets.userSecretEnv,
    nfsServer: filestore.ipAddress,
    nfsPath: filestore.exportPath,
    networkId: network.networkId,
    subnetId: network.subnetId,
  };
  // Workloads start only once their secrets have a version and the databases exist.
  const afterData = { dependsOn: [services, database, filestore, ...secrets.versions] };

  const jobs: PipelineJob[] = [];
  for (const pipeline of pipelines) {
    const job = new PipelineJob(
      jobNameFor(prefix, pipeline.name),
      {
        pipeline,
        project,
        region,
        schedulerRegion: config.schedulerRegion,
        image: image.imageRef,
        jobPrefix: prefix,
        serviceAccountEmail: accounts.jobs.email,
        schedulerServiceAccountEmail: accounts.scheduler.email,
        jobRunnerRole: accounts.jobRunnerRole.name,
        extraRunners: accounts.consoleRunnerRole ? [{ member: accounts.consoleMember, role: accounts.consoleRunnerRole.name }] : [],
        deletionProtection: config.deletionProtection,
        runtime,
      },
      afterData,
    );
    outputs.schedulerJobs.push(...job.schedulers.map((s) => s.name));
    jobs.push(job);
  }

  if (config.functions) {
    deployFunctions(config, pipelines, { services, jobs, secrets, outputs });
  }

  if (config.console) {
    if (config.schedulerRegion !== region) {
      pulumi.log.warn(
        `pipekit:schedulerRegion (${config.schedulerRegion}) differs from gcp:region (${region}): the console pauses and resumes Cloud Scheduler jobs in PIPEKIT_REGION, so its trigger toggles will not find them.`,
      );
    }
    const consoleService = new ConsoleService(
      `${prefix}-console`,
      {
        project,
        region,
        image: image.imageRef,
        prefix,
        serviceAccountEmail: accounts.console.email,
        apiTokenSecret: secrets.apiTokenSecretId,
        deletionProtection: config.deletionProtection,
        runtime,
      },
      afterData,
    );
    const armor = config.cloudArmor
      ? new CloudArmorPolicy(`${prefix}-armor`, { project, allowedCidrs: config.allowedCidrs, rateLimitPerMinute: config.rateLimitPerMinute }, afterApis)
      : undefined;
    if (!armor) {
      pulumi.log.warn('pipekit:cloudArmor is false: the console has no IP allowlist, WAF or rate limit in front of it; only its own sign-in protects it.');
    }
    const lb = new ConsoleLoadBalancer(
      `${prefix}-lb`,
      { project, region, serviceName: consoleService.serviceName, domain: config.domain, securityPolicy: armor?.selfLink },
      afterApis,
    );
    outputs.consoleUrl = lb.url;
    outputs.consoleIp = lb.ipAddress;
  }
  return outputs;
}

/**
 * The three Cloud Run functions, built from a source archive uploaded here.
 * IAM auth unless `pipekit:functionsAuth token` is set, which is the only
 * thing in the stack that grants `allUsers` anything, and says so.
 */
function deployFunctions(
  config: InfraConfig,
  pipelines: readonly PipelineSpec[],
  deps: { services: ProjectServices; jobs: PipelineJob[]; secrets: Secrets; outputs: PipekitStackOutputs },
): void {
  const { project, region, prefix } = config;
  if (pipelines.length === 0) {
    pulumi.log.warn('pipekit:functions is on but there are no pipelines: the functions would have nothing to start, so none are deployed.');
    return;
  }
  const gcsBuckets = [...new Set(pipelines.flatMap((p) => p.triggers.flatMap((t) => (t.type === 'gcs' ? [t.bucket] : []))))].sort();
  if (gcsBuckets.includes(config.functionsSourceBucket)) {
    throw new ConfigError({
      file: `Pulumi.${pulumi.getStack()}.yaml`,
      key: 'pipekit:functionsSourceBucket',
      message: `${config.functionsSourceBucket} is also watched by a gcs trigger: every deployment would start pipelines`,
      hint: 'set pipekit:functionsSourceBucket to a bucket no pipeline watches',
    });
  }
  const afterApis = { dependsOn: [deps.services] };
  const source = new FunctionSource(
    `${prefix}-fn-source`,
    {
      project,
      region,
      bucketName: config.functionsSourceBucket,
      repoRoot: REPO_ROOT,
      pipelinesDir: isAbsolute(config.pipelinesDir) ? config.pipelinesDir : resolve(REPO_ROOT, config.pipelinesDir),
      deletionProtection: config.deletionProtection,
    },
    afterApis,
  );
  if (config.functionsAuth === 'token') {
    pulumi.log.warn(
      'pipekit:functionsAuth is token: apiTrigger and backfill are public (allUsers may invoke them) and only the bearer API token protects them. ' +
        'Remove the key to go back to IAM auth (roles/run.invoker and an identity token).',
    );
  }
  const functions = new Functions(
    `${prefix}-functions`,
    {
      project,
      region,
      prefix,
      pipelines: pipelines.map((p) => p.name),
      gcsBuckets,
      sourceBucket: source.bucketName,
      sourceObject: source.objectName,
      apiTokenSecret: deps.secrets.apiTokenSecretId,
      auth: config.functionsAuth,
      projectDir: 'pipelines',
    },
    // Job grants name the jobs by string, and the token is mounted by version: both must exist first.
    { dependsOn: [deps.services, ...deps.jobs, ...deps.secrets.versions] },
  );
  deps.outputs.apiTriggerUrl = functions.apiTriggerUrl;
  deps.outputs.backfillUrl = functions.backfillUrl;
  deps.outputs.functionsServiceAccount = functions.serviceAccountEmail;
}
