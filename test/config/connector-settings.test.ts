import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadIoProfile } from '../../src/config/io-config.ts';
import { IoProfile } from '../../src/config/io-profile.ts';
import { ConfigError } from '../../src/errors.ts';
import { openConnectors } from '../../src/io/connectors.ts';
import { createPool } from '../../src/io/postgres/connection.ts';
import { createPostgresConnector } from '../../src/io/postgres/connector.ts';
import { connectorSettings, connectorSettingsProblems, POSTGRES_DEFAULTS } from '../../src/io/settings/index.ts';
import { openRunStore } from '../../src/engine/session.ts';
import { createTestProject, REPO_ROOT, type TestProject } from '../support/project.ts';

// The embedded server is replaced by a recorder: these tests are about which
// port and credentials it is started with, not about starting one.
const started = vi.hoisted(() => [] as { port: number; user: string; password: string; database: string }[]);
vi.mock('../../src/services/postgres-server.ts', () => ({
  ensurePostgresRunning: async (options: (typeof started)[number]) => {
    started.push(options);
    throw new Error('recorded');
  },
}));

let project: TestProject | undefined;
afterEach(() => {
  project?.remove();
  started.length = 0;
});

const profile = (values: Record<string, unknown>) => new IoProfile({ name: 'local', file: '/p/io_config.yaml', root: '/p', values });

function config(yaml: string): string {
  project = createTestProject('settings', {});
  project.write('io_config.yaml', yaml);
  return `${project.root}/io_config.yaml`;
}

describe('Postgres settings: one parse, one set of defaults', () => {
  it('an embedded profile without a port starts its server on the port it then connects to (regression: 5433 vs 5432)', async () => {
    const local = profile({ POSTGRES_EMBEDDED: true, POSTGRES_DBNAME: 'ny_taxi' });
    const settings = connectorSettings(local).postgres;
    const connector = createPostgresConnector(settings);
    await expect(connector.query('SELECT 1')).rejects.toThrow('recorded');
    await connector.close();
    const pool = createPool(settings);
    await pool.end();
    expect(started).toEqual([
      { root: '/p', port: POSTGRES_DEFAULTS.embedded.port, user: 'postgres', password: 'postgres', database: 'ny_taxi' },
    ]);
    expect(pool.options).toMatchObject({
      port: started[0]!.port,
      user: started[0]!.user,
      password: started[0]!.password,
      database: 'ny_taxi',
    });
  });

  it('the run store starts the same server with its own database', async () => {
    await expect(
      openRunStore(profile({ POSTGRES_EMBEDDED: 'true', POSTGRES_DBNAME: 'ny_taxi', RUN_STORE_DBNAME: 'pipekit' })),
    ).rejects.toThrow('recorded');
    expect(started).toEqual([{ root: '/p', port: 5433, user: 'postgres', password: 'postgres', database: 'pipekit' }]);
  });

  it("a server you run gets Mage's defaults; bad values name the key", () => {
    expect(connectorSettings(profile({})).postgres).toMatchObject({
      host: '127.0.0.1',
      port: 5432,
      password: '',
      database: 'postgres',
      schema: 'public',
      sslmode: 'disable',
      connectTimeoutMs: 10_000,
      label: 'postgres@127.0.0.1:5432/postgres',
    });
    expect(() => connectorSettings(profile({ POSTGRES_SSLMODE: 'verify' })).postgres).toThrow(
      /local\.POSTGRES_SSLMODE.*"verify" is not an sslmode/,
    );
    expect(() => connectorSettings(profile({ POSTGRES_PORT: '70000' })).postgres).toThrow(/local\.POSTGRES_PORT.*not a TCP port/);
  });

  it('parses each connector once, and only when it is used', () => {
    const p = profile({ WAREHOUSE: 'snowflake', LAKE_URI: 'lake' });
    const settings = connectorSettings(p);
    expect(connectorSettings(p) === settings).toBe(true);
    expect(settings.lake).toBe(settings.lake);
    expect(settings.lake).toEqual({ kind: 'local', path: '/p/lake' });
    expect(() => settings.warehouse).toThrow(ConfigError);
  });

  it("pipekit validate gets every connector's problems at once", () => {
    expect(connectorSettingsProblems(profile({ WAREHOUSE: 'duckdb' }))).toEqual([]);
    const problems = connectorSettingsProblems(
      profile({ POSTGRES_SSLMODE: 'on', WAREHOUSE: 'snowflake', HTTP_IDLE_TIMEOUT: 'soon' }),
    ) as ConfigError[];
    expect(problems.map((p) => p.key)).toEqual(['local.POSTGRES_SSLMODE', 'local.WAREHOUSE', 'local.HTTP_IDLE_TIMEOUT']);
  });

  it('lake and warehouse: typed values with their defaults', () => {
    expect(connectorSettings(profile({})).lake).toEqual({ kind: 'local', path: '/p/.pipekit/lake' });
    expect(connectorSettings(profile({ LAKE_URI: 'file:///data/lake' })).lake).toEqual({ kind: 'local', path: '/data/lake' });
    expect(() => connectorSettings(profile({ LAKE_URI: 's3://b/lake' })).lake).toThrow(/local\.LAKE_URI.*s3:\/\/b\/lake is not a lake/);
    expect(connectorSettings(profile({})).warehouse).toEqual({
      kind: 'duckdb',
      path: '/p/.pipekit/warehouse.duckdb',
      memoryLimit: undefined,
    });
    expect(
      connectorSettings(profile({ WAREHOUSE: 'bigquery', LAKE_URI: 'gs://b/lake/', BIGQUERY_DATASET: 'ny_taxi' })).warehouse,
    ).toMatchObject({
      kind: 'bigquery',
      location: 'US',
      dataset: 'ny_taxi',
      stagingUri: 'gs://b/lake/_staging',
    });
  });
});

