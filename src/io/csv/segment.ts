/**
 * One segment of a CSV body — whole records, cut after a line end — parsed
 * into the columns of one record batch. The same function runs on the main
 * thread and in the decoder's worker (segment-worker.ts), so both give the
 * same values and the same bad rows; only plain typed arrays cross between
 * them (transferred, not copied), and the worker never loads Arrow.
 */
import type { ColumnType } from '../types.ts';
import { type ColumnBuffers, StringBuilder, columnBuilder } from './columns.ts';
import { RecordParser, type BadRow } from './parser.ts';

const LF = 10;
/** Bad rows a segment reports in full: the first fails the decode, the first few are the report's samples. */
const BAD_ROWS_KEPT = 5;

export interface SegmentResult {
  /** Good rows (bad rows are not stored). */
  readonly rows: number;
  /** Physical lines the segment spans, so the next segment's line numbers can follow on. */
  readonly lines: number;
  readonly columns: readonly ColumnBuffers[];
  /** The first bad rows, lines counted from the segment's first line as 0. */
  readonly bad: readonly BadRow[];
  readonly badCount: number;
}

/** What the worker is sent: `types[c]` undefined for a column typed later by inference (parsed as text). */
export interface SegmentJob {
  readonly id: number;
  readonly bytes: Uint8Array;
  readonly types: readonly (ColumnType | undefined)[];
  readonly delimiter: number;
}

/** Parses a segment that ends at a record's end (or at the end of the file). */
export function parseSegment(bytes: Uint8Array, types: readonly (ColumnType | undefined)[], delimiter: number): SegmentResult {
  let capacity = countLineFeeds(bytes) + 1;
  const builders = types.map((t) => (t ? columnBuilder(t, capacity) : new StringBuilder(capacity)));
  const bad: BadRow[] = [];
  let badCount = 0;
  const parser: RecordParser = new RecordParser(
    builders,
    delimiter,
    (row) => {
      if (badCount++ < BAD_ROWS_KEPT) bad.push(row);
    },
    // Only lone-CR line ends outnumber the line feeds counted above.
    () => {
      capacity *= 2;
      for (const b of builders) b.grow(capacity);
      parser.setCapacity(capacity);
    },
    capacity,
  );
  parser.line = 0;
  parser.parse(bytes, 0, bytes.length, true);
  const columns = builders.map((b) => b.finish(parser.rows, true));
  return { rows: parser.rows, lines: parser.line, columns, bad, badCount };
}

/** The ArrayBuffers of a result, to transfer (each once). */
export function transferList(result: SegmentResult): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const c of result.columns) {
    for (const view of [c.values, c.nullBitmap, c.valueOffsets]) if (view) buffers.add(view.buffer as ArrayBuffer);
  }
  return [...buffers];
}

function countLineFeeds(bytes: Uint8Array): number {
  let n = 0;
  for (let i = bytes.indexOf(LF); i >= 0; i = bytes.indexOf(LF, i + 1)) n++;
  return n;
}
