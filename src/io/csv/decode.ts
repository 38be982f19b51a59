/**
 * Streaming CSV → Arrow. Bytes are parsed as they arrive, cells go straight
 * into typed arrays (see columns.ts), and the body is cut into segments of
 * whole records, each one record batch of about BATCH_ROWS rows. Segments are parsed on this thread and
 * on a second one (segment-thread.ts) side by side, so a month of taxi data
 * decodes on two cores; results are taken in file order, so values, bad rows
 * and line numbers are what one parser reading the file in order would give.
 * A body with quoted cells (which may hold line ends, so a cut could fall inside
 * one) is parsed by one parser in order from its first quote on.
 */
import { Field, RecordBatch, Schema, Struct, Table, makeData, type Vector } from 'apache-arrow';
import { ConfigError, DataError } from '../../errors.ts';
import type { ColumnType, CsvReadOptions, ReadReport } from '../types.ts';
import { arrowType, vectorOf } from '../../table/make.ts';
import { StringBuilder, columnBuilder, type ColumnBuilder } from './columns.ts';
import { readHeader } from './header.ts';
import { convertText, inferType } from './infer.ts';
import { RecordParser, type BadRow } from './parser.ts';
import { parseSegment, type SegmentResult } from './segment.ts';
import { availableParallelism } from 'node:os';
import { DUCKDB_THREADS_ENV } from '../duckdb/threads.ts';
import { SegmentThread } from './segment-thread.ts';

/** Rows per record batch when one parser reads in order (quoted bodies). */
export const BATCH_ROWS = 131_072;
/** Segments are sized to hold about BATCH_ROWS rows, as far as the start of the body tells, within these bounds. */
const MIN_SEGMENT_BYTES = 1 << 20;
const MAX_SEGMENT_BYTES = 32 << 20;
/** Bytes of the body's start whose line ends estimate the bytes per row. */
const ESTIMATE_BYTES = 256 << 10;
/** Bytes gathered before parsing in order: fewer, larger passes over the data. */
const READ_AHEAD = 1 << 20;
const FIRST_CAPACITY = 4096;
const MAX_SAMPLES = 5;
/** Segments queued on the thread before this one parses the next itself. */
const THREAD_QUEUE = 2;
const LF = 10;
const QUOTE = 34;

export type DecodeCsvOptions = CsvReadOptions & {
  /** Names the data in errors and reports: a URL, a path, an object key. */
  readonly sourceName: string;
  /** Bytes per segment, instead of the estimate from the body's start (tests make it small to cut small files). */
  readonly segmentBytes?: number;
};

