import type { IoProfile } from '../../config/io-profile.ts';
import { ConfigError } from '../../errors.ts';

/** libpq's sslmode values; `allow` and `prefer` connect without TLS, as pg cannot negotiate. */
export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

/**
 * A profile's POSTGRES_* keys, parsed and checked once. Every reader — the
 * connector, its pool, the embedded server, the run store — takes this value,
 * so they cannot disagree on a default.
 */
export interface PostgresSettings {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** Where exports go when a block names no schema. */
  readonly schema: string;
  readonly connectTimeoutMs: number;
  readonly sslmode: SslMode;
  /** POSTGRES_SSL_CA: PEM the server certificate must chain to (verify-ca, verify-full). */
  readonly sslCa?: string;
  /** True: pipekit starts its own server in `<root>/.pipekit/postgres` before the first connection. */
  readonly embedded: boolean;
  /** The project root (the embedded server's home). */
  readonly root: string;
  /** `user@host:port/db`; a socket folder shows as `user@/cloudsql/p:r:i/db`. Never the password. */
  readonly label: string;
  /** Profile name and io_config file, for hints. */
  readonly profile: string;
  readonly file: string;
}

/**
 * The defaults, in one place. Mage's for a server you run; for the embedded
 * one, a port beside a system PostgreSQL's 5432 and a password initdb can set.
 */
export const POSTGRES_DEFAULTS = {
  host: '127.0.0.1',
  user: 'postgres',
  database: 'postgres',
  schema: 'public',
  connectTimeoutSeconds: 10,
  sslmode: 'disable',
  server: { port: 5432, password: '' },
  embedded: { port: 5433, password: 'postgres' },
} as const;

export function postgresSettings(profile: IoProfile): PostgresSettings {
  const embedded = profile.bool('POSTGRES_EMBEDDED', false);
  const defaults = embedded ? POSTGRES_DEFAULTS.embedded : POSTGRES_DEFAULTS.server;
  const port = profile.int('POSTGRES_PORT', defaults.port);
  if (port < 1 || port > 65_535) {
    throw new ConfigError({
      file: profile.file,
      key: `${profile.name}.POSTGRES_PORT`,
      message: `${port} is not a TCP port`,
      hint: 'use a port between 1 and 65535, e.g. 5432',
    });
  }
  const timeout = profile.int('POSTGRES_CONNECT_TIMEOUT', POSTGRES_DEFAULTS.connectTimeoutSeconds);
  if (timeout <= 0) {
    throw new ConfigError({
      file: profile.file,
      key: `${profile.name}.POSTGRES_CONNECT_TIMEOUT`,
      message: `must be a positive number of seconds, got ${timeout}`,
    });
  }
  return withLabel({
    host: profile.get('POSTGRES_HOST') ?? POSTGRES_DEFAULTS.host,
    port,
    user: profile.get('POSTGRES_USER') ?? POSTGRES_DEFAULTS.user,
    password: profile.get('POSTGRES_PASSWORD') ?? defaults.password,
    database: profile.get('POSTGRES_DBNAME') ?? POSTGRES_DEFAULTS.database,
    schema: profile.get('POSTGRES_SCHEMA') ?? POSTGRES_DEFAULTS.schema,
    connectTimeoutMs: timeout * 1000,
    sslmode: sslMode(profile),
    sslCa: profile.get('POSTGRES_SSL_CA'),
    embedded,
    root: profile.root,
    profile: profile.name,
    file: profile.file,
  });
}

/** Where the run history lives: the same server, database RUN_STORE_DBNAME (default POSTGRES_DBNAME). */
export function runStoreSettings(profile: IoProfile): PostgresSettings {
  const settings = postgresSettings(profile);
  return onDatabase(settings, profile.get('RUN_STORE_DBNAME') ?? settings.database);
}

/** The same server, another database (the run store's RUN_STORE_DBNAME). */
export function onDatabase(settings: PostgresSettings, database: string): PostgresSettings {
  return withLabel({ ...settings, database });
}

function withLabel(settings: Omit<PostgresSettings, 'label'>): PostgresSettings {
  const { host, port, user, database } = settings;
  const label = host.startsWith('/') ? `${user}@${host}/${database}` : `${user}@${host}:${port}/${database}`;
  return Object.freeze({ ...settings, label });
}

function sslMode(profile: IoProfile): SslMode {
  const raw = (profile.get('POSTGRES_SSLMODE') ?? POSTGRES_DEFAULTS.sslmode).toLowerCase();
  if ((SSL_MODES as readonly string[]).includes(raw)) return raw as SslMode;
  throw new ConfigError({
    file: profile.file,
    key: `${profile.name}.POSTGRES_SSLMODE`,
    message: `"${raw}" is not an sslmode`,
    hint: `use one of: ${SSL_MODES.join(', ')}`,
  });
}
