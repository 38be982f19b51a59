import { afterEach, describe, expect, it } from 'vitest';
import { loadIoProfile } from '../../src/config/io-config.ts';
import { ConfigError } from '../../src/errors.ts';
import { createTestProject, type TestProject } from '../support/project.ts';
import { openConnectors } from '../../src/io/connectors.ts';

let project: TestProject | undefined;
afterEach(() => project?.remove());

function config(yaml: string): string {
  project = createTestProject('io', {});
  project.write('io_config.yaml', yaml);
  return `${project.root}/io_config.yaml`;
}

describe('io_config.yaml', () => {
  it('renders env_var with and without defaults, keeping Mage keys', async () => {
    const file = config(`dev:\n  POSTGRES_HOST: "{{ env_var('PGH') }}"\n  POSTGRES_PORT: "{{ env_var('PGP', '5433') }}"\n`);
    const profile = await loadIoProfile(file, { profile: 'dev', env: { PGH: 'db.internal' } });
    expect(profile.get('POSTGRES_HOST')).toBe('db.internal');
    expect(profile.int('POSTGRES_PORT', 0)).toBe(5433);
  });

  it('names the unset variable, the file and the key (Mage would render "None")', async () => {
    const file = config(`dev:\n  POSTGRES_PASSWORD: "{{ env_var('POSTGRES_PASSWORD') }}"\n`);
    const error = await loadIoProfile(file, { profile: 'dev', env: {} }).catch((e) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('io_config.yaml (dev.POSTGRES_PASSWORD)');
    expect(error.message).toContain('environment variable POSTGRES_PASSWORD is not set');
    expect(error.hint).toContain("env_var('POSTGRES_PASSWORD', 'value')");
  });

  it('lists the profiles when the one asked for does not exist', async () => {
    const file = config('local:\n  LAKE_URI: lake\ncloud:\n  LAKE_URI: gs://b/p\n');
    const error = await loadIoProfile(file, { profile: 'prod', env: {} }).catch((e) => e);
    expect(error.message).toContain('there is no profile "prod"');
    expect(error.hint).toContain('local, cloud');
  });

  it('takes the profile from PIPEKIT_PROFILE, default local', async () => {
    const file = config('local:\n  WAREHOUSE: duckdb\ncloud:\n  WAREHOUSE: bigquery\n');
    expect((await loadIoProfile(file, { env: {} })).get('WAREHOUSE')).toBe('duckdb');
    expect((await loadIoProfile(file, { env: { PIPEKIT_PROFILE: 'cloud' } })).get('WAREHOUSE')).toBe('bigquery');
  });

  it("renders only the chosen profile: another profile's missing variables do not matter", async () => {
    const file = config(`local:\n  LAKE_URI: lake\ncloud:\n  LAKE_URI: "gs://{{ env_var('BUCKET') }}/lake"\n`);
    expect((await loadIoProfile(file, { profile: 'local', env: {} })).get('LAKE_URI')).toBe('lake');
  });

  it("resolves {{ secret('name') }} from the local secrets file, and names a missing one", async () => {
    const file = config(`local:\n  POSTGRES_PASSWORD: "{{ secret('db_password') }}"\n`);
    project!.write('.pipekit/secrets.env', '# local secrets\ndb_password="s3cret"\n');
    expect((await loadIoProfile(file, { profile: 'local', env: {} })).get('POSTGRES_PASSWORD')).toBe('s3cret');
    project!.write('.pipekit/secrets.env', 'other=1\n');
    const error = await loadIoProfile(file, { profile: 'local', env: {} }).catch((e) => e);
    expect(error.message).toContain('secret "db_password" is not defined');
  });

  it('rejects an unknown template name instead of rendering it empty', async () => {
    const file = config(`local:\n  LAKE_URI: "{{ bucket }}/lake"\n`);
    const error = await loadIoProfile(file, { profile: 'local', env: {} }).catch((e) => e);
    expect(error.message).toContain('unknown name "bucket"');
  });

  it('passes DUCKDB_MEMORY_LIMIT to the warehouse (default 256MB) and names the key when it is not an amount', async () => {
    const setting = async (yaml: string) => {
      const io = openConnectors(await loadIoProfile(config(yaml), { profile: 'local', env: {} }));
      try {
        const t = await (await io.warehouse()).query("SELECT current_setting('memory_limit') AS m");
        return String(t.getChild('m')!.get(0));
      } finally {
        await io.close();
      }
    };
    expect(await setting('local:\n  DUCKDB_PATH: wh.duckdb\n')).toMatch(/^(256\.0 MiB|244\.1 MiB)$/);
    expect(await setting('local:\n  DUCKDB_PATH: wh.duckdb\n  DUCKDB_MEMORY_LIMIT: 1GB\n')).toMatch(/^(1\.0 GiB|953\.6 MiB)$/);
    const error = await setting('local:\n  DUCKDB_PATH: wh.duckdb\n  DUCKDB_MEMORY_LIMIT: lots\n').catch((e) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/local\.DUCKDB_MEMORY_LIMIT.*"lots" is not an amount of memory/s);
  });
});
