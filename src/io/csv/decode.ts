/**
 * Streaming CSV → Arrow. Bytes are parsed as they arrive, cells go straight
 * into typed arrays (see columns.ts), and every `BATCH_ROWS` rows become one
 * record batch, so memory stays flat for declared columns.
 */
import { Field, RecordBatch, Schema, Struct, Table, makeData, type Vector } from 'apache-arrow';
import { ConfigError, DataError } from '../../errors.ts';
import type { ColumnType, CsvReadOptions, ReadReport } from '../types.ts';
import { arrowType } from '../../table/make.ts';
import { StringBuilder, columnBuilder, type ColumnBuilder } from './columns.ts';
import { readHeader } from './header.ts';
import { convertText, inferType } from './infer.ts';
import { RecordParser, type BadRow } from './parser.ts';

/** Rows per record batch of the result. */
export const BATCH_ROWS = 131_072;
/** Bytes gathered before parsing: fewer, larger passes over the data. */
const READ_AHEAD = 1 << 20;
const FIRST_CAPACITY = 4096;
const MAX_SAMPLES = 5;

export type DecodeCsvOptions = CsvReadOptions & {
  /** Names the data in errors and reports: a URL, a path, an object key. */
  readonly sourceName: string;
};

/**
 * Decodes a CSV byte stream (UTF-8, header row) into an Arrow table.
 *
 * Declared columns (`columns`, `parseDates`) are parsed to exactly that type;
 * other columns are inferred (see infer.ts). Rows with the wrong number of
 * fields, a value that does not fit its declared type, or a cut-off last line
 * are bad rows: with `onBadRow: 'fail'` (default) the first one throws a
 * `DataError` naming line, column and value; with `'skip'` they are counted.
 *
 * @throws DataError for an empty input, a bad row (fail mode), or a declared column missing from the header.
 */
