import { closest } from 'fastest-levenshtein';
import { ConfigError } from '../errors.ts';
import { IO_CONFIG_KEYS } from './io-profile.ts';

/**
 * Connectors Mage has and pipekit does not. Their keys (Mage's io_config
 * template carries them all) are left alone: they cannot be a misspelling
 * of anything pipekit reads.
 */
const OTHER_MAGE_CONNECTORS = [
  'ALGOLIA',
  'AWS',
  'AZURE',
  'CHROMA',
  'CLICKHOUSE',
  'DRUID',
  'ELASTICSEARCH',
  'MONGODB',
  'MSSQL',
  'MYSQL',
  'OPENSEARCH',
  'ORACLEDB',
  'PINOT',
  'QDRANT',
  'REDSHIFT',
  'SNOWFLAKE',
  'SPARK',
  'TRINO',
  'WEAVIATE',
];

const KNOWN = Object.keys(IO_CONFIG_KEYS);

/**
 * Every key of a profile must be one pipekit reads: a misspelled
 * `POSTGRES_PROT` would otherwise be ignored and its default used in silence.
 * The error names the file, the profile, the key and the nearest valid key.
 */
export function checkProfileKeys(section: Readonly<Record<string, unknown>>, file: string, profile: string): void {
  for (const key of Object.keys(section)) {
    if (key in IO_CONFIG_KEYS || OTHER_MAGE_CONNECTORS.includes(key.split('_')[0]!)) continue;
    const nearest = closest(key.toUpperCase(), KNOWN);
    throw new ConfigError({
      file,
      key: `${profile}.${key}`,
      message: `is not a key pipekit reads; did you mean ${nearest}?`,
      hint:
        key === 'GOOGLE_SERVICE_ACC_KEY'
          ? 'pipekit does not take an inline key: save it to a file and set GOOGLE_SERVICE_ACC_KEY_FILEPATH, or remove the key to use Application Default Credentials'
          : `rename it to ${nearest} (${IO_CONFIG_KEYS[nearest as keyof typeof IO_CONFIG_KEYS]}), or remove it; the keys are listed in the README (io_config.yaml)`,
    });
  }
}
