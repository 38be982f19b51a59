/**
 * Each connector's io_config keys, parsed into a typed, checked value with
 * its defaults beside it. Nothing else reads POSTGRES_*, LAKE_URI, WAREHOUSE,
 * DUCKDB_*, GOOGLE_* or HTTP_* from a profile.
 */
import type { IoProfile } from '../../config/io-profile.ts';
import { googleSettings, type GoogleSettings } from './google.ts';
import { httpSettings, type HttpSettings } from './http.ts';
import { lakeSettings, type LakeSettings } from './lake.ts';
import { postgresSettings, runStoreSettings, type PostgresSettings } from './postgres.ts';
import { warehouseSettings, type WarehouseSettings } from './warehouse.ts';

export * from './google.ts';
export * from './http.ts';
export * from './lake.ts';
export * from './postgres.ts';
export * from './warehouse.ts';

export interface ConnectorSettings {
  readonly postgres: PostgresSettings;
  readonly runStore: PostgresSettings;
  readonly lake: LakeSettings;
  readonly warehouse: WarehouseSettings;
  readonly google: GoogleSettings;
  readonly http: HttpSettings;
}

const parsed = new WeakMap<IoProfile, ConnectorSettings>();

/**
 * The profile's connector settings. Each is parsed the first time it is read
 * and kept, so a mistake in one connector's keys is reported by that
 * connector's first use, not by every command that loads the profile.
 */
export function connectorSettings(profile: IoProfile): ConnectorSettings {
  const known = parsed.get(profile);
  if (known) return known;
  const memo = new Map<keyof ConnectorSettings, unknown>();
  const once = <K extends keyof ConnectorSettings>(key: K, parse: (p: IoProfile) => ConnectorSettings[K]): ConnectorSettings[K] => {
    if (!memo.has(key)) memo.set(key, parse(profile));
    return memo.get(key) as ConnectorSettings[K];
  };
  const settings: ConnectorSettings = {
    get postgres() {
      return once('postgres', postgresSettings);
    },
    get runStore() {
      return once('runStore', runStoreSettings);
    },
    get lake() {
      return once('lake', lakeSettings);
    },
    get warehouse() {
      return once('warehouse', warehouseSettings);
    },
    get google() {
      return once('google', googleSettings);
    },
    get http() {
      return once('http', httpSettings);
    },
  };
  parsed.set(profile, settings);
  return settings;
}

/**
 * Parses every connector's settings and returns what is wrong with them, for
 * `pipekit validate`: a bad sslmode or warehouse shows before a run needs it.
 */
export function connectorSettingsProblems(profile: IoProfile): unknown[] {
  const settings = connectorSettings(profile);
  const problems: unknown[] = [];
  // runStore is postgres on another database: its problems are postgres's.
  for (const key of ['postgres', 'lake', 'warehouse', 'google', 'http'] as const) {
    try {
      void settings[key];
    } catch (error) {
      problems.push(error);
    }
  }
  return problems;
}
