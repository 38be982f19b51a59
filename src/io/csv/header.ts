/** The header row: column names, with pandas' handling of duplicates and blanks. */
import { DataError } from '../../errors.ts';

const LF = 10;
const QUOTE = 34;

/**
 * Reads the header record at the start of `buf` (after any BOM). Returns
 * null when the buffer ends before the header does and more bytes may come.
 */
export function readHeader(buf: Uint8Array, start: number, delimiter: string, final: boolean, source: string):
  { names: string[]; end: number } | null {
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
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; }
      else if (c === '"') inQuotes = false;
      else cell += c;
    } else if (c === '"') inQuotes = true;
    else if (c === delimiter) { cells.push(cell); cell = ''; }
    else cell += c;
  }
  cells.push(cell);
  return cells;
}

/** pandas' names: a blank name becomes `Unnamed: <index>`, a repeated one `name.1`, `name.2`, … */
function dedupe(names: string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((raw, index) => {
    const name = raw.trim() === '' ? `Unnamed: ${index}` : raw;
    const count = seen.get(name) ?? 0;
    seen.set(name, count + 1);
    return count === 0 ? name : `${name}.${count}`;
  });
}
