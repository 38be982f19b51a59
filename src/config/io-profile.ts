import { isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../errors.ts';

/**
 * Keys pipekit reads from an io_config.yaml profile. The POSTGRES_* and
 * GOOGLE_* keys are Mage's; the others are what this kit adds.
 */
export const IO_CONFIG_KEYS = {
  POSTGRES_DBNAME: 'database name',
  POSTGRES_SCHEMA: 'default schema for exports',
  POSTGRES_USER: 'user',
  POSTGRES_PASSWORD: 'password',
  POSTGRES_HOST: 'host, or a Cloud SQL socket folder such as /cloudsql/project:region:instance',
  POSTGRES_PORT: 'port',
  POSTGRES_CONNECT_TIMEOUT: 'seconds to wait for a connection',
  POSTGRES_SSLMODE: 'disable | require | verify-ca | verify-full',
  POSTGRES_SSL_CA: 'PEM of the CA the server certificate must chain to (verify-ca, verify-full); the cloud: the Cloud SQL instance CA',
  POSTGRES_EMBEDDED: 'true: pipekit starts its own PostgreSQL in .pipekit/postgres',
  GOOGLE_PROJECT_ID: 'Google Cloud project (defaults to the one of the credentials)',
  GOOGLE_LOCATION: 'BigQuery location for datasets and jobs, e.g. US or europe-west1',
  GOOGLE_SERVICE_ACC_KEY_FILEPATH: 'a service-account key file; leave unset to use Application Default Credentials',
  LAKE_URI: 'the lake: a local folder (relative to the project) or gs://bucket/prefix',
  WAREHOUSE: 'duckdb | bigquery',
  DUCKDB_PATH: 'DuckDB database file (relative to the project)',
  DUCKDB_MEMORY_LIMIT: "DuckDB's memory_limit for the warehouse, e.g. 2GB (default 256MB; bigger work spills to disk)",
  BIGQUERY_DATASET: 'default BigQuery dataset for SQL blocks',
  RUN_STORE_DBNAME: 'database of the run history (default: POSTGRES_DBNAME), schema pipekit',
  WORKSPACE_URI: 'where block outputs are kept between blocks (local folder)',
  WORKSPACE_RETENTION: 'how long block outputs are kept, e.g. 7d',
  ALERT_WEBHOOK_URL: 'Slack-compatible webhook notified when a run fails',
  ALERT_ON_SUCCESS: 'true: alert on succeeded runs too (default: failed and cancelled only)',
  CONSOLE_URL: 'base URL of the console, for links in alerts',
  SECRETS_SOURCE: "where {{ secret('name') }} reads: file (default) | secret-manager",
  SECRETS_FILE: 'the secrets file when SECRETS_SOURCE is file (default .pipekit/secrets.env)',
  HTTP_CONNECT_TIMEOUT: 'how long ctx.io.http waits for a server to answer, e.g. 30s (default)',
  HTTP_IDLE_TIMEOUT: 'how long a download may receive nothing before it fails and is retried, e.g. 60s (default)',
} as const;

export type IoConfigKey = keyof typeof IO_CONFIG_KEYS;

/** One rendered profile of io_config.yaml. */
export class IoProfile {
  readonly name: string;
  /** Absolute path of io_config.yaml, for error messages. */
  readonly file: string;
  /** The project root: relative paths in the profile are resolved against it. */
  readonly root: string;
  private readonly values: Readonly<Record<string, unknown>>;

  constructor(args: { name: string; file: string; root: string; values: Record<string, unknown> }) {
    this.name = args.name;
    this.file = args.file;
    this.root = args.root;
    this.values = Object.freeze({ ...args.values });
  }

  has(key: IoConfigKey): boolean {
    const value = this.values[key];
    return value !== undefined && value !== null && value !== '';
  }

  get(key: IoConfigKey): string | undefined {
    const value = this.values[key];
    if (value === undefined || value === null || value === '') return undefined;
    return typeof value === 'string' ? value : String(value);
  }

  /** The value, or a ConfigError naming the file, profile and key. */
  require(key: IoConfigKey, hint?: string): string {
    const value = this.get(key);
    if (value === undefined) {
      throw new ConfigError({
        file: this.file,
        key: `${this.name}.${key}`,
        message: `is not set, and the ${this.name} profile needs it`,
        hint: hint ?? `add ${key} to the ${this.name} profile (${describeKey(key)})`,
      });
    }
    return value;
  }

  int(key: IoConfigKey, fallback: number): number {
    const raw = this.get(key);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value)) {
      throw new ConfigError({ file: this.file, key: `${this.name}.${key}`, message: `must be a whole number, got ${JSON.stringify(raw)}` });
    }
    return value;
  }

  bool(key: IoConfigKey, fallback: boolean): boolean {
    const raw = this.get(key);
    if (raw === undefined) return fallback;
    if (/^(true|yes|1|on)$/i.test(raw)) return true;
    if (/^(false|no|0|off)$/i.test(raw)) return false;
    throw new ConfigError({ file: this.file, key: `${this.name}.${key}`, message: `must be true or false, got ${JSON.stringify(raw)}` });
  }

  /** A local path from the profile, resolved against the project root. */
  path(key: IoConfigKey, fallback: string): string {
    const raw = this.get(key) ?? fallback;
    return isAbsolute(raw) ? raw : resolve(this.root, raw);
  }

  /** A copy with some keys replaced (the run store's database, a test's port). */
  withValues(overrides: Record<string, unknown>): IoProfile {
    return new IoProfile({ name: this.name, file: this.file, root: this.root, values: { ...this.values, ...overrides } });
  }

  /** Plain values, for tests and the console (passwords masked). */
  toJSON(): Record<string, unknown> {
    return Object.fromEntries(Object.entries(this.values).map(([k, v]) => [k, /PASSWORD|SECRET|TOKEN|KEY$/.test(k) ? '***' : v]));
  }
}

function describeKey(key: string): string {
  return (IO_CONFIG_KEYS as Record<string, string>)[key] ?? 'see the README';
}
