import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadIoProfile } from '../../src/config/io-config.ts';
import { createSecretManagerSource } from '../../src/config/secrets/secret-manager.ts';
import { createPostgresConnector } from '../../src/io/postgres/connector.ts';
import { postgresTarget } from '../../src/io/postgres/connection.ts';
import { createTestDatabase, type TestDatabase } from '../support/postgres.ts';
import { startSecretManagerFake, type SecretManagerFake } from '../secrets/secret-manager-fake.ts';

// The cloud profile as `pipekit new` writes it for Cloud Run + Cloud SQL:
// host from the job's environment (private IP, or the /cloudsql socket
// folder), password from Secret Manager, TLS required on private IP.
const IO_CONFIG = `
version: 0.1.1
cloud:
  GOOGLE_PROJECT_ID: pipekit-test-123
  SECRETS_SOURCE: secret-manager
  POSTGRES_HOST: "{{ env_var('POSTGRES_HOST') }}"
  POSTGRES_PORT: "{{ env_var('POSTGRES_PORT', '5432') }}"
  POSTGRES_DBNAME: "{{ env_var('POSTGRES_DBNAME') }}"
  POSTGRES_USER: "{{ env_var('POSTGRES_USER') }}"
  POSTGRES_PASSWORD: "{{ secret('pipekit-db-password') }}"
  POSTGRES_SSLMODE: "{{ env_var('POSTGRES_SSLMODE', 'require') }}"
  POSTGRES_SCHEMA: ny_taxi
`;

let db: TestDatabase;
let secrets: SecretManagerFake;
let dir: string;
const role = `pk_cloud_${randomBytes(3).toString('hex')}`;
const password = `pw-${randomBytes(6).toString('hex')}`;

beforeAll(async () => {
  db = await createTestDatabase('cloud_sql');
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
  await admin.query(`GRANT ALL ON DATABASE "${db.database}" TO ${role}`);
  await admin.end();
  secrets = await startSecretManagerFake('pipekit-test-123');
  secrets.secrets.set('pipekit-db-password', password);
  dir = await mkdtemp(join(tmpdir(), 'pipekit-cloud-'));
  await writeFile(join(dir, 'io_config.yaml'), IO_CONFIG);
});
afterAll(async () => {
  await db?.drop();
  if (db) {
    const admin = new pg.Client({ connectionString: db.url.replace(/\/[^/]+$/, '/postgres') });
    await admin.connect();
    await admin.query(`DROP ROLE IF EXISTS ${role}`).finally(() => admin.end());
  }
  await secrets?.close();
  await rm(dir, { recursive: true, force: true });
});

const env = (extra: Record<string, string> = {}) => ({
  POSTGRES_HOST: db.host,
  POSTGRES_PORT: String(db.port),
  POSTGRES_DBNAME: db.database,
  POSTGRES_USER: role,
  ...extra,
});
const load = (e: Record<string, string>) =>
  loadIoProfile(join(dir, 'io_config.yaml'), {
    profile: 'cloud',
    env: e,
    secrets: createSecretManagerSource({ projectId: 'pipekit-test-123', client: secrets.client() }),
  });

describe('a cloud profile for Cloud SQL', () => {
  it('renders host from env, password from Secret Manager and SSL mode, and connects', async () => {
    // The suite's server has no TLS: the job's env turns it off, as a socket connection would.
    const profile = await load(env({ POSTGRES_SSLMODE: 'disable' }));
    expect(profile.get('POSTGRES_PASSWORD')).toBe(password);
    expect(profile.get('POSTGRES_HOST')).toBe(db.host);
    expect(profile.toJSON().POSTGRES_PASSWORD).toBe('***');
    expect(secrets.requests.some((r) => r.includes('/secrets/pipekit-db-password/versions/latest:access'))).toBe(true);

    const connector = createPostgresConnector(profile);
    try {
      const result = await connector.query('SELECT current_user AS who, current_database() AS db');
      expect(result.get(0)!.toJSON()).toEqual({ who: role, db: db.database });
    } finally {
      await connector.close();
    }
  });

  it('defaults to POSTGRES_SSLMODE require, and a /cloudsql socket host is kept as a socket folder', async () => {
    const profile = await load(env({ POSTGRES_HOST: '/cloudsql/pipekit-test-123:europe-west1:pipekit' }));
    expect(profile.get('POSTGRES_SSLMODE')).toBe('require');
    expect(postgresTarget(profile).label).toBe(`${role}@/cloudsql/pipekit-test-123:europe-west1:pipekit/${db.database}`);
  });

  it('require against a server without TLS fails with a connection error naming the target', async () => {
    const profile = await load(env());
    const connector = createPostgresConnector(profile);
    try {
      const error = await connector.query('SELECT 1').catch((e) => e);
      expect(error.code).toBe('CONNECTION');
      expect(error.message).toContain(`${role}@${db.host}:${db.port}/${db.database}`);
    } finally {
      await connector.close();
    }
  });
});
