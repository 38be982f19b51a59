/**
 * The Pulumi program (`main: infra/` in Pulumi.yaml). Reads and validates
 * the stack config and every pipelines/<name>/pipeline.yaml first, then
 * declares the stack; a new pipeline folder becomes a new Cloud Run job on
 * the next `pulumi up` without any change here.
 */
import { readInfraConfig } from './config.ts';
import { loadDeployedPipelines } from './pipelines-source.ts';
import { deployPipekit } from './program.ts';

const config = readInfraConfig();
const pipelines = loadDeployedPipelines(config.pipelinesDir, config.prefix);
const stack = deployPipekit(config, pipelines);

/** `https://<domain>` or `http://<ip>`; unset with `pipekit:console false`. */
export const consoleUrl = stack.consoleUrl;
/** Point the domain's A record here. */
export const consoleIp = stack.consoleIp;
/** pipeline → Cloud Run job, for `gcloud run jobs execute <job>`. */
export const jobNames = stack.jobNames;
export const schedulerJobs = stack.schedulerJobs;
export const lakeBucket = stack.lakeBucket;
export const bigqueryDataset = stack.bigqueryDataset;
/** For `gcloud sql connect` and the Cloud SQL Auth Proxy. */
export const sqlConnectionName = stack.sqlConnectionName;
export const sqlPrivateIp = stack.sqlPrivateIp;
export const filestoreIp = stack.filestoreIp;
export const networkName = stack.networkName;
export const subnetName = stack.subnetName;
/** Where the images are pushed (pulumi up's build, and the functions' builds). */
export const imageRepository = stack.imageRepository;
/** The image every job and the console run, by digest. */
export const image = stack.image;
/** The account every build runs as. */
export const buildServiceAccount = stack.buildServiceAccount;
export const dbPasswordSecret = stack.dbPasswordSecret;
export const apiTokenSecret = stack.apiTokenSecret;
/** The HTTP functions; with the default IAM auth call them with `Authorization: Bearer $(gcloud auth print-identity-token)`. */
export const apiTriggerUrl = stack.apiTriggerUrl;
export const backfillUrl = stack.backfillUrl;
/** The functions' own service account: may only run the pipeline jobs and read the API token. */
export const functionsServiceAccount = stack.functionsServiceAccount;
export const region = config.region;
