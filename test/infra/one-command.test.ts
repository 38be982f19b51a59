import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FUNCTION_SOURCES_CONDITION } from '../../infra/components/build-account.ts';
import { imageSourcePaths, parseBuildOutput } from '../../infra/components/image-build.ts';
import { sourceFiles, sourceHash } from '../../infra/components/source-files.ts';
import { REPO_ROOT } from '../../infra/pipelines-source.ts';
import { importGraph } from '../structure/import-graph.ts';
import {
  BUILT_IMAGE,
  BUILT_INIT_IMAGE,
  SERVER_CA_PEM,
  PROJECT,
  REGION,
  deployStack,
  makePipelinesDir,
  resolve,
  taxiPipelineYaml,
  type DeployedStack,
  type RecordedResource,
} from './harness.ts';

/**
 * `pulumi up` with no pipekit:image, on a fresh project: the stack builds the
 * image itself and everything runs it by digest (issue 12 A, defects 1–6).
 */
const JOB = 'gcp:cloudrunv2/job:Job';
const JOBS_SA = `serviceAccount:pipekit-jobs@${PROJECT}.iam.gserviceaccount.com`;
const BUILD_SA = `serviceAccount:pipekit-build@${PROJECT}.iam.gserviceaccount.com`;
let stack: DeployedStack;

beforeAll(async () => {
  const dir = makePipelinesDir({
    yellow_taxi: taxiPipelineYaml('yellow_taxi'),
    green_taxi: taxiPipelineYaml('green_taxi', '  - { name: on_upload, gcs: { bucket: raw-drop, prefix: green/ } }'),
  });
  stack = await deployStack(dir, { image: undefined, userSecrets: { ALERT_WEBHOOK_URL: 'https://hooks.example.com/T000/B000/XXXX' } });
}, 60_000);

const containerOf = (r: RecordedResource) => (r.type === JOB ? r.inputs.template.template.containers[0] : r.inputs.template.containers[0]);
const envOf = (r: RecordedResource): Record<string, any> =>
  Object.fromEntries(containerOf(r).envs.map((e: any) => [e.name, e.value ?? e.valueSource]));
const pipelineJobs = () => stack.ofType(JOB).filter((j) => j.inputs.name !== 'pipekit-workspace-init');

describe('the image is built inside pulumi up', () => {
  it('uploads the build context as an archive named by the hash of its sources, in the build bucket', () => {
    const archive = stack.one('gcp:storage/bucketObject:BucketObject', 'pipekit-image-build-source');
    expect(archive.inputs.bucket).toBe(`${PROJECT}-pipekit-build`);
    expect(archive.inputs.name).toMatch(/^image\/source-[0-9a-f]{16}\.zip$/);
  });

  it('runs Cloud Build as the build account, tagging by source hash, once the API, repository and grants exist', () => {
    const build = stack.one('command:local:Command', 'pipekit-image-build-cloud-build');
    const hash = /source-([0-9a-f]{16})/.exec(
      stack.one('gcp:storage/bucketObject:BucketObject', 'pipekit-image-build-source').inputs.name,
    )![1];
    expect(build.inputs.create).toMatch(/--import tsx infra\/build\/build-image\.ts$/);
    expect(build.inputs.environment).toMatchObject({
      PIPEKIT_BUILD_PROJECT: PROJECT,
      PIPEKIT_BUILD_SERVICE_ACCOUNT: `pipekit-build@${PROJECT}.iam.gserviceaccount.com`,
      PIPEKIT_BUILD_IMAGE: `${REGION}-docker.pkg.dev/${PROJECT}/pipekit/pipekit:src-${hash}`,
    });
    expect(build.inputs.triggers[0]).toBe(`image/source-${hash}.zip`);
    expect(build.options.dependsOn).toEqual(
      expect.arrayContaining([
        'pipekit-services-cloudbuild',
        'pipekit-services-artifactregistry',
        'pipekit-image-repo',
        'pipekit-build-push',
        'pipekit-build-read-source',
        'pipekit-build-logs',
        'pipekit-image-build-source',
      ]),
    );
  });

  it('deploys every job and the console by the digest the build reported, never by tag', async () => {
    for (const workload of [...pipelineJobs(), stack.one('gcp:cloudrunv2/service:Service')]) {
      expect(containerOf(workload).image).toBe(BUILT_IMAGE);
    }
    expect(await resolve(stack.outputs.image)).toBe(BUILT_IMAGE);
  });

  it('a build that reports no digest fails the deployment instead of deploying a tag', () => {
    expect(() => parseBuildOutput(`{"image":"r/p/pipekit:src-1","initImage":"r/p/i@sha256:${'c'.repeat(64)}"}`)).toThrow(
      /no digest for image/,
    );
    expect(() => parseBuildOutput('Step 1/9 : FROM node')).toThrow(/instead of its result/);
  });
});

