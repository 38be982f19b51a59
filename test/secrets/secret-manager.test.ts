import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadIoProfile } from '../../src/config/io-config.ts';
import { createSecretManagerSource } from '../../src/config/secrets/secret-manager.ts';
import { ConfigError, ConnectionError } from '../../src/errors.ts';
import { startSecretManagerFake, type SecretManagerFake } from './secret-manager-fake.ts';

const PROJECT = 'pipekit-test-123';
let fake: SecretManagerFake;
let dir: string;
beforeAll(async () => {
  fake = await startSecretManagerFake(PROJECT);
  fake.secrets.set('db-password', 's3cret: with spaces ✓');
  fake.secrets.set('other', 'x');
  dir = await mkdtemp(join(tmpdir(), 'pipekit-secrets-'));
});
afterAll(async () => {
  await fake?.close();
  await rm(dir, { recursive: true, force: true });
});

const source = () => createSecretManagerSource({ projectId: PROJECT, client: fake.client() });

describe('Secret Manager source', () => {
  it('reads the latest version of a secret', async () => {
    expect(await source().get('db-password')).toBe('s3cret: with spaces ✓');
    expect(fake.requests.at(-1)).toMatch(`GET /v1/projects/${PROJECT}/secrets/db-password/versions/latest:access`);
  });

  it('reads each secret once per run (cache)', async () => {
    const s = source();
    const before = fake.requests.length;
    const values = await Promise.all([s.get('other'), s.get('other'), s.get('db-password')]);
    expect(await s.get('other')).toBe('x');
    expect(values).toEqual(['x', 'x', 's3cret: with spaces ✓']);
    expect(fake.requests.length - before).toBe(2);
  });

  it('403: names the secret, the permission and the role', async () => {
    fake.denied.add('db-password');
    try {
      const error = await source()
        .get('db-password')
        .catch((e) => e);
      expect(error).toBeInstanceOf(ConnectionError);
      expect(error.message).toContain(`projects/${PROJECT}/secrets/db-password/versions/latest`);
      expect(error.message).toContain('permission denied reading secret "db-password"');
      expect(error.hint).toContain('roles/secretmanager.secretAccessor');
      expect(error.hint).toContain('secretmanager.versions.access');
    } finally {
      fake.denied.delete('db-password');
    }
  });

  it('404: says the secret does not exist and how to create it; a failure is not cached', async () => {
    const s = source();
    const error = await s.get('missing-secret').catch((e) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('secret "missing-secret" does not exist');
    expect(error.hint).toContain('gcloud secrets create missing-secret');
    fake.secrets.set('missing-secret', 'now here');
    expect(await s.get('missing-secret')).toBe('now here');
  });

  it("{{ secret('name') }} in an io_config profile", async () => {
    const file = join(dir, 'io_config.yaml');
    await writeFile(
      file,
      [
        'cloud:',
        `  GOOGLE_PROJECT_ID: ${PROJECT}`,
        '  SECRETS_SOURCE: secret-manager',
        '  POSTGRES_PASSWORD: "{{ secret(\'db-password\') }}"',
        '  POSTGRES_USER: "{{ env_var(\'DB_USER\') }}"',
        '',
      ].join('\n'),
    );
    const profile = await loadIoProfile(file, { profile: 'cloud', env: { DB_USER: 'runner' }, secrets: source() });
    expect(profile.get('POSTGRES_PASSWORD')).toBe('s3cret: with spaces ✓');
    expect(profile.get('POSTGRES_USER')).toBe('runner');
    expect(JSON.stringify(profile)).not.toContain('s3cret');
  });
});
