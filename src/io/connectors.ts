import type { IoProfile } from '../config/io-profile.ts';
import { ConfigError } from '../errors.ts';
import { parseDuration } from '../project/duration.ts';
import type { Connectors, HttpLoader, Lake, PostgresConnector, Warehouse } from './types.ts';

/** Connectors plus the means to close whatever a run opened. */
export interface OpenConnectors extends Connectors {
  close(): Promise<void>;
}

/**
 * Google clients to use instead of building them from the profile: tests
 * point them at local fakes; an embedding application can share its own.
 * Typed loosely so this module never imports the vendor SDKs.
 */
export interface InjectedClients {
  /** A `@google-cloud/storage` Storage. */
  readonly storage?: unknown;
  /** A `@google-cloud/bigquery` BigQuery. */
  readonly bigquery?: unknown;
}

/**
 * Builds `ctx.io` from an io_config profile. Each connector is created on
 * first use (a run that never touches BigQuery never loads its client) and
 * closed once at the end of the run. Which implementation answers is decided
 * here and only here:
 *
 * | key                 | laptop (local)            | cloud                      |
 * |---------------------|---------------------------|----------------------------|
 * | POSTGRES_*          | embedded server           | Cloud SQL over private IP  |
 * | LAKE_URI            | `.pipekit/lake` folder    | `gs://bucket/prefix`       |
 * | WAREHOUSE           | `duckdb` (DUCKDB_PATH)    | `bigquery`                 |
 */
export function openConnectors(profile: IoProfile, options: { log?: (message: string) => void; clients?: InjectedClients } = {}): OpenConnectors {
  const closers: (() => Promise<void>)[] = [];
  let postgres: Promise<PostgresConnector> | undefined;
  let lake: Promise<Lake> | undefined;
  let warehouse: Promise<Warehouse> | undefined;
  let http: HttpLoader | undefined;

  const remember = <T extends { close(): Promise<void> }>(value: T): T => {
    closers.push(() => value.close());
    return value;
  };

  return {
    profile: profile.name,
    postgres: () => (postgres ??= openPostgres(profile).then(remember)),
    lake: () => (lake ??= openLake(profile, options.clients)),
    warehouse: () => (warehouse ??= openWarehouse(profile, options.clients).then(remember)),
    get http() {
      return (http ??= createHttp(profile, options.log));
    },
    async close() {
      const results = await Promise.allSettled(closers.splice(0).map((close) => close()));
      const failed = results.find((r) => r.status === 'rejected');
      if (failed && failed.status === 'rejected') options.log?.(`closing a connector failed: ${String(failed.reason)}`);
    },
  };
}

/** Starts the embedded server when the profile asks for one; a no-op otherwise. */
export async function ensureProfilePostgres(profile: IoProfile, database?: string): Promise<void> {
  if (!profile.bool('POSTGRES_EMBEDDED', false)) return;
  const { ensurePostgresRunning } = await import('../services/postgres-server.ts');
  await ensurePostgresRunning({
    root: profile.root,
    port: profile.int('POSTGRES_PORT', 5433),
    user: profile.get('POSTGRES_USER') ?? 'postgres',
    password: profile.get('POSTGRES_PASSWORD') ?? 'postgres',
    database: database ?? profile.get('POSTGRES_DBNAME') ?? 'postgres',
  });
}

async function openPostgres(profile: IoProfile): Promise<PostgresConnector> {
  // The connector starts the embedded server itself (POSTGRES_EMBEDDED) before its first connection.
  const { createPostgresConnector } = await import('./postgres/connector.ts');
  return createPostgresConnector(profile);
}