describe('the build context', () => {
  it('is what .dockerignore lets through plus the Dockerfile, and the deployed pipelines', () => {
    expect(imageSourcePaths(REPO_ROOT)).toEqual(
      expect.arrayContaining(['Dockerfile', '.dockerignore', 'package.json', 'package-lock.json', 'bin', 'src']),
    );
    expect(imageSourcePaths(REPO_ROOT)).not.toContain('infra');
  });

  it('an unchanged tree hashes the same (no rebuild); a changed pipeline hashes differently', () => {
    const dir = makePipelinesDir({ yellow_taxi: taxiPipelineYaml('yellow_taxi') });
    const hash = () => sourceHash(sourceFiles(REPO_ROOT, imageSourcePaths(REPO_ROOT), dir, 'test'));
    const before = hash();
    expect(hash()).toBe(before);
    const file = join(dir, 'yellow_taxi', 'pipeline.yaml');
    writeFileSync(file, `${readFileSync(file, 'utf8')}# changed\n`);
    expect(hash()).not.toBe(before);
  });

  it('defect 1: everything the CLI and the console import at run time is inside the image (nothing from infra/)', () => {
    const included = imageSourcePaths(REPO_ROOT);
    const edges = importGraph(REPO_ROOT, ['src', 'bin']).filter((e) => !e.typeOnly);
    const reachable = new Set<string>(['bin/pipekit.js', 'src/console/server.ts', 'src/cli/main.ts']);
    for (let grew = true; grew; ) {
      grew = false;
      for (const e of edges) if (reachable.has(e.from) && !reachable.has(e.to)) reachable.add(e.to), (grew = true);
    }
    const outside = [...reachable].filter((path) => !included.some((root) => path === root || path.startsWith(`${root}/`)));
    expect(outside).toEqual([]);
  });

  it('defect 2: the Dockerfile builds without BuildKit (no cache mounts, no syntax directive)', () => {
    const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).not.toMatch(/--mount=|^# *syntax=/m);
    expect(dockerfile).toMatch(/^FROM .* AS workspace-init$/m);
    // The runtime stays the last stage: a plain `docker build .` gives the runtime image.
    expect(dockerfile.match(/^FROM .* AS (\S+)$/gm)!.at(-1)).toMatch(/AS runtime$/);
  });
});

describe('defect 3: a dedicated, least-privilege build account', () => {
  it("may push to this stack's repository, read its source bucket, the functions' source copies and write logs, nothing more", () => {
    const grants = stack.resources.filter((r) => r.inputs.member === BUILD_SA).map((r) => `${r.type.split(':').at(-1)} ${r.inputs.role}`);
    expect(grants.sort()).toEqual([
      'BucketIAMMember roles/storage.objectViewer',
      'IAMMember roles/logging.logWriter',
      'IAMMember roles/storage.objectViewer',
      'RepositoryIamMember roles/artifactregistry.writer',
    ]);
    const projectRead = stack.resources.find(
      (r) =>
        r.inputs.member === BUILD_SA &&
        r.type.endsWith('IAMMember') &&
        r.inputs.role === 'roles/storage.objectViewer' &&
        r.inputs.condition,
    );
    expect(projectRead!.inputs.condition.expression).toBe(FUNCTION_SOURCES_CONDITION);
    expect(stack.one('gcp:artifactregistry/repositoryIamMember:RepositoryIamMember').inputs.repository).toBe('pipekit');
  });
});

describe('defect 6: the Filestore workspace is writable without a manual job', () => {
  it('runs the workspace-init image once, as a job with the share mounted, before any workload starts', () => {
    const init = stack.ofType(JOB).find((j) => j.inputs.name === 'pipekit-workspace-init')!;
    expect(containerOf(init).image).toBe(BUILT_INIT_IMAGE);
    expect(containerOf(init).volumeMounts).toEqual([{ name: 'workspace', mountPath: '/mnt/workspace' }]);
    expect(init.inputs.template.template.volumes[0].nfs).toMatchObject({ path: '/workspace', readOnly: false });
    expect(init.inputs.runExecutionToken).toMatch(/^i[0-9a-f]{8}$/);
    expect(`pipekit-workspace-init-${init.inputs.runExecutionToken}`.length).toBeLessThan(63);
    for (const workload of [...pipelineJobs(), stack.one('gcp:cloudrunv2/service:Service')]) {
      expect(workload.options.dependsOn, workload.name).toContain(init.name);
    }
  });
});

describe('defect 4: a gcs-triggered run can read the object that triggered it', () => {
  it('gives the jobs read access on every watched bucket', () => {
    const reads = stack
      .ofType('gcp:storage/bucketIAMMember:BucketIAMMember')
      .filter((g) => g.inputs.member === JOBS_SA && g.inputs.bucket === 'raw-drop');
    expect(reads.map((g) => g.inputs.role)).toEqual(['roles/storage.objectViewer']);
  });
});