/** A segment in file order: parsed here (result set at once) or on the thread (set when it is back). */
interface QueuedSegment {
  result?: SegmentResult;
  readonly done: Promise<unknown>;
}

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
  const delimiterByte = delimiter.charCodeAt(0);
  const onBadRow = options.onBadRow ?? 'fail';
  let segmentBytes = MAX_SEGMENT_BYTES;
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
    batches.push(builders.map((b, c) => vectorOf(types[c] ?? 'string', b.finish(parser!.rows, last))));
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

  // Segments, in file order, and the line the next one to be taken starts at (the header is line 1).
  const thread = new SegmentThread();
  const threaded = coreToSpare();
  const queue: QueuedSegment[] = [];
  let line = 2;
  const take = (result: SegmentResult) => {
    for (const bad of result.bad) onBad({ ...bad, line: bad.line + line });
    // Beyond the reported ones only the count matters (fail mode threw at the first).
    badRows += result.badCount - result.bad.length;
    line += result.lines;
    batches.push(result.columns.map((column, c) => vectorOf(types[c] ?? 'string', column)));
    rows += result.rows;
  };
  /** Takes the segments at the head of the queue that are parsed; with `all`, waits for every one. */
  const takeSegments = async (all: boolean) => {
    while (queue.length > 0) {
      if (!queue[0].result) {
        if (!all) return;
        await queue[0].done;
      }
      take(queue.shift()!.result!);
    }
  };
  const parseHere = (segment: Uint8Array) => {
    const result = parseSegment(segment, types, delimiterByte);
    queue.push({ result, done: Promise.resolve() });
  };
  const parseThere = (segment: Uint8Array) => {
    const queued: QueuedSegment = {
      done: thread.parse(segment, types, delimiterByte).then((result) => {
        queued.result = result;
      }),
    };
    queued.done.catch(() => undefined); // surfaced when taken
    queue.push(queued);
  };

  let carry: Uint8Array = new Uint8Array(0);
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let sawBytes = false;
  let inOrder = false;
  const process = async (final: boolean) => {
    let buf = pending.length === 0 ? carry : concat([carry, ...pending], carry.length + pendingBytes);
    pending = [];
    pendingBytes = 0;
    if (!names) {
      let start = 0;
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
      buf = buf.subarray(header.end);
      segmentBytes = options.segmentBytes ?? segmentSize(buf);
    }
    while (!inOrder) {
      if (final && buf.length === 0) {
        if (batches.length === 0 && queue.length === 0) parseHere(buf); // a header and no rows
        carry = buf;
        return;
      }
      if (!final && buf.length < segmentBytes) {
        carry = buf;
        return;
      }
      const cut = final && buf.length <= segmentBytes ? buf.length : buf.lastIndexOf(LF, segmentBytes - 1) + 1;
      let segment = buf.subarray(0, cut);
      // No line end in a whole segment's bytes, or quoted cells: from here on one parser, in order.
      if (cut === 0 || segment.indexOf(QUOTE) >= 0) break;
      let rest = buf.subarray(cut);
      if (threaded && (!final || rest.length > 0) && thread.pending < THREAD_QUEUE) {
        // The thread gets a buffer of its own (transferred): copy the smaller side of the cut.
        if (segment.length <= rest.length) segment = new Uint8Array(segment);
        else rest = new Uint8Array(rest);
        parseThere(segment);
      } else {
        parseHere(segment); // the last segment, or the thread is busy
      }
      buf = rest;
      await takeSegments(false);
    }
    if (!inOrder) {
      // Every segment before this point is taken first, so line numbers and batches follow on.
      await takeSegments(true);
      inOrder = true;
      builders = types.map((t) => (t ? columnBuilder(t, capacity) : new StringBuilder(capacity)));
      parser = new RecordParser(builders, delimiterByte, onBad, onFull, capacity);
      parser.line = line;
    }
    const consumed = parser!.parse(buf, 0, buf.length, final);
    carry = buf.subarray(consumed);
  };

  try {
    for await (const chunk of source) {
      if (chunk.length === 0) continue;
      sawBytes = true;
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (carry.length + pendingBytes >= (names && !inOrder ? segmentBytes : READ_AHEAD)) await process(false);
    }
    if (!sawBytes) {
      throw new DataError({
        source: sourceName,
        message: 'the file is empty (0 bytes)',
        hint: 'Check the URL or path; an empty download usually means the source moved or the request was refused.',
      });
    }
    await process(true);
    await takeSegments(true);
  } finally {
    await thread.close();
  }
  if (parser && (parser.rows > 0 || batches.length === 0)) flush(true);

  const table = assemble(names!, types, batches);
  return { table, report: { rows, badRows, badRowSamples } };
}

/**
 * Whether this process has a core to spare for the second thread: not on one
 * core, nor as one of `backfill --parallel`'s processes given a core's share
 * (there the thread's ~0.3 CPU-s would come out of another process's share).
 */
function coreToSpare(): boolean {
  const cores = availableParallelism();
  return cores > 1 && Number(process.env[DUCKDB_THREADS_ENV] ?? cores) > 1;
}

/** Bytes that hold about BATCH_ROWS rows like the first ones of `body`. */
function segmentSize(body: Uint8Array): number {
  const sample = body.subarray(0, ESTIMATE_BYTES);
  let lines = 0;
  for (let i = sample.indexOf(LF); i >= 0; i = sample.indexOf(LF, i + 1)) lines++;
  if (lines === 0) return MAX_SEGMENT_BYTES;
  const bytes = Math.round((sample.length / lines) * BATCH_ROWS);
  return Math.min(MAX_SEGMENT_BYTES, Math.max(MIN_SEGMENT_BYTES, bytes));
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
