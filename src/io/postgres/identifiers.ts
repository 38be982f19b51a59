import { DataError } from '../../errors.ts';

/**
 * Quotes an identifier for PostgreSQL: `Mixed Case` → `"Mixed Case"`,
 * `a"b` → `"a""b"`. Always quoting keeps names exactly as given (Mage
 * lower-cases and breaks on them, mage-ai#5379).
 */
export function quoteIdent(name: string): string {
  if (name.length === 0 || name.includes('\0')) {
    throw new DataError({ source: 'postgres', value: name, message: 'is not a usable identifier (empty or contains a NUL byte)' });
  }
  return `"${name.replaceAll('"', '""')}"`;
}

/** `"schema"."table"` */
export function qualified(schema: string, table: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(table)}`;
}
