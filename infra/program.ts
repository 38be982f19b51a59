import { isAbsolute, resolve } from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { ConfigError } from '../src/errors.ts';
import type { PipelineSpec } from '../src/project/model.ts';
import { BuildAccount } from './components/build-account.ts';
import { CloudArmorPolicy } from './components/cloud-armor.ts';
import { ConsoleService } from './components/console-service.ts';
import { ContainerImage } from './components/container-image.ts';
import { DataStores } from './components/data-stores.ts';
import { Database } from './components/database.ts';
import { Filestore } from './components/filestore.ts';
import { FunctionSource } from './components/function-source.ts';
import { checkBuildInputs, ImageBuild } from './components/image-build.ts';
import { Functions } from './components/functions.ts';
import { ConsoleLoadBalancer } from './components/load-balancer.ts';
import { Network } from './components/network.ts';
import { PipelineJob } from './components/pipeline-job.ts';
import { ReconcileSchedule } from './components/reconcile-schedule.ts';
import { FUNCTION_SERVICES, ProjectServices, REQUIRED_SERVICES } from './components/project-services.ts';
import type { RuntimeContractArgs } from './components/runtime-contract.ts';
import { Secrets } from './components/secrets.ts';
import { ServiceAccounts } from './components/service-accounts.ts';
import { WorkspaceInit } from './components/workspace-init.ts';
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
  /** The runtime image every workload runs, by digest: built by this stack, or `pipekit:image`. */
  image: pulumi.Output<string>;
  /** The build account (image and functions builds). */
  buildServiceAccount: pulumi.Output<string>;
  dbPasswordSecret: pulumi.Output<string>;
  apiTokenSecret: pulumi.Output<string>;
  /** HTTP functions (unset without an image or with `pipekit:functions false`). Under `iam` auth, call with an identity token. */
  apiTriggerUrl?: pulumi.Output<string>;
  backfillUrl?: pulumi.Output<string>;
  /** The functions' own service account (may only run the pipeline jobs). */
  functionsServiceAccount?: pulumi.Output<string>;
}

/**
 * Builds the whole kit from validated config and the pipelines read from
 * pipeline.yaml. Everything that can be wrong in config was checked before
 * this runs, so no resource is created for a stack that cannot work.
 */
