import type { IoProfile } from '../../config/io-profile.ts';
import { ConfigError } from '../../errors.ts';
import { googleSettings, type GoogleSettings } from './google.ts';

export interface DuckDbSettings {
  readonly kind: 'duckdb';
  /** DUCKDB_PATH, absolute. */
  readonly path: string;
  /** DUCKDB_MEMORY_LIMIT as DuckDB writes it; unset means the warehouse's own default. */
  readonly memoryLimit?: string;
}

export interface BigQuerySettings extends GoogleSettings {
  readonly kind: 'bigquery';
  /** BIGQUERY_DATASET: where SQL blocks write when they name no dataset. */
  readonly dataset?: string;
  /** Where load jobs stage Parquet: `<LAKE_URI>/_staging` when the lake is on GCS. */
  readonly stagingUri?: string;
}

/** WAREHOUSE and the keys of the warehouse it names. */
export type WarehouseSettings = DuckDbSettings | BigQuerySettings;

export const WAREHOUSE_DEFAULTS = { kind: 'duckdb', duckDbPath: '.pipekit/warehouse.duckdb' } as const;

export function warehouseSettings(profile: IoProfile): WarehouseSettings {
  const kind = profile.get('WAREHOUSE') ?? WAREHOUSE_DEFAULTS.kind;
  if (kind === 'duckdb') {
    return Object.freeze({
      kind,
      path: profile.path('DUCKDB_PATH', WAREHOUSE_DEFAULTS.duckDbPath),
      memoryLimit: duckDbMemoryLimit(profile),
    });
  }
  if (kind === 'bigquery') return bigQuerySettings(profile);
  throw new ConfigError({
    file: profile.file,
    key: `${profile.name}.WAREHOUSE`,
    message: `unknown warehouse "${kind}"`,
    hint: 'use duckdb (a file on this machine) or bigquery',
  });
}

export function bigQuerySettings(profile: IoProfile): BigQuerySettings {
  const lakeUri = profile.get('LAKE_URI');
  // Large exports then go through a resumable GCS upload instead of the job upload.
  const stagingUri = lakeUri?.startsWith('gs://') ? `${lakeUri.replace(/\/+$/, '')}/_staging` : undefined;
  return Object.freeze({ ...googleSettings(profile), kind: 'bigquery', dataset: profile.get('BIGQUERY_DATASET'), stagingUri });
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
