import { InvalidArgumentError } from 'commander';
import { parseVarArgs } from '../engine/variables.ts';
import { parseDateArg } from '../time/backfill-range.ts';

/*
 * Parsers for option values. commander reports an InvalidArgumentError with
 * the option's name and value, and the program exits 2 (bad input) before any
 * project or database is opened.
 */

function checked<T>(value: string, check: (value: string) => T): string {
  try {
    check(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  return value;
}

/** `2021-01-01`, `2021-01-01T05:00`, an ISO timestamp; kept as text and parsed where it is used. */
export function dateOption(value: string): string {
  return checked(value, parseDateArg);
}

/** A whole number of 1 or more (`--limit`, `--parallel`). */
export function positiveIntOption(value: string): string {
  if (!/^\s*\d+\s*$/.test(value) || Number(value) < 1)
    throw new InvalidArgumentError(`${JSON.stringify(value)} is not a whole number of 1 or more.`);
  return value.trim();
}

/** Repeatable `--var name=value`, each checked as it is given. */
export function varOption(value: string, previous: string[] = []): string[] {
  return [...previous, checked(value, (v) => parseVarArgs([v]))];
}