async function openLake(profile: IoProfile, clients?: InjectedClients): Promise<Lake> {
  const uri = profile.get('LAKE_URI') ?? '.pipekit/lake';
  const { createLake } = await import('./lake/lake.ts');
  if (uri.startsWith('gs://')) return createLake(await gcsStore(profile, uri, clients));
  if (/^[a-z]+:\/\//.test(uri) && !uri.startsWith('file://')) {
    throw new ConfigError({
      file: profile.file,
      key: `${profile.name}.LAKE_URI`,
      message: `${uri} is not a lake pipekit can use`,
      hint: 'use a local folder (relative to the project) or gs://bucket/prefix',
    });
  }
  const { createLocalStore } = await import('./lake/local-store.ts');
  return createLake(createLocalStore(profile.path('LAKE_URI', uri.replace(/^file:\/\//, ''))));
}

async function gcsStore(profile: IoProfile, uri: string, clients?: InjectedClients) {
  const { createGcsStore } = await import('./gcs/store.ts');
  return createGcsStore({ uri, profile, storage: clients?.storage as never });
}

async function openWarehouse(profile: IoProfile, clients?: InjectedClients): Promise<Warehouse> {
  const kind = profile.get('WAREHOUSE') ?? 'duckdb';
  if (kind === 'duckdb') {
    const { createDuckDbWarehouse } = await import('./duckdb/warehouse.ts');
    return createDuckDbWarehouse({ path: profile.path('DUCKDB_PATH', '.pipekit/warehouse.duckdb'), memoryLimit: duckDbMemoryLimit(profile) });
  }
  if (kind === 'bigquery') {
    const { createBigQueryWarehouse } = await import('./bigquery/warehouse.ts');
    // Load jobs stage their Parquet in the lake bucket when there is one: large
    // exports then go through a resumable GCS upload instead of the job upload.
    const lakeUri = profile.get('LAKE_URI');
    const stagingStore = lakeUri?.startsWith('gs://') ? await gcsStore(profile, `${lakeUri.replace(/\/+$/, '')}/_staging`, clients) : undefined;
    return createBigQueryWarehouse({ profile, client: clients?.bigquery as never, stagingStore });
  }
  throw new ConfigError({
    file: profile.file,
    key: `${profile.name}.WAREHOUSE`,
    message: `unknown warehouse "${kind}"`,
    hint: 'use duckdb (a file on this machine) or bigquery',
  });
}

/** DUCKDB_MEMORY_LIMIT, checked here so a typo names the key instead of failing inside DuckDB. */
function duckDbMemoryLimit(profile: IoProfile): string | undefined {
  const value = profile.get('DUCKDB_MEMORY_LIMIT');
  if (value === undefined || /^\d+(\.\d+)?\s*(B|[KMGT]i?B)$/i.test(value.trim())) return value?.trim();
  throw new ConfigError({
    file: profile.file,
    key: `${profile.name}.DUCKDB_MEMORY_LIMIT`,
    message: `"${value}" is not an amount of memory`,
    hint: 'write it the way DuckDB does, e.g. 512MB or 2GB',
  });
}

function createHttp(profile: IoProfile, log?: (message: string) => void): HttpLoader {
  const connectTimeoutMs = durationKey(profile, 'HTTP_CONNECT_TIMEOUT');
  const idleTimeoutMs = durationKey(profile, 'HTTP_IDLE_TIMEOUT');
  // The loader module is small and always local, but imported lazily like the rest.
  let loader: Promise<HttpLoader> | undefined;
  const get = () => (loader ??= import('./http/index.ts').then((m) => m.createHttpLoader({ log, connectTimeoutMs, idleTimeoutMs })));
  return {
    load: async (url, options) => (await get()).load(url, options),
    loadWithReport: async (url, options) => (await get()).loadWithReport(url, options),
  };
}

/** A duration key (`30s`, `2m`, or seconds), checked here so a typo names the key. */
function durationKey(profile: IoProfile, key: 'HTTP_CONNECT_TIMEOUT' | 'HTTP_IDLE_TIMEOUT'): number | undefined {
  const value = profile.get(key);
  if (value === undefined) return undefined;
  try {
    const ms = parseDuration(value);
    if (ms > 0) return ms;
  } catch {
    // reported below
  }
  throw new ConfigError({ file: profile.file, key: `${profile.name}.${key}`, message: `"${value}" is not a duration`, hint: 'write e.g. 30s, 2m or a number of seconds' });
}

/**
 * `ctx.io` for one block attempt: the run's connectors, with the block's
 * signal passed on, so a cancelled or timed-out block stops its Postgres
 * COPY and its DuckDB statement (both rolled back), its lake writes and its
 * downloads instead of finishing them in the background.
 */
export function withSignal(io: Connectors, signal: AbortSignal): Connectors {
  return {
    profile: io.profile,
    lake: async () => {
      const lake = await io.lake();
      return lake.withSignal?.(signal) ?? lake;
    },
    warehouse: async () => {
      const warehouse = await io.warehouse();
      return warehouse.withSignal?.(signal) ?? warehouse;
    },
    get http() {
      const http = io.http;
      const withBlockSignal: HttpLoader = {
        load: (url, options) => http.load(url, { signal, ...options }),
        loadWithReport: (url, options) => http.loadWithReport(url, { signal, ...options }),
      };
      return withBlockSignal;
    },
    postgres: async () => {
      const pg = await io.postgres();
      return { ...pg, export: (table, options) => pg.export(table, { signal, ...options }) };
    },
  };
}
