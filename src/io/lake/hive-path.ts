/**
 * Hive partition path segments: `<column>=<escaped value>`, as written by
 * Hive, Spark and pyarrow and understood by BigQuery's hive partitioning.
 */

/** The folder value Hive (and pyarrow, Spark) use for a null or empty partition value. */
export const HIVE_DEFAULT_PARTITION = '__HIVE_DEFAULT_PARTITION__';

/**
 * Characters Hive's `FileUtils.escapePathName` percent-encodes. `/` matters
 * most (it would create a folder), `=` and `%` keep the segment parseable.
 */
const ESCAPED = /["#%'*/:=?\\\x7f{}[\]^\x00-\x1f]/g;

/** Percent-encodes a partition value like Hive: `a/b` → `a%2Fb`; null or `''` → the default partition. */
export function escapeHiveValue(value: string | null): string {
  if (value === null || value === '') return HIVE_DEFAULT_PARTITION;
  return value.replace(ESCAPED, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** The inverse of {@link escapeHiveValue}; the default partition becomes null. */
export function unescapeHiveValue(segmentValue: string): string | null {
  if (segmentValue === HIVE_DEFAULT_PARTITION) return null;
  // Only %XX sequences are decoded, byte by byte, then read as UTF-8 (a lone '%' stays).
  if (!segmentValue.includes('%')) return segmentValue;
  const bytes: number[] = [];
  const utf8 = new TextEncoder();
  for (let i = 0; i < segmentValue.length; ) {
    const hex = segmentValue.slice(i + 1, i + 3);
    if (segmentValue[i] === '%' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 3;
    } else {
      const cp = segmentValue.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      bytes.push(...utf8.encode(ch));
      i += ch.length;
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/** `column=escapedValue` */
export function hiveSegment(column: string, value: string | null): string {
  return `${escapeHiveValue(column)}=${escapeHiveValue(value)}`;
}

/** Splits `column=value` (value still escaped) or returns undefined when the segment is not Hive style. */
export function parseHiveSegment(segment: string): { column: string; value: string | null } | undefined {
  const eq = segment.indexOf('=');
  if (eq <= 0) return undefined;
  return { column: unescapeHiveValue(segment.slice(0, eq)) ?? '', value: unescapeHiveValue(segment.slice(eq + 1)) };
}

/** `YYYY-MM-DD` for a count of days since 1970-01-01 (proleptic Gregorian, UTC). */
export function formatEpochDay(days: number): string {
  return new Date(days * 86_400_000).toISOString().slice(0, 10);
}

const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Days since 1970-01-01 for a `YYYY-MM-DD` string, or undefined if it is not a valid date. */
export function parseEpochDay(value: string): number | undefined {
  const m = ISO_DAY.exec(value);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  // Date.UTC rolls over (2021-02-30 → March 2): reject instead of guessing.
  if (formatEpochDay(ms / 86_400_000) !== value) return undefined;
  return ms / 86_400_000;
}
