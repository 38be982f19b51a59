/**
 * PostgreSQL's text output (DateStyle ISO) for dates and timestamps → the
 * numbers Arrow stores, without Date objects (and without Date.UTC's
 * two-digit-year quirk).
 */

const TIMESTAMP = /^(\d{4,})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?/;
const TZ = /([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?$/;

/** Milliseconds since 1970 and the extra microseconds of a timestamp's text; undefined for `infinity` or BC. */
function timestampParts(text: string, withZone: boolean): { ms: number; us: number } | undefined {
  const m = TIMESTAMP.exec(text);
  if (!m || text.endsWith(' BC')) return undefined;
  let ms = daysFromCivil(+m[1], +m[2], +m[3]) * 86_400_000 + ((+m[4] * 60 + +m[5]) * 60 + +m[6]) * 1000;
  const frac = m[7] ? Number(m[7].padEnd(6, '0')) : 0;
  const tz = withZone ? TZ.exec(text.slice(19)) : null;
  if (tz) ms -= (tz[1] === '-' ? -1 : 1) * (Number(tz[2]) * 3600 + Number(tz[3] ?? 0) * 60 + Number(tz[4] ?? 0)) * 1000;
  return { ms: ms + Math.floor(frac / 1000), us: frac % 1000 };
}

/** `2021-01-01 00:15:56.123456` → µs since 1970 (NaN for `infinity`/BC; inexact beyond ±2^53, see `exactMicros`). */
export function parseTimestamp(text: string): number {
  const parts = timestampParts(text, false);
  return parts ? parts.ms * 1000 + parts.us : NaN;
}

/** `2021-01-01 00:15:56.5+05:30` → µs since 1970 UTC. */
export function parseTimestamptz(text: string): number {
  const parts = timestampParts(text, true);
  return parts ? parts.ms * 1000 + parts.us : NaN;
}

/** The exact value for the rare timestamps beyond ±2^53 µs (before 1685 or after 2255). */
export function exactMicros(text: string, withZone: boolean): bigint | undefined {
  const parts = timestampParts(text, withZone);
  return parts ? BigInt(parts.ms) * 1000n + BigInt(parts.us) : undefined;
}

/** `2021-01-01` → days since 1970. */
export function parseDate(text: string): number {
  const m = /^(\d{4,})-(\d\d)-(\d\d)$/.exec(text);
  if (!m) return NaN;
  return daysFromCivil(+m[1], +m[2], +m[3]);
}

/**
 * Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * algorithm). Not Date.UTC: it maps years 0–99 to 1900–1999.
 */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}
