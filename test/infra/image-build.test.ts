import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/pipelines-source.ts';
import { buildImages, untagged } from '../../infra/build/build-image.ts';
import { ConnectionError } from '../../src/errors.ts';
import { fakeDigest, startCloudBuildFake, type CloudBuildFake } from '../support/cloud-build-fake.ts';

const REPO = 'europe-west1-docker.pkg.dev/zoomcamp-test/pipekit';
let fake: CloudBuildFake;

beforeAll(async () => {
  fake = await startCloudBuildFake();
});
afterAll(() => fake?.close());

const env = () => ({
  PIPEKIT_BUILD_PROJECT: 'zoomcamp-test',
  PIPEKIT_BUILD_REGION: 'europe-west1',
  PIPEKIT_BUILD_BUCKET: 'zoomcamp-test-pipekit-build',
  PIPEKIT_BUILD_OBJECT: 'image/source-0123456789abcdef.zip',
  PIPEKIT_BUILD_SERVICE_ACCOUNT: 'pipekit-build@zoomcamp-test.iam.gserviceaccount.com',
  PIPEKIT_BUILD_IMAGE: `${REPO}/pipekit:src-0123456789abcdef`,
  PIPEKIT_BUILD_INIT_IMAGE: `${REPO}/pipekit-workspace-init:src-0123456789abcdef`,
  PIPEKIT_CLOUD_BUILD_ENDPOINT: fake.url,
});

describe('the image build pulumi up runs', () => {
  it('submits cloudbuild.yaml on the uploaded source as the build account and answers both images by digest', async () => {
    const lines: string[] = [];
    const output = await buildImages(env(), { pollMs: 1, log: (l) => lines.push(l) });
    expect(output).toEqual({
      image: `${REPO}/pipekit@${fakeDigest(`${REPO}/pipekit:src-0123456789abcdef`)}`,
      initImage: `${REPO}/pipekit-workspace-init@${fakeDigest(`${REPO}/pipekit-workspace-init:src-0123456789abcdef`)}`,
    });
    const body = fake.created.at(-1)!;
    expect(body.source).toEqual({ storageSource: { bucket: 'zoomcamp-test-pipekit-build', object: 'image/source-0123456789abcdef.zip' } });
    expect(body.serviceAccount).toBe('projects/zoomcamp-test/serviceAccounts/pipekit-build@zoomcamp-test.iam.gserviceaccount.com');
    // A user-specified build account needs its logs configured; the yaml does it.
    expect(body.options).toMatchObject({ logging: 'CLOUD_LOGGING_ONLY' });
    expect(body.steps.map((s: { args: string[] }) => s.args.slice(0, 3))).toEqual([
      ['build', '--target', 'runtime'],
      ['build', '--target', 'workspace-init'],
    ]);
    expect(lines.some((l) => l.includes('SUCCESS'))).toBe(true);
  });

  it('a failed build is a ConnectionError naming the build and pointing at its log', async () => {
    fake.failNext('FAILURE', 'Build step failure: build step 0 "gcr.io/cloud-builders/docker" failed');
    const error = await buildImages(env(), { pollMs: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).message).toMatch(/build-\d+: ended FAILURE: Build step failure/);
    expect((error as ConnectionError).hint).toMatch(/build log/);
  });

  it('a missing setting names the variable', async () => {
    const { PIPEKIT_BUILD_OBJECT: _, ...rest } = env();
    await expect(buildImages(rest)).rejects.toThrow(/PIPEKIT_BUILD_OBJECT/);
  });

  it('runs as the command resource runs it: one JSON line on stdout, progress on stderr; a failure exits 1 with the reason', async () => {
    const run = (extra: Record<string, string> = {}) =>
      promisify(execFile)('node', ['--import', 'tsx', 'infra/build/build-image.ts'], {
        cwd: REPO_ROOT,
        env: { ...process.env, ...env(), ...extra },
      });
    fake.workingPolls = 0; // the script polls every 5 s
    const { stdout, stderr } = await run();
    expect(JSON.parse(stdout)).toMatchObject({
      image: expect.stringMatching(/pipekit@sha256:[0-9a-f]{64}$/),
      initImage: expect.stringMatching(/@sha256:/),
    });
    expect(stderr).toMatch(/build build-\d+ started/);
    fake.failNext('TIMEOUT', 'build timed out');
    const failed = await run().catch((e: { code: number; stderr: string; stdout: string }) => e);
    expect(failed).toMatchObject({ code: 1, stdout: '' });
    expect((failed as { stderr: string }).stderr).toMatch(/pipekit image build failed: .*ended TIMEOUT: build timed out/);
    fake.workingPolls = 1;
  }, 30_000);

  it('strips tags, not registry ports', () => {
    expect(untagged('localhost:5000/p/pipekit:v1')).toBe('localhost:5000/p/pipekit');
    expect(untagged('localhost:5000/p/pipekit')).toBe('localhost:5000/p/pipekit');
  });
});
