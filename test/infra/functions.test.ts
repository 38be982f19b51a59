import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ARCHIVE_ENTRY, functionSourceFiles } from '../../infra/components/function-source.ts';
import { REPO_ROOT } from '../../infra/pipelines-source.ts';
import { ConfigError } from '../../src/errors.ts';
import { PROJECT, REGION, deployStack, makePipelinesDir, resolve, taxiPipelineYaml, type DeployedStack } from './harness.ts';

const FUNCTIONS_SA = `pipekit-functions@${PROJECT}.iam.gserviceaccount.com`;
const CONSOLE_MEMBER = `serviceAccount:pipekit-console@${PROJECT}.iam.gserviceaccount.com`;
const FUNCTION = 'gcp:cloudfunctionsv2/function:Function';
const INVOKER = 'gcp:cloudrunv2/serviceIamMember:ServiceIamMember';

/** Three pipelines: two watch `raw-drop` (one of them twice), one watches `landing-zone`, one has no gcs trigger. */
function pipelinesWithGcsTriggers(): string {
  const dir = makePipelinesDir({
    yellow_taxi: taxiPipelineYaml('yellow_taxi'),
    green_taxi: taxiPipelineYaml(
      'green_taxi',
      `  - { name: on_upload, gcs: { bucket: raw-drop, prefix: green/ } }
  - { name: on_csv, gcs: { bucket: raw-drop, prefix: csv/ } }
  - { name: by_api, api: true }`,
    ),
    fhv_taxi: taxiPipelineYaml(
      'fhv_taxi',
      `  - { name: on_landing, gcs: { bucket: landing-zone, prefix: fhv/ } }
  - { name: on_raw, gcs: { bucket: raw-drop, prefix: fhv/ } }`,
    ),
  });
  // Local state and dependencies inside the project folder must not ship.
  mkdirSync(join(dir, '.pipekit', 'lake'), { recursive: true });
  writeFileSync(join(dir, '.pipekit', 'lake', 'big.parquet'), 'x');
  mkdirSync(join(dir, 'node_modules', 'left-pad'), { recursive: true });
  writeFileSync(join(dir, 'node_modules', 'left-pad', 'index.js'), 'x');
  writeFileSync(join(dir, '.env'), 'SECRET=1');
  return dir;
}

/** Archive paths of the object's source, an AssetArchive as the mock monitor hands it back. */
async function archivePaths(object: { inputs: any }): Promise<string[]> {
  const source = object.inputs.source;
  expect(pulumi.asset.Archive.isInstance(source)).toBe(true);
  return Object.keys(await source.assets).sort();
}

