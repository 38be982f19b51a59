/**
 * The Pulumi program of this project (`main: infra/` in Pulumi.yaml):
 * pipekit's own components deploy every <pipeline>/pipeline.yaml of the
 * folder above as a Cloud Run job, its schedules as Cloud Scheduler jobs,
 * plus Cloud SQL, the lake bucket, BigQuery, secrets and the console.
 * Configuration keys (`pipekit:*`) are the ones of pipekit's deploy guide.
 */
import { fileURLToPath } from 'node:url';
import { deployProject } from 'pipekit/infra';

const stack = deployProject({ projectDir: fileURLToPath(new URL('..', import.meta.url)) });

export const consoleUrl = stack.consoleUrl;
export const jobNames = stack.jobNames;
export const schedulerJobs = stack.schedulerJobs;
export const lakeBucket = stack.lakeBucket;
export const bigqueryDataset = stack.bigqueryDataset;
export const imageRepository = stack.imageRepository;
export const apiTriggerUrl = stack.apiTriggerUrl;
export const nextStep = stack.nextStep;
