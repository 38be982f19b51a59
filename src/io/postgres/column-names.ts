/**
 * Column names as Mage's Postgres exporter writes them by default
 * (`mage_ai/shared/utils.py` `clean_name`, `auto_clean_name=True`,
 * `case_sensitive=False`, `allow_reserved_words=False`), so the Zoomcamp's
 * queries (`SELECT vendorid, pulocationid …`) run against pipekit's tables.
 */

/** How an export names its columns: Mage's cleaned lower case (default), or exactly as in the Arrow table. */
export type ColumnNaming = 'clean' | 'keep';

/** PostgreSQL's reserved key words (`pg_get_keywords()` with catcode `R`): Mage prefixes them with `_`. */
const RESERVED = new Set(
  (
    'all analyse analyze and any array as asc asymmetric both case cast check collate column constraint create ' +
    'current_catalog current_date current_role current_time current_timestamp current_user default deferrable desc ' +
    'distinct do else end except false fetch for foreign from grant group having in initially intersect into lateral ' +
    'leading limit localtime localtimestamp not null offset on only or order placing primary references returning ' +
    'select session_user some symmetric table then to trailing true union unique user using variadic when where window with'
  ).split(' '),
);

/**
 * `VendorID` → `vendorid`, `Trip Distance` → `trip_distance`,
 * `Unnamed: 0` → `unnamed__0`, `2020 total` → `letter_2020_total`,
 * `order` → `_order`: BOM, quotes, `$` and control whitespace removed, every
 * other character that is not a letter, digit or `_` becomes `_`, a leading
 * digit gets `letter_`, then lower case.
 */
export function cleanColumnName(name: string): string {
  let clean = name.replace(/[\ufeff"$\n\r\t]/g, '').replace(/[^\p{L}\p{N}_]/gu, '_');
  if (/^\p{Nd}/u.test(clean)) clean = `letter_${clean}`;
  clean = clean.toLowerCase();
  return RESERVED.has(clean) ? `_${clean}` : clean;
}

/** The rename an export applies for `naming`. */
export function columnRenamer(naming: ColumnNaming = 'clean'): (name: string) => string {
  return naming === 'keep' ? (name) => name : cleanColumnName;
}