export function deployPipekit(config: InfraConfig, pipelines: readonly PipelineSpec[]): PipekitStackOutputs {
  const { project, region, prefix } = config;
  checkBucketsAgainstTriggers(config, pipelines);
  // The build's inputs are read now, so a broken checkout fails before any resource exists.
  if (!config.image) checkBuildInputs(REPO_ROOT);

  const services = new ProjectServices(`${prefix}-services`, {
    project,
    services: config.functions ? [...REQUIRED_SERVICES, ...FUNCTION_SERVICES] : REQUIRED_SERVICES,
  });
  const afterApis = { dependsOn: [services] };

  const accounts = new ServiceAccounts(`${prefix}-accounts`, { project, prefix, console: config.console }, afterApis);
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
  // Cloud SQL and Filestore come after the peering, and go before it (and the subnet) on destroy.
  const afterPeering = { dependsOn: [services, network.privateServicesConnection, network.teardown] };
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
  const gcsBuckets = watchedBuckets(pipelines);
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
      // A gcs-triggered run reads the object that triggered it.
      watchedBuckets: gcsBuckets,
    },
    afterApis,
  );
  const repository = new ContainerImage(`${prefix}-image`, { project, region, repositoryId: prefix }, afterApis);
  const builder = new BuildAccount(
    `${prefix}-build`,
    {
      project,
      region,
      prefix,
      bucketName: config.buildBucket,
      repository: repository.repository,
      deletionProtection: config.deletionProtection,
    },
    afterApis,
  );
  const images = resolveImages(config, pipelines, { repository, builder, afterApis: [services] });

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
    imageRepository: repository.repositoryUrl,
    image: images.image,
    buildServiceAccount: builder.email,
    dbPasswordSecret: secrets.dbPasswordSecretId,
    apiTokenSecret: secrets.apiTokenSecretId,
  };

  // Workloads start only once their secrets have a version and the databases exist, and on
  // destroy they go before the network teardown (they egress through the subnet).
  const afterData = { dependsOn: [services, database, filestore, network.teardown, ...secrets.versions] };
  const runtime: RuntimeContractArgs = {
    project,
    region,
    schedulerRegion: config.schedulerRegion,
    dbHost: database.privateIp,
    dbServerCa: database.serverCa,
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

  // The share is made writable for the image's non-root user before any workload mounts it.
  const workspaceReady: pulumi.Resource[] = [];
  if (images.initImage) {
    const init = new WorkspaceInit(
      `${prefix}-workspace-init`,
      {
        project,
        region,
        prefix,
        image: images.initImage,
        serviceAccountEmail: accounts.jobs.email,
        filestoreId: filestore.instance.id,
        deletionProtection: config.deletionProtection,
        runtime,
      },
      afterData,
    );
    workspaceReady.push(init);
  } else {
    pulumi.log.warn(
      'pipekit:image is set without pipekit:workspaceInitImage: the Filestore share stays owned by root until it is made writable for uid 1000 (docs/deploy.md, "Images built elsewhere").',
    );
  }
  const afterWorkspace = { dependsOn: [...afterData.dependsOn, ...workspaceReady] };

  // The console first: the jobs link their alerts to it.
  if (config.console) {
    const consoleService = new ConsoleService(
      `${prefix}-console`,
      {
        project,
        region,
        image: images.image,
        prefix,
        serviceAccountEmail: accounts.console.email,
        apiTokenSecret: secrets.apiTokenSecretId,
        deletionProtection: config.deletionProtection,
        runtime,
      },
      afterWorkspace,
    );
    const armor = config.cloudArmor
      ? new CloudArmorPolicy(
          `${prefix}-armor`,
          { project, allowedCidrs: config.allowedCidrs, rateLimitPerMinute: config.rateLimitPerMinute },
          afterApis,
        )
      : undefined;
    if (!armor) {
      pulumi.log.warn(
        'pipekit:cloudArmor is false: the console has no IP allowlist, WAF or rate limit in front of it; only its own sign-in protects it.',
      );
    }
    const lb = new ConsoleLoadBalancer(
      `${prefix}-lb`,
      { project, region, serviceName: consoleService.serviceName, domain: config.domain, securityPolicy: armor?.selfLink },
      afterApis,
    );
    outputs.consoleUrl = lb.url;
    outputs.consoleIp = lb.ipAddress;
  }

  const jobRuntime: RuntimeContractArgs = { ...runtime, consoleUrl: outputs.consoleUrl };
  const jobs: PipelineJob[] = [];
  for (const pipeline of pipelines) {
    const job = new PipelineJob(
      jobNameFor(prefix, pipeline.name),
      {
        pipeline,
        project,
        region,
        schedulerRegion: config.schedulerRegion,
        image: images.image,
        jobPrefix: prefix,
        serviceAccountEmail: accounts.jobs.email,
        schedulerServiceAccountEmail: accounts.scheduler.email,
        jobRunnerRole: accounts.jobRunnerRole.name,
        // The jobs' own reads of executions (run reconciliation) are granted by ReconcileSchedule.
        extraRunners: accounts.consoleRunnerRole ? [{ member: accounts.consoleMember, role: accounts.consoleRunnerRole.name }] : [],
        deletionProtection: config.deletionProtection,
        runtime: jobRuntime,
      },
      afterWorkspace,
    );
    outputs.schedulerJobs.push(...job.schedulers.map((s) => s.name));
    jobs.push(job);
  }

  if (jobs[0]) {
    new ReconcileSchedule(
      `${prefix}-reconcile`,
      {
        project,
        region,
        schedulerRegion: config.schedulerRegion,
        prefix,
        jobNames: jobs.map((j) => j.job.name),
        schedulerServiceAccountEmail: accounts.scheduler.email,
        readers: config.console ? [accounts.jobsMember, accounts.consoleMember] : [accounts.jobsMember],
      },
      { dependsOn: [services, ...jobs] },
    );
  }

  if (config.functions) {
    deployFunctions(config, pipelines, { services, jobs, secrets, outputs, builder, repository, gcsBuckets });
  }
  return outputs;
}

