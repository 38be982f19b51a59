import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import { parseInfraConfig, type ConfigSource } from '../../infra/config.ts';

const DIGEST = `europe-west1-docker.pkg.dev/p/pipekit/pipekit@sha256:${'b'.repeat(64)}`;

function source(values: Record<string, unknown>): ConfigSource {
  const all: Record<string, unknown> = { 'gcp:project': 'p', allowedCidrs: ['203.0.113.7/32'], ...values };
  return {
    get: (key) => (all[key] === undefined || typeof all[key] === 'object' ? undefined : String(all[key])),
    getObject: <T>(key: string) => all[key] as T | undefined,
  };
}

function errorOf(values: Record<string, unknown>): ConfigError {
  try {
    parseInfraConfig(source(values));
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('parseInfraConfig', () => {
  it('documents safe defaults', () => {
    const config = parseInfraConfig(source({}));
    expect(config).toMatchObject({
      region: 'us-central1',
      zone: 'us-central1-b',
      prefix: 'pipekit',
      pipelinesDir: 'pipelines',
      deletionProtection: true,
      dbBackups: true,
      dbVersion: 'POSTGRES_16',
      filestoreTier: 'BASIC_HDD',
      filestoreCapacityGb: 1024,
      lakeBucket: 'p-pipekit-lake',
      bigqueryDataset: 'ny_taxi',
      bigqueryLocation: 'US',
      console: true,
      cloudArmor: true,
      rateLimitPerMinute: 600,
      functions: true,
      functionsAuth: 'iam',
      functionsSourceBucket: 'p-pipekit-fn-source',
    });
    expect(config.image).toBeUndefined();
  });

  it('accepts an image by digest', () => {
    expect(parseInfraConfig(source({ image: DIGEST })).image).toBe(DIGEST);
  });

  it.each([
    'europe-west1-docker.pkg.dev/p/pipekit/pipekit:latest',
    'europe-west1-docker.pkg.dev/p/pipekit/pipekit:v1',
    'europe-west1-docker.pkg.dev/p/pipekit/pipekit',
    'pipekit@sha256:short',
  ])('rejects %s and says how to get the digest', (image) => {
    const error = errorOf({ image });
    expect(error.key).toBe('pipekit:image');
    expect(error.message).toMatch(/not pinned by digest/);
    expect(error.hint).toMatch(/gcloud artifacts docker images describe .*fully_qualified_digest/);
  });

  it('explains the quota switch when Cloud Armor would deny everyone', () => {
    const error = errorOf({ allowedCidrs: [] });
    expect(error.key).toBe('pipekit:allowedCidrs');
    expect(error.hint).toMatch(/pipekit:cloudArmor false/);
  });

  it('rejects malformed CIDRs, domains, booleans and Filestore sizes with the key to fix', () => {
    expect(errorOf({ allowedCidrs: ['203.0.113.7'] }).key).toBe('pipekit:allowedCidrs');
    expect(errorOf({ domain: 'https://x.example.com/' }).key).toBe('pipekit:domain');
    expect(errorOf({ deletionProtection: 'maybe' }).key).toBe('pipekit:deletionProtection');
    expect(errorOf({ filestoreTier: 'BASIC_SSD', filestoreCapacityGb: 1024 }).message).toMatch(/2560/);
  });

  it('validates the functions keys: a boolean switch, iam or token auth, a source bucket apart from the lake', () => {
    expect(errorOf({ functions: 'sometimes' }).key).toBe('pipekit:functions');
    expect(errorOf({ functionsAuth: 'public' }).message).toMatch(/one of iam, token/);
    expect(parseInfraConfig(source({ functionsAuth: 'token' })).functionsAuth).toBe('token');
    expect(errorOf({ functionsSourceBucket: 'Bad_Bucket!' }).key).toBe('pipekit:functionsSourceBucket');
    expect(errorOf({ functionsSourceBucket: 'p-pipekit-lake' }).hint).toMatch(/own bucket/);
  });

  it('requires the project', () => {
    expect(errorOf({ 'gcp:project': undefined }).hint).toMatch(/pulumi config set gcp:project/);
  });

  it('lets PIPEKIT_PIPELINES_DIR win over pipekit:pipelinesDir', () => {
    expect(parseInfraConfig(source({ pipelinesDir: 'from-config' }), { PIPEKIT_PIPELINES_DIR: '/from/env' }).pipelinesDir).toBe(
      '/from/env',
    );
    expect(parseInfraConfig(source({ pipelinesDir: 'from-config' }), {}).pipelinesDir).toBe('from-config');
  });

  it('refuses user secrets that would shadow the runtime contract', () => {
    expect(errorOf({ userSecrets: { PIPEKIT_DB_PASSWORD: 'x' } }).key).toBe('pipekit:userSecrets.PIPEKIT_DB_PASSWORD');
    expect(errorOf({ userSecrets: { 'not-an-env': 'x' } }).key).toBe('pipekit:userSecrets.not-an-env');
  });
});

describe('issue 12: config that used to break a first deployment', () => {
  it('refuses the all-zero placeholder digest, naming the key and the fix', () => {
    const error = errorOf({ image: `us-central1-docker.pkg.dev/p/pipekit/pipekit@sha256:${'0'.repeat(64)}` });
    expect(error.key).toBe('pipekit:image');
    expect(error.message).toMatch(/placeholder/);
    expect(error.hint).toMatch(/pulumi config rm pipekit:image/);
  });

  it('Pulumi.example.yaml, copied as it is, is a valid stack that builds its own image', async () => {
    const { readFileSync } = await import('node:fs');
    const { parse } = await import('yaml');
    const example = parse(readFileSync(new URL('../../Pulumi.example.yaml', import.meta.url), 'utf8')).config as Record<string, unknown>;
    const values = Object.fromEntries(Object.entries(example).map(([k, v]) => [k.startsWith('pipekit:') ? k.slice(8) : k, v]));
    const config = parseInfraConfig(source(values));
    expect(config.image).toBeUndefined();
    expect(config.buildBucket).toBe('my-zoomcamp-project-pipekit-build');
  });

  it('names the bucket keys that would collide with the image sources', () => {
    expect(errorOf({ buildBucket: 'p-pipekit-lake' }).key).toBe('pipekit:buildBucket');
    expect(errorOf({ buildBucket: 'Bad_Bucket' }).key).toBe('pipekit:buildBucket');
    expect(errorOf({ workspaceInitImage: DIGEST }).key).toBe('pipekit:workspaceInitImage');
  });
});