describe('functions with the default config', () => {
  let stack: DeployedStack;
  let dir: string;
  beforeAll(async () => {
    dir = pipelinesWithGcsTriggers();
    stack = await deployStack(dir);
  });

  it('deploys apiTrigger and backfill over HTTP, built from the uploaded archive', () => {
    const fns = stack.ofType(FUNCTION);
    const byName = Object.fromEntries(fns.map((f) => [f.inputs.name, f.inputs]));
    expect(byName['pipekit-api-trigger'].buildConfig).toMatchObject({ runtime: 'nodejs20', entryPoint: 'apiTrigger' });
    expect(byName['pipekit-backfill'].buildConfig.entryPoint).toBe('backfill');
    const object = stack.one('gcp:storage/bucketObject:BucketObject');
    for (const fn of fns) {
      expect(fn.inputs.buildConfig.source.storageSource).toEqual({ bucket: `${PROJECT}-pipekit-fn-source`, object: object.inputs.name });
      expect(fn.inputs.location).toBe(REGION);
    }
  });

  it('runs them as their own service account, with IAM auth and the job target in env', () => {
    for (const fn of stack.ofType(FUNCTION)) {
      expect(fn.inputs.serviceConfig.serviceAccountEmail).toBe(FUNCTIONS_SA);
      expect(fn.inputs.serviceConfig.environmentVariables).toMatchObject({
        PIPEKIT_FUNCTIONS_AUTH: 'iam',
        PIPEKIT_JOB_PREFIX: 'pipekit',
        GOOGLE_CLOUD_PROJECT: PROJECT,
        PIPEKIT_REGION: REGION,
        PIPEKIT_PROJECT: 'pipelines',
      });
      // Compiled code: nothing transpiles TypeScript at a cold start.
      expect(fn.inputs.serviceConfig.environmentVariables.NODE_OPTIONS).toBeUndefined();
    }
    expect(stack.ofType('gcp:serviceaccount/account:Account').map((a) => a.inputs.accountId)).toContain('pipekit-functions');
  });

  it('binds the runner role (run + runWithOverrides only) on each pipeline job, and nowhere else', () => {
    const role = stack.one('gcp:projects/iAMCustomRole:IAMCustomRole', 'pipekit-functions-runner-role');
    expect([...role.inputs.permissions].sort()).toEqual(['run.jobs.run', 'run.jobs.runWithOverrides']);
    const roleName = `projects/${PROJECT}/roles/pipekit_pipeline_runner`;
    const onJobs = stack
      .ofType('gcp:cloudrunv2/jobIamMember:JobIamMember')
      .filter((b) => b.inputs.member === `serviceAccount:${FUNCTIONS_SA}`);
    expect(onJobs.every((b) => b.inputs.role === roleName)).toBe(true);
    expect(onJobs.map((b) => b.inputs.name).sort()).toEqual(['pipekit-fhv-taxi', 'pipekit-green-taxi', 'pipekit-yellow-taxi']);
    const elsewhere = stack.resources.filter((r) => r.inputs.role === roleName && r.type !== 'gcp:cloudrunv2/jobIamMember:JobIamMember');
    expect(elsewhere).toEqual([]);
  });

  it('deploys one gcsTrigger per distinct bucket named by gcs triggers', () => {
    const gcs = stack.ofType(FUNCTION).filter((f) => f.inputs.eventTrigger);
    expect(gcs).toHaveLength(2);
    const buckets = gcs.map((f) => f.inputs.eventTrigger.eventFilters.find((e: any) => e.attribute === 'bucket').value).sort();
    expect(buckets).toEqual(['landing-zone', 'raw-drop']);
    for (const f of gcs) {
      expect(f.inputs.buildConfig.entryPoint).toBe('gcsTrigger');
      expect(f.inputs.eventTrigger).toMatchObject({
        eventType: 'google.cloud.storage.object.v1.finalized',
        serviceAccountEmail: FUNCTIONS_SA,
        triggerRegion: REGION,
      });
    }
  });

  it('grants the API token secret to the functions once, and nothing public: only their own account may invoke the gcs functions', () => {
    const tokenReaders = stack
      .ofType('gcp:secretmanager/secretIamMember:SecretIamMember')
      .filter((r) => r.inputs.secretId === 'pipekit-api-token' && r.inputs.member === `serviceAccount:${FUNCTIONS_SA}`);
    expect(tokenReaders).toHaveLength(1);
    const invokers = stack.ofType(INVOKER);
    expect(invokers).toHaveLength(2);
    expect(invokers.every((i) => i.inputs.member === `serviceAccount:${FUNCTIONS_SA}` && i.inputs.role === 'roles/run.invoker')).toBe(true);
    expect(JSON.stringify(stack.resources.map((r) => r.inputs))).not.toMatch(/allUsers|allAuthenticatedUsers/);
  });

  it('uploads the source archive to a private bucket under a content-addressed name', () => {
    expect(stack.one('gcp:storage/bucket:Bucket', 'pipekit-fn-source-bucket').inputs).toMatchObject({
      name: `${PROJECT}-pipekit-fn-source`,
      uniformBucketLevelAccess: true,
      publicAccessPrevention: 'enforced',
      location: REGION,
    });
    const object = stack.one('gcp:storage/bucketObject:BucketObject');
    expect(object.inputs.bucket).toBe(`${PROJECT}-pipekit-fn-source`);
    expect(object.inputs.name).toMatch(/^functions\/source-[0-9a-f]{16}\.zip$/);
  });

  it('archives what the functions run, with the deployed pipelines at pipelines/, and never local state or dependencies', async () => {
    const paths = await archivePaths(stack.one('gcp:storage/bucketObject:BucketObject'));
    for (const path of [
      'index.js',
      'dist/functions/index.js',
      'dist/src/cloud/job-launcher.js',
      'functions/index.ts',
      'functions/package.json',
      'src/cloud/job-launcher.ts',
      'src/cloud/naming.ts',
      'bin/pipekit.js',
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'pipelines/io_config.yaml',
      'pipelines/green_taxi/pipeline.yaml',
      'pipelines/green_taxi/blocks/load_yellow_taxi.ts',
    ]) {
      expect(paths).toContain(path);
    }
    expect(paths.filter((p) => /(^|\/)(node_modules|\.pipekit|test-artifacts|bench-results|\.git)(\/|$)|(^|\/)\.env$/.test(p))).toEqual([]);
    // Nothing of infra/ (the Pulumi SDK is a devDependency; src/cloud owns the names) and no tests.
    expect(paths.filter((p) => p.startsWith('infra/'))).toEqual([]);
    expect(paths.some((p) => p.startsWith('test/') || p.startsWith('docs/'))).toBe(false);
  });

  it('exports the function URLs and account', async () => {
    expect(await resolve(stack.outputs.apiTriggerUrl)).toBe(`https://${REGION}-${PROJECT}.cloudfunctions.net/pipekit-api-trigger`);
    expect(await resolve(stack.outputs.backfillUrl)).toBe(`https://${REGION}-${PROJECT}.cloudfunctions.net/pipekit-backfill`);
    expect(await resolve(stack.outputs.functionsServiceAccount)).toBe(FUNCTIONS_SA);
  });

  it('enables the APIs the functions need', () => {
    const services = stack.ofType('gcp:projects/service:Service').map((s) => s.inputs.service);
    for (const api of ['cloudfunctions', 'cloudbuild', 'eventarc', 'pubsub']) expect(services).toContain(`${api}.googleapis.com`);
  });
});