export async function decodeCsv(
  source: AsyncIterable<Uint8Array>,
  options: DecodeCsvOptions,
): Promise<{ table: Table; report: ReadReport }> {
  const sourceName = options.sourceName;
  const delimiter = options.delimiter ?? ',';
  if (delimiter.length !== 1 || delimiter.charCodeAt(0) > 127 || '"\r\n'.includes(delimiter)) {
    throw new ConfigError({
      file: sourceName,
      key: 'delimiter',
      message: `delimiter ${JSON.stringify(delimiter)} is not a single ASCII character`,
      hint: "Use ',' (default), ';', '\\t' or '|'.",
    });
  }
  const onBadRow = options.onBadRow ?? 'fail';
  const declared = declaredTypes(options);

  let names: string[] | undefined;
  let types: (ColumnType | undefined)[] = [];
  let builders: ColumnBuilder[] = [];
  let parser: RecordParser | undefined;
  let capacity = FIRST_CAPACITY;
  const batches: Vector[][] = [];
  let rows = 0;
  let badRows = 0;
  const badRowSamples: { line: number; reason: string }[] = [];

  const onBad = (bad: BadRow) => {
    const column = bad.column === undefined ? undefined : names![bad.column];
    // Text columns (declared string, or not declared) only reject bytes that are not UTF-8.
    const text = column !== undefined && (types[bad.column!] ?? 'string') === 'string';
    const reason = text ? 'not UTF-8 text' : column === undefined ? bad.reason : `not a valid ${types[bad.column!]}`;
    const what = column === undefined ? bad.reason : `column ${column}: ${JSON.stringify(bad.value)} is ${reason}`;
    if (onBadRow === 'fail') {
      throw new DataError({
        source: sourceName,
        row: bad.line,
        column,
        value: bad.value,
        message: column === undefined ? bad.reason : reason,
        hint: text
          ? "The file is probably Latin-1 or Windows-1252: convert it to UTF-8 (iconv -f latin1 -t utf-8), or pass onBadRow: 'skip' to skip such rows (they are counted in the report)."
          : "Fix the file or its declared column types, or pass onBadRow: 'skip' to skip malformed rows (they are counted in the report).",
      });
    }
    badRows++;
    if (badRowSamples.length < MAX_SAMPLES) badRowSamples.push({ line: bad.line, reason: what });
  };
  const flush = (last = false) => {
    batches.push(builders.map((b) => b.finish(parser!.rows, last)));
    rows += parser!.rows;
    parser!.rows = 0;
  };
  const onFull = () => {
    if (capacity >= BATCH_ROWS) return flush();
    // Small files stay small: capacity grows with the data up to a batch.
    capacity = Math.min(capacity * 4, BATCH_ROWS);
    for (const b of builders) b.grow(capacity);
    parser!.setCapacity(capacity);
  };

  let carry: Uint8Array = new Uint8Array(0);
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let sawBytes = false;
  const process = (final: boolean) => {
    let buf = pending.length === 0 ? carry : concat([carry, ...pending], carry.length + pendingBytes);
    pending = [];
    pendingBytes = 0;
    let start = 0;
    if (!parser) {
      if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) start = 3;
      else if (buf.length < 3 && !final) {
        carry = buf;
        return;
      }
      const header = readHeader(buf, start, delimiter, final, sourceName);
      if (!header) {
        carry = buf;
        return;
      }
      names = header.names;
      types = names.map((n) => declared.get(n));
      checkDeclared(declared, names, sourceName);
      builders = types.map((t) => (t ? columnBuilder(t, capacity) : new StringBuilder(capacity)));
      parser = new RecordParser(builders, delimiter.charCodeAt(0), onBad, onFull, capacity);
      buf = buf.subarray(header.end);
    }
    const consumed = parser.parse(buf, 0, buf.length, final);
    carry = buf.subarray(consumed);
  };

  for await (const chunk of source) {
    if (chunk.length === 0) continue;
    sawBytes = true;
    pending.push(chunk);
    pendingBytes += chunk.length;
    if (pendingBytes >= READ_AHEAD) process(false);
  }
  if (!sawBytes) {
    throw new DataError({
      source: sourceName,
      message: 'the file is empty (0 bytes)',
      hint: 'Check the URL or path; an empty download usually means the source moved or the request was refused.',
    });
  }
  process(true);
  if (parser!.rows > 0 || batches.length === 0) flush(true);

  const table = assemble(names!, types, batches);
  return { table, report: { rows, badRows, badRowSamples } };
}

function declaredTypes(options: CsvReadOptions): Map<string, ColumnType> {
  const declared = new Map<string, ColumnType>(Object.entries(options.columns ?? {}));
  for (const name of options.parseDates ?? []) {
    const type = declared.get(name);
    if (type !== 'date') declared.set(name, 'timestamp');
  }
  return declared;
}

function checkDeclared(declared: Map<string, ColumnType>, names: string[], source: string): void {
  const missing = [...declared.keys()].filter((n) => !names.includes(n));
  if (missing.length === 0) return;
  throw new DataError({
    source,
    row: 1,
    column: missing[0],
    message: `declared column${missing.length > 1 ? 's' : ''} ${missing.map((m) => JSON.stringify(m)).join(', ')} not in the header`,
    hint: `The header has: ${names.join(', ')}. Check the spelling (names are case-sensitive) in the columns / parseDates options.`,
  });
}

/** Types the undeclared columns and builds the table, one record batch per parsed batch. */
function assemble(names: string[], types: (ColumnType | undefined)[], batches: Vector[][]): Table {
  const finalTypes = types.map((t, c) => t ?? inferType(batches.map((b) => b[c])));
  const fields = names.map((name, c) => new Field(name, arrowType(finalTypes[c]), true));
  const schema = new Schema(fields);
  const recordBatches = batches.map((columns) => {
    const children = columns.map((v, c) => (types[c] ? v : convertText(v, finalTypes[c])).data[0]);
    const length = children[0]?.length ?? 0;
    return new RecordBatch(schema, makeData({ type: new Struct(fields), length, nullCount: 0, children }));
  });
  return new Table(schema, recordBatches);
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
