/**
 * The little SQL text handling a SQL block needs: `{{ name }}` placeholders
 * and statement splitting. Splitting respects quotes and comments (a `;`
 * in a string literal does not end a statement); placeholders are replaced
 * everywhere, as Mage does.
 */
import { ConfigError } from '../errors.ts';

/** `{{ df_1 }}`, `{{df_1}}`, `{{  load_taxi  }}`: any spaces inside the braces. */
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_-]*)\s*\}\}/g;

/** The placeholder names used in `sql`, in order of first use. */
export function placeholdersIn(sql: string): string[] {
  return [...new Set([...sql.matchAll(PLACEHOLDER)].map((m) => m[1]))];
}

/**
 * Replaces every placeholder by `replacements[name]`. A placeholder with no
 * replacement is an error naming it and the names available (Mage would send
 * the braces to the database and fail with a syntax error).
 */
export function replacePlaceholders(sql: string, replacements: Readonly<Record<string, string>>, source: string): string {
  return sql.replace(PLACEHOLDER, (_, name: string) => {
    const value = replacements[name];
    if (value === undefined) {
      const known = Object.keys(replacements);
      throw new ConfigError({
        file: source,
        key: `{{ ${name} }}`,
        message: 'names no input of this SQL block',
        hint: known.length
          ? `use one of: ${known.map((k) => `{{ ${k} }}`).join(', ')}`
          : 'the block has no upstream blocks; add one in pipeline.yaml',
      });
    }
    return value;
  });
}

/** Splits a script into statements on `;` outside quotes, comments and `$$` strings. Empty statements are dropped. */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i];
    if (c === "'" || c === '"') {
      i = sql.indexOf(c, i + 1);
      // Doubled quotes continue the literal: 'it''s'.
      while (i !== -1 && sql[i + 1] === c) i = sql.indexOf(c, i + 2);
      i = i === -1 ? n : i + 1;
    } else if (c === '-' && sql[i + 1] === '-') {
      i = sql.indexOf('\n', i);
      i = i === -1 ? n : i + 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      i = sql.indexOf('*/', i + 2);
      i = i === -1 ? n : i + 2;
    } else if (c === '$' && sql[i + 1] === '$') {
      i = sql.indexOf('$$', i + 2);
      i = i === -1 ? n : i + 2;
    } else if (c === ';') {
      statements.push(sql.slice(start, i));
      start = ++i;
    } else i++;
  }
  statements.push(sql.slice(start));
  return statements.filter((s) => !isBlank(s)).map((s) => s.trim());
}

/** True when a statement is only whitespace and comments. */
function isBlank(statement: string): boolean {
  return (
    statement
      .replace(/--[^\n]*/g, '')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .trim() === ''
  );
}