describe('the console', () => {
  let stack: DeployedStack;
  beforeAll(async () => {
    stack = await deployStack(pipelinesWithGcsTriggers());
  });

  it('may pause, resume and read Cloud Scheduler jobs through a project-level custom role, and nothing more on Scheduler', () => {
    const role = stack.one('gcp:projects/iAMCustomRole:IAMCustomRole', 'pipekit-accounts-scheduler-toggle');
    expect([...role.inputs.permissions].sort()).toEqual([
      'cloudscheduler.jobs.get',
      'cloudscheduler.jobs.pause',
      'cloudscheduler.jobs.resume',
    ]);
    const grants = stack
      .ofType('gcp:projects/iAMMember:IAMMember')
      .filter((g) => g.inputs.role === `projects/${PROJECT}/roles/pipekit_scheduler_toggle`);
    expect(grants.map((g) => g.inputs.member)).toEqual([CONSOLE_MEMBER]);
    expect(stack.resources.some((r) => /cloudscheduler\.admin/.test(r.inputs.role ?? ''))).toBe(false);
  });

  it('may run (with overrides), follow and cancel executions on each pipeline job', () => {
    const role = stack.one('gcp:projects/iAMCustomRole:IAMCustomRole', 'pipekit-accounts-console-runner');
    expect(role.inputs.permissions).toEqual(
      expect.arrayContaining(['run.jobs.run', 'run.jobs.runWithOverrides', 'run.executions.get', 'run.executions.cancel']),
    );
    const console = stack.ofType('gcp:cloudrunv2/jobIamMember:JobIamMember').filter((b) => b.inputs.member === CONSOLE_MEMBER);
    const bindings = console.filter((b) => b.inputs.role !== 'roles/run.viewer');
    expect(bindings.map((b) => b.inputs.name).sort()).toEqual(['pipekit-fhv-taxi', 'pipekit-green-taxi', 'pipekit-yellow-taxi']);
    expect(bindings.every((b) => b.inputs.role === `projects/${PROJECT}/roles/pipekit_console_runner`)).toBe(true);
    // The reconciler's reads (task attempts and how they ended), on the same jobs only.
    const viewer = console.filter((b) => b.inputs.role === 'roles/run.viewer');
    expect(viewer.map((b) => b.inputs.name).sort()).toEqual(['pipekit-fhv-taxi', 'pipekit-green-taxi', 'pipekit-yellow-taxi']);
  });

  it('runs `console --port 8080` with the job target in env', () => {
    const container = stack.one('gcp:cloudrunv2/service:Service').inputs.template.containers[0];
    expect(container.args).toEqual(['console', '--port', '8080']);
    const env = Object.fromEntries(container.envs.map((e: any) => [e.name, e.value]));
    expect(env).toMatchObject({ PIPEKIT_JOB_PREFIX: 'pipekit', GOOGLE_CLOUD_PROJECT: PROJECT, PIPEKIT_REGION: REGION });
  });
});

describe('pipekit:functionsAuth token (explicit opt-in)', () => {
  afterEach(() => vi.restoreAllMocks());

  it('is the only way to get a public invoker: allUsers on apiTrigger and backfill only, reported with a warning', async () => {
    const warn = vi.spyOn(pulumi.log, 'warn');
    const stack = await deployStack(pipelinesWithGcsTriggers(), { functionsAuth: 'token' });
    const publicGrants = stack.resources.filter((r) => /allUsers|allAuthenticatedUsers/.test(JSON.stringify(r.inputs)));
    expect(publicGrants.map((r) => `${r.type} ${r.name} ${r.inputs.member} ${r.inputs.role}`).sort()).toEqual([
      `${INVOKER} pipekit-functions-api-trigger-public allUsers roles/run.invoker`,
      `${INVOKER} pipekit-functions-backfill-public allUsers roles/run.invoker`,
    ]);
    for (const fn of stack.ofType(FUNCTION)) expect(fn.inputs.serviceConfig.environmentVariables.PIPEKIT_FUNCTIONS_AUTH).toBe('token');
    expect(warn.mock.calls.map((c) => String(c[0])).join('\n')).toMatch(/functionsAuth is token.*public.*allUsers/);
  });

  it('the default config warns about nothing public', async () => {
    const warn = vi.spyOn(pulumi.log, 'warn');
    await deployStack(pipelinesWithGcsTriggers());
    expect(warn.mock.calls.map((c) => String(c[0])).join('\n')).not.toMatch(/allUsers|public/);
  });

  it('rejects any other value before declaring anything', async () => {
    await expect(deployStack(pipelinesWithGcsTriggers(), { functionsAuth: 'public' })).rejects.toThrow(
      /pipekit:functionsAuth.*one of iam, token/,
    );
  });
});

