/**
 * Text as the run store keeps it: whatever a block's error or log line
 * contains, PostgreSQL accepts it and a terminal or a page shows it as text.
 *
 * Why: a CSV header with a NUL byte put `\0` into an error's hint, PostgreSQL
 * rejected the UPDATE (`invalid byte sequence for encoding "UTF8": 0x00`),
 * and the block stayed `running` under a failed run (issue 14 item 9).
 */

/** Longest text kept per field; more is cut in the middle, saying how much. */
export const MAX_STORED_CHARS = 64 * 1024;

/** C0 controls and DEL other than tab and newline: NUL cannot be stored, ESC and CR rewrite terminals. */
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/g;

/** Half of a UTF-16 pair without its other half: not text in any encoding. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** NUL and other control characters as visible escapes (`\x00`), lone surrogates as U+FFFD, at most `max` characters. */
export function storableText(text: string, max = MAX_STORED_CHARS): string {
  let safe = text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`).replace(LONE_SURROGATE, '\uFFFD');
  if (safe.length > max) {
    const keep = Math.floor((max - 64) / 2);
    safe = `${safe.slice(0, keep)}\n… ${(safe.length - 2 * keep).toLocaleString('en-US')} characters cut …\n${safe.slice(-keep)}`;
  }
  return safe;
}

/** JSON for a `jsonb` column: every string in it (keys too) made storable. */
export function storableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => {
    if (typeof v === 'string') return storableText(v);
    if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).some((k) => k !== storableText(k))) {
      return Object.fromEntries(Object.entries(v).map(([k, inner]) => [storableText(k), inner]));
    }
    return v;
  });
}