/**
 * Config that only the pipelines can prove wrong, checked before any resource
 * is declared: a bucket the stack uploads code to must not be one a `gcs:`
 * trigger watches, or every deployment would start pipelines.
 */
function checkBucketsAgainstTriggers(config: InfraConfig, pipelines: readonly PipelineSpec[]): void {
  const watched = watchedBuckets(pipelines);
  const uploads: [string, string, boolean][] = [
    ['pipekit:functionsSourceBucket', config.functionsSourceBucket, config.functions],
    ['pipekit:buildBucket', config.buildBucket, true],
  ];
  for (const [key, bucket, used] of uploads) {
    if (!used || !watched.includes(bucket)) continue;
    throw new ConfigError({
      file: `Pulumi.${pulumi.getStack()}.yaml`,
      key,
      message: `${bucket} is also watched by a gcs trigger: every deployment would start pipelines`,
      hint: `set ${key} to a bucket no pipeline watches`,
    });
  }
}

/** Every bucket a `gcs:` trigger watches, sorted, once. */
function watchedBuckets(pipelines: readonly PipelineSpec[]): string[] {
  return [...new Set(pipelines.flatMap((p) => p.triggers.flatMap((t) => (t.type === 'gcs' ? [t.bucket] : []))))].sort();
}

/**
 * The images the workloads run, by digest: built here with Cloud Build
 * (the default), or `pipekit:image` (and `pipekit:workspaceInitImage`) for
 * images built elsewhere.
 */
function resolveImages(
  config: InfraConfig,
  _pipelines: readonly PipelineSpec[],
  deps: { repository: ContainerImage; builder: BuildAccount; afterApis: pulumi.Resource[] },
): { image: pulumi.Output<string>; initImage?: pulumi.Output<string> } {
  if (config.image) {
    return {
      image: pulumi.output(config.image),
      initImage: config.workspaceInitImage ? pulumi.output(config.workspaceInitImage) : undefined,
    };
  }
  const build = new ImageBuild(
    `${config.prefix}-image-build`,
    {
      project: config.project,
      region: config.region,
      repositoryUrl: deps.repository.repositoryUrl,
      bucketName: deps.builder.bucket.name,
      serviceAccountEmail: deps.builder.email,
      repoRoot: REPO_ROOT,
      pipelinesDir: isAbsolute(config.pipelinesDir) ? config.pipelinesDir : resolve(REPO_ROOT, config.pipelinesDir),
    },
    // Cloud Build must be enabled, and the build account able to read the source and push, before it starts.
    { dependsOn: [...deps.afterApis, deps.repository, ...deps.builder.grants] },
  );
  return { image: build.image, initImage: build.initImage };
}

/**
 * The three Cloud Run functions, built from a source archive uploaded here.
 * IAM auth unless `pipekit:functionsAuth token` is set, which is the only
 * thing in the stack that grants `allUsers` anything, and says so.
 */
function deployFunctions(
  config: InfraConfig,
  pipelines: readonly PipelineSpec[],
  deps: {
    services: ProjectServices;
    jobs: PipelineJob[];
    secrets: Secrets;
    outputs: PipekitStackOutputs;
    builder: BuildAccount;
    repository: ContainerImage;
    gcsBuckets: string[];
  },
): void {
  const { project, region, prefix } = config;
  if (pipelines.length === 0) {
    pulumi.log.warn('pipekit:functions is on but there are no pipelines: the functions would have nothing to start, so none are deployed.');
    return;
  }
  const { gcsBuckets } = deps;
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
      buildServiceAccount: deps.builder.resourceName,
      dockerRepository: deps.repository.repositoryId,
    },
    // Job grants name the jobs by string, the token is mounted by version, and the build account must be able to build.
    { dependsOn: [deps.services, ...deps.jobs, ...deps.secrets.versions, ...deps.builder.grants] },
  );
  deps.outputs.apiTriggerUrl = functions.apiTriggerUrl;
  deps.outputs.backfillUrl = functions.backfillUrl;
  deps.outputs.functionsServiceAccount = functions.serviceAccountEmail;
}