describe('pipekit:functions switch', () => {
  it('false: no functions, no source bucket or archive, no functions account', async () => {
    const stack = await deployStack(pipelinesWithGcsTriggers(), { functions: 'false' });
    expect(stack.ofType(FUNCTION)).toEqual([]);
    expect(stack.ofType('gcp:storage/bucketObject:BucketObject')).toEqual([]);
    expect(
      stack
        .ofType('gcp:storage/bucket:Bucket')
        .map((b) => b.name)
        .sort(),
    ).toEqual(['pipekit-build-bucket', 'pipekit-data-lake']);
    expect(stack.ofType('gcp:serviceaccount/account:Account').map((a) => a.inputs.accountId)).not.toContain('pipekit-functions');
    expect(stack.outputs.apiTriggerUrl).toBeUndefined();
  });

  it("build as the stack's build account and push to its repository, never with Cloud Build's default account", async () => {
    const stack = await deployStack(pipelinesWithGcsTriggers(), { image: undefined });
    for (const fn of stack.ofType(FUNCTION)) {
      expect(fn.inputs.buildConfig.serviceAccount).toBe(
        `projects/${PROJECT}/serviceAccounts/pipekit-build@${PROJECT}.iam.gserviceaccount.com`,
      );
      expect(fn.inputs.buildConfig.dockerRepository).toBe(`projects/${PROJECT}/locations/${REGION}/repositories/pipekit`);
      // The build account's grants exist before any function build starts.
      expect(fn.options.dependsOn).toEqual(
        expect.arrayContaining(['pipekit-build-push', 'pipekit-build-logs', 'pipekit-build-read-function-sources']),
      );
    }
  });

  it('no gcs trigger: no gcsTrigger function and no Eventarc grants', async () => {
    const stack = await deployStack(makePipelinesDir({ yellow_taxi: taxiPipelineYaml('yellow_taxi') }));
    expect(
      stack
        .ofType(FUNCTION)
        .map((f) => f.inputs.name)
        .sort(),
    ).toEqual(['pipekit-api-trigger', 'pipekit-backfill']);
    expect(stack.ofType('gcp:projects/iAMMember:IAMMember').map((g) => g.inputs.role)).not.toContain('roles/eventarc.eventReceiver');
  });
});

describe('functionSourceFiles on this repository', () => {
  it('holds the functions, their imports and the lockfile, not node_modules or local state', () => {
    const paths = [...functionSourceFiles(REPO_ROOT, join(REPO_ROOT, 'pipelines')).keys()];
    expect(paths).toEqual(
      expect.arrayContaining(['functions/index.ts', 'src/project/load-project.ts', 'src/cloud/naming.ts', 'package-lock.json']),
    );
    expect(paths.some((p) => /(^|\/)(node_modules|\.pipekit)\//.test(p))).toBe(false);
    expect(paths.some((p) => p.endsWith('.log'))).toBe(false);
    // The build's time would make every build a new archive, and a redeploy.
    expect(paths).not.toContain('dist/.build-stamp');
  });

  it('refuses a checkout whose dist/ is older than its sources, saying to build', () => {
    const root = mkdtempSync(join(tmpdir(), 'pipekit-fn-stale-'));
    try {
      mkdirSync(join(root, 'dist'));
      writeFileSync(join(root, 'dist', '.build-stamp'), '');
      utimesSync(join(root, 'dist', '.build-stamp'), new Date(0), new Date(0));
      mkdirSync(join(root, 'src'));
      writeFileSync(join(root, 'src', 'index.ts'), '');
      expect(() => functionSourceFiles(root, join(root, 'pipelines'))).toThrow(
        /changed since the last build: the functions would deploy code older than the sources/,
      );
      expect(() => functionSourceFiles(root, join(root, 'pipelines'))).toThrow(ConfigError);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('the archive entry is plain JavaScript that imports the compiled functions', () => {
    expect(ARCHIVE_ENTRY).toMatch(/^import '\.\/dist\/functions\/index\.js';$/m);
    expect(() => new Function(ARCHIVE_ENTRY.replace(/^import .*$/m, ''))).not.toThrow();
  });
});
