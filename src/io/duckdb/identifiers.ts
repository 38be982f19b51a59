/**
 * Quoting for DuckDB SQL: identifiers in double quotes, strings in single
 * quotes, names of datasets and tables checked before they reach SQL.
 */
import { ConfigError } from '../../errors.ts';

/** `"name"` with embedded quotes doubled. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** `'text'` with embedded quotes doubled (file paths in `read_parquet`, `COPY … TO`). */
export function quoteString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * Dataset and table names: letters, digits and underscores, not starting
 * with a digit — the subset valid in DuckDB, BigQuery and Postgres alike, so
 * a pipeline moves between them unchanged.
 */
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

export function checkName(value: string, what: 'dataset' | 'table', file: string): string {
  if (!NAME.test(value)) {
    throw new ConfigError({
      file,
      key: what,
      message: `${JSON.stringify(value)} is not a valid ${what} name`,
      hint: `use letters, digits and underscores, starting with a letter or "_" (at most 128 characters), e.g. "ny_taxi"`,
    });
  }
  return value;
}
