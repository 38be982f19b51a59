import type { BigQuery } from '@google-cloud/bigquery';
import type { Storage } from '@google-cloud/storage';
import type { IoProfile } from '../config/io-profile.ts';
import { ensureEmbeddedServer } from './postgres/embedded.ts';
import {
  connectorSettings,
  onDatabase,
  type BigQuerySettings,
  type ConnectorSettings,
  type GoogleSettings,
  type HttpSettings,
  type LakeSettings,
  type WarehouseSettings,
} from './settings/index.ts';
import type { Connectors, HttpLoader, Lake, PostgresConnector, Warehouse } from './types.ts';

/** Connectors plus the means to close whatever a run opened. */
export interface OpenConnectors extends Connectors {
  close(): Promise<void>;
}

/**
 * Google clients to use instead of building them from the profile: tests
 * point them at local fakes; an embedding application can share its own.
 * Type-only imports: this module still never loads the vendor SDKs.
 */
export interface InjectedClients {
  readonly storage?: Storage;
  readonly bigquery?: BigQuery;
}

/**
 * Builds `ctx.io` from an io_config profile. Each connector is created on
 * first use (a run that never touches BigQuery never loads its client) and
 * closed once at the end of the run. Which implementation answers is decided
 * here and only here, from the profile's parsed settings (settings/):
 *
 * | key                 | laptop (local)            | cloud                      |
 * |---------------------|---------------------------|----------------------------|
 * | POSTGRES_*          | embedded server           | Cloud SQL over private IP  |
 * | LAKE_URI            | `.pipekit/lake` folder    | `gs://bucket/prefix`       |
 * | WAREHOUSE           | `duckdb` (DUCKDB_PATH)    | `bigquery`                 |
 */
export function openConnectors(
  profile: IoProfile,
  options: { log?: (message: string) => void; clients?: InjectedClients } = {},
): OpenConnectors {
  const settings = connectorSettings(profile);
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
    postgres: () => (postgres ??= openPostgres(settings).then(remember)),
    lake: () => (lake ??= openLake(settings, options.clients)),
    warehouse: () => (warehouse ??= openWarehouse(settings, options.clients).then(remember)),
    get http() {
      return (http ??= createHttp(settings.http, options.log));
    },
    async close() {
      const results = await Promise.allSettled(closers.splice(0).map((close) => close()));
      const failed = results.find((r) => r.status === 'rejected');
      if (failed && failed.status === 'rejected') options.log?.(`closing a connector failed: ${String(failed.reason)}`);
    },
  };
}

/** Starts the embedded server when the profile asks for one (with `database` created); a no-op otherwise. */
export async function ensureProfilePostgres(profile: IoProfile, database?: string): Promise<void> {
  const settings = connectorSettings(profile).postgres;
  await ensureEmbeddedServer(database ? onDatabase(settings, database) : settings);
}

async function openPostgres(settings: ConnectorSettings): Promise<PostgresConnector> {
  // The connector starts the embedded server itself (POSTGRES_EMBEDDED) before its first connection.
  const { createPostgresConnector } = await import('./postgres/connector.ts');
  return createPostgresConnector(settings.postgres);
}

async function openLake(settings: ConnectorSettings, clients?: InjectedClients): Promise<Lake> {
  const lake: LakeSettings = settings.lake;
  const { createLake } = await import('./lake/lake.ts');
  if (lake.kind === 'gcs') return createLake(await gcsStore(settings.google, lake.uri, clients));
  const { createLocalStore } = await import('./lake/local-store.ts');
  return createLake(createLocalStore(lake.path));
}

async function gcsStore(google: GoogleSettings, uri: string, clients?: InjectedClients) {
  const { createGcsStore } = await import('./gcs/store.ts');
  return createGcsStore({ uri, profile: google, storage: clients?.storage });
}

async function openWarehouse(settings: ConnectorSettings, clients?: InjectedClients): Promise<Warehouse> {
  const warehouse: WarehouseSettings = settings.warehouse;
  if (warehouse.kind === 'duckdb') {
    const { createDuckDbWarehouse } = await import('./duckdb/warehouse.ts');
    return createDuckDbWarehouse({ path: warehouse.path, memoryLimit: warehouse.memoryLimit });
  }
  const bigquery: BigQuerySettings = warehouse;
  const { createBigQueryWarehouse } = await import('./bigquery/warehouse.ts');
  // Load jobs stage their Parquet in the lake bucket when there is one.
  const stagingStore = bigquery.stagingUri ? await gcsStore(bigquery, bigquery.stagingUri, clients) : undefined;
  return createBigQueryWarehouse({ profile: bigquery, client: clients?.bigquery, stagingStore });
}

function createHttp(settings: HttpSettings, log?: (message: string) => void): HttpLoader {
  // The loader module is small and always local, but imported lazily like the rest.
  let loader: Promise<HttpLoader> | undefined;
  const get = () => (loader ??= import('./http/index.ts').then((m) => m.createHttpLoader({ log, ...settings })));
  const view = (signal?: AbortSignal): HttpLoader => ({
    load: async (url, options) => (await get()).load(url, { signal, ...options }),
    loadWithReport: async (url, options) => (await get()).loadWithReport(url, { signal, ...options }),
    withSignal: (next) => view(next),
  });
  return view();
}

/**
 * `ctx.io` for one block attempt: the run's connectors, each bound to the
 * block's signal with its `withSignal` — the one way a cancellation reaches
 * a connector — so a cancelled or timed-out block stops its Postgres COPY
 * and its DuckDB statement (both rolled back), its lake writes and its
 * downloads instead of finishing them in the background.
 */
export function withSignal(io: Connectors, signal: AbortSignal): Connectors {
  return {
    profile: io.profile,
    lake: async () => {
      const lake = await io.lake();
      return lake.withSignal?.(signal) ?? lake;
    },
    warehouse: async () => (await io.warehouse()).withSignal(signal),
    get http() {
      return io.http.withSignal?.(signal) ?? io.http;
    },
    postgres: async () => (await io.postgres()).withSignal(signal),
  };
}