describe('defect 5: alerts and links reach the cloud', () => {
  it('feeds userSecrets.ALERT_WEBHOOK_URL to PIPEKIT_ALERT_WEBHOOK, by secret reference', () => {
    for (const job of pipelineJobs()) {
      expect(envOf(job).PIPEKIT_ALERT_WEBHOOK).toEqual({ secretKeyRef: { secret: 'pipekit-alert-webhook-url', version: 'latest' } });
    }
  });

  it('sets PIPEKIT_CONSOLE_URL on the jobs to the load balancer URL', async () => {
    const url = await resolve(stack.outputs.consoleUrl);
    expect(url).toMatch(/^http:\/\//);
    for (const job of pipelineJobs()) expect(envOf(job).PIPEKIT_CONSOLE_URL).toBe(url);
  });

  it('the cloud profile reads exactly those variables', () => {
    const ioConfig = readFileSync(join(REPO_ROOT, 'pipelines', 'io_config.yaml'), 'utf8');
    expect(ioConfig).toMatch(/ALERT_WEBHOOK_URL: .*env_var\('PIPEKIT_ALERT_WEBHOOK'/);
    expect(ioConfig).toMatch(/CONSOLE_URL: .*env_var\('PIPEKIT_CONSOLE_URL'/);
  });
});

describe('defect 7: the Cloud SQL server certificate is verified, and only used grants exist', () => {
  it("gives jobs and console verify-ca with the instance's server CA", () => {
    for (const workload of [...pipelineJobs(), stack.one('gcp:cloudrunv2/service:Service')]) {
      expect(envOf(workload)).toMatchObject({ PIPEKIT_DB_SSLMODE: 'verify-ca', PIPEKIT_DB_SERVER_CA: `${SERVER_CA_PEM}\n` });
    }
  });

  it('grants roles/cloudsql.client to no one (private IP and a password need no connector)', () => {
    expect(stack.resources.filter((r) => r.inputs.role === 'roles/cloudsql.client')).toEqual([]);
  });

  it('the cloud profile passes the CA to the client', () => {
    expect(readFileSync(join(REPO_ROOT, 'pipelines', 'io_config.yaml'), 'utf8')).toMatch(
      /POSTGRES_SSL_CA: .*env_var\('PIPEKIT_DB_SERVER_CA'/,
    );
  });
});

describe('APIs are enabled before first use', () => {
  it('enables Cloud Build, Artifact Registry and Logging for the build on every stack', () => {
    const services = stack.ofType('gcp:projects/service:Service').map((s) => s.inputs.service);
    expect(services).toEqual(
      expect.arrayContaining([
        'cloudbuild.googleapis.com',
        'artifactregistry.googleapis.com',
        'logging.googleapis.com',
        'iam.googleapis.com',
      ]),
    );
  });

  it('every Google resource waits for the APIs', () => {
    const late = stack.resources.filter(
      (r) =>
        r.type.startsWith('gcp:') &&
        r.type !== 'gcp:projects/service:Service' &&
        !r.options.dependsOn.some((d) => d.startsWith('pipekit-services-')),
    );
    expect(late.map((r) => `${r.type} ${r.name}`)).toEqual([]);
  });
});

describe('bad config fails before any resource is created, naming the key and the fix', () => {
  it.each([
    ['buildBucket', { buildBucket: 'raw-drop' }, /pipekit:buildBucket.*raw-drop is also watched by a gcs trigger/],
    ['functionsSourceBucket', { functionsSourceBucket: 'raw-drop' }, /pipekit:functionsSourceBucket.*watched/],
    ['image', { image: `us-central1-docker.pkg.dev/p/pipekit/pipekit@sha256:${'0'.repeat(64)}` }, /pipekit:image.*placeholder/],
  ])('%s', async (_key, config, message) => {
    const dir = makePipelinesDir({
      green_taxi: taxiPipelineYaml('green_taxi', '  - { name: on_upload, gcs: { bucket: raw-drop, prefix: green/ } }'),
    });
    await expect(deployStack(dir, config)).rejects.toThrow(message);
  });
});

describe('a checkout the image cannot be built from fails before any resource', () => {
  it('names the missing file', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { checkBuildInputs } = await import('../../infra/components/image-build.ts');
    const repo = mkdtempSync(join(tmpdir(), 'pipekit-repo-'));
    writeFileSync(join(repo, 'Dockerfile'), 'FROM node:20\n');
    expect(() => checkBuildInputs(repo)).toThrow(/\.dockerignore: is missing/);
    writeFileSync(join(repo, '.dockerignore'), 'node_modules\n');
    writeFileSync(join(repo, 'cloudbuild.yaml'), 'steps: []\n');
    expect(() => checkBuildInputs(repo)).toThrow(/must start with `\*`/);
  });
});

describe("grants where used: run reconciliation reads executions (the jobs' reads: test/infra/reconcile-schedule.test.ts)", () => {
  it("lets the console list a job's tasks as well as cancel its executions", () => {
    const role = stack.ofType('gcp:projects/iAMCustomRole:IAMCustomRole').find((r) => r.inputs.roleId === 'pipekit_console_runner')!;
    expect(role.inputs.permissions).toEqual(expect.arrayContaining(['run.executions.get', 'run.executions.cancel', 'run.tasks.list']));
  });
});