describe('io_config keys', () => {
  it('a misspelled key is a ConfigError naming the file, profile, key and the nearest valid key', async () => {
    const file = config('local:\n  POSTGRES_HOST: 127.0.0.1\n  POSTGRES_PROT: 5432\n');
    const error = await loadIoProfile(file, { profile: 'local', env: {} }).catch((e) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(`${file} (local.POSTGRES_PROT)`);
    expect(error.message).toContain('did you mean POSTGRES_PORT?');
    expect(error.hint).toContain('rename it to POSTGRES_PORT');
  });

  it("accepts the keys of Mage's other connectors, and explains Mage's inline Google key", async () => {
    const ok = config('local:\n  SNOWFLAKE_USER: me\n  AWS_REGION: eu-west-1\n  LAKE_URI: lake\n');
    expect((await loadIoProfile(ok, { profile: 'local', env: {} })).get('LAKE_URI')).toBe('lake');
    const inline = config('local:\n  GOOGLE_SERVICE_ACC_KEY:\n    type: service_account\n');
    const error = await loadIoProfile(inline, { profile: 'local', env: {} }).catch((e) => e);
    expect(error.message).toContain('(local.GOOGLE_SERVICE_ACC_KEY)');
    expect(error.hint).toContain('GOOGLE_SERVICE_ACC_KEY_FILEPATH');
  });

  it('code cannot read a misspelled key or inject an untyped client (checked by tsc)', () => {
    const p = profile({});
    // @ts-expect-error not an io_config key
    expect(p.get('POSTGRES_PROT')).toBeUndefined();
    // @ts-expect-error a string is not a BigQuery client
    const io = openConnectors(p, { clients: { bigquery: 'client' } });
    expect(io.profile).toBe('local');
  });
});

describe('one home for connector keys', () => {
  it('only src/io/settings reads POSTGRES_*, LAKE_URI, WAREHOUSE, DUCKDB_*, GOOGLE_*, BIGQUERY_* or HTTP_* from a profile', () => {
    const read = /\.(get|has|int|bool|path|require)\(\s*'(POSTGRES_|LAKE_URI|WAREHOUSE|DUCKDB_|GOOGLE_|BIGQUERY_|HTTP_|RUN_STORE_)/;
    const files = (readdirSync(join(REPO_ROOT, 'src'), { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'));
    const offenders = files
      .map((f) => join(REPO_ROOT, 'src', f))
      .filter((file) => !file.includes(join('src', 'io', 'settings')) && read.test(readFileSync(file, 'utf8')))
      .map((file) => relative(REPO_ROOT, file));
    expect(offenders).toEqual([]);
  });
});
