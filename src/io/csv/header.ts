/** The header row: column names, with pandas' handling of duplicates and blanks. */
import { DataError } from '../../errors.ts';

const LF = 10;
const QUOTE = 34;

/**
 * Reads the header record at the start of `buf` (after any BOM). Returns
 * null when the buffer ends before the header does and more bytes may come.
 */
export function readHeader(
  buf: Uint8Array,
  start: number,
  delimiter: string,
  final: boolean,
  source: string,
): { names: string[]; end: number } | null {
  let inQuotes = false;
  let i = start;
  for (; i < buf.length; i++) {
    const c = buf[i];
    if (c === QUOTE) inQuotes = !inQuotes;
    else if (c === LF && !inQuotes) break;
  }
  if (i === buf.length && !final) return null;
  const text = new TextDecoder().decode(buf.subarray(start, i)).replace(/\r$/, '');
  if (text.trim() === '') {
    throw new DataError({
      source,
      row: 1,
      message: i === buf.length ? 'the file is empty' : 'the first line is empty; a header row with column names is expected',
      hint: 'Check the URL or path, and that the file is a CSV with a header row.',
    });
  }
  return { names: dedupe(splitRecord(text, delimiter)), end: Math.min(i + 1, buf.length) };
}

/** Splits one CSV record held in a string (RFC 4180 quoting). */
export function splitRecord(text: string, delimiter: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let inQuotes = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inQuotes) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') inQuotes = false;
      else cell += c;
    } else if (c === '"') inQuotes = true;
    else if (c === delimiter) {
      cells.push(cell);
      cell = '';
    } else cell += c;
  }
  cells.push(cell);
  return cells;
}

/**
 * pandas' names (its C parser, `read_csv` with a header row):
 * - an empty name becomes `Unnamed: <index>` (0-based position), so the
 *   index column of a `df.to_csv()` file is `Unnamed: 0`;
 * - a repeated name becomes `name.1`, `name.2`, … skipping any suffix that
 *   is already a name in the header, earlier or later: `a,a,a.1` gives
 *   `a, a.2, a.1`, so no column ever takes another's name.
 */
export function dedupe(raw: readonly string[]): string[] {
  const names = raw.map((name, index) => (name === '' ? `Unnamed: ${index}` : name));
  const taken = new Set(names);
  const counts = new Map<string, number>();
  return names.map((original, index) => {
    let name = original;
    let count = counts.get(name) ?? 0;
    while (count > 0) {
      counts.set(original, count + 1);
      name = `${original}.${count}`;
      count = taken.has(name) ? count + 1 : (counts.get(name) ?? 0);
    }
    taken.add(name);
    names[index] = name;
    counts.set(name, count + 1);
    return name;
  });
}
