/**
 * The record loop: splits bytes into cells (RFC 4180: quoted cells with ""
 * escapes, delimiters and newlines inside quotes, LF or CRLF line ends) and
 * hands each cell to its column builder. A record cut by the end of a chunk
 * is rolled back and parsed again once the next chunk arrives.
 */
import type { ColumnBuilder } from './columns.ts';
import { latin1 } from './scalars.ts';

const LF = 10;
const CR = 13;
const QUOTE = 34;

/** Why a row was rejected; `column` is the 0-based cell index for value errors. */
export interface BadRow {
  readonly line: number;
  readonly reason: string;
  readonly column?: number;
  readonly value: string;
}

export class RecordParser {
  /** Rows stored in the current batch. */
  rows = 0;
  /** Physical line number of the next record (the header is line 1). */
  line = 2;
  private scratch = new Uint8Array(256);

  constructor(
    private readonly builders: readonly ColumnBuilder[],
    private readonly delimiter: number,
    /** Called for every rejected row; may throw to stop. */
    private readonly onBad: (bad: BadRow) => void,
    /** Called when the batch is full (`rows === capacity`). */
    private readonly onFull: () => void,
    private capacity: number,
  ) {}

  setCapacity(capacity: number): void {
    this.capacity = capacity;
  }

  /**
   * Parses complete records of `buf[from, end)`. Returns where the first
   * incomplete record starts (`end` when none), unless `final`, where the
   * last record ends at `end`.
   */
  parse(buf: Uint8Array, from: number, end: number, final: boolean): number {
    const builders = this.builders;
    const expected = builders.length;
    const delimiter = this.delimiter;
    let pos = from;
    while (pos < end) {
      const recordStart = pos;
      const recordLine = this.line;
      const first = buf[pos];
      if (first === LF) {
        pos++;
        this.line++;
        continue;
      } // blank line, skipped like pandas
      if (first === CR) {
        if (pos + 1 === end && !final) return recordStart;
        pos += buf[pos + 1] === LF ? 2 : 1;
        this.line++;
        continue;
      }
      const row = this.rows;
      let field = 0;
      let badColumn = -1;
      let badValue = '';
      let quoteError = '';
      let truncated = false;
      for (;;) {
        let s = pos;
        let e: number;
        let cellBuf = buf;
        if (buf[pos] === QUOTE) {
          // Quoted cell: find the closing quote, noting "" escapes and newlines.
          let i = pos + 1;
          let escapes = 0;
          for (;;) {
            while (i < end && buf[i] !== QUOTE) {
              if (buf[i] === LF) this.line++;
              i++;
            }
            if (i + 1 < end && buf[i + 1] === QUOTE) {
              escapes++;
              i += 2;
              continue;
            }
            break;
          }
          if (i >= end || (i + 1 === end && !final)) {
            if (!final) {
              this.rollback(row, recordLine);
              return recordStart;
            }
            quoteError = 'a quoted cell is not closed before the end of the file';
            e = end;
          } else {
            e = i;
          }
          s = pos + 1;
          pos = Math.min(e + 1, end);
          if (escapes > 0) {
            cellBuf = this.unescape(buf, s, e);
            s = 0;
            e = this.unescapedLength;
          }
          if (pos < end && buf[pos] !== delimiter && buf[pos] !== LF && buf[pos] !== CR && !quoteError) {
            quoteError = `unexpected ${JSON.stringify(String.fromCharCode(buf[pos]))} after a closing quote`;
            while (pos < end && buf[pos] !== delimiter && buf[pos] !== LF && buf[pos] !== CR) pos++;
          }
        } else {
          let c = 0;
          while (pos < end && (c = buf[pos]) !== delimiter && c !== LF && c !== CR) pos++;
          if (pos === end && !final) {
            this.rollback(row, recordLine);
            return recordStart;
          }
          e = pos;
        }
        if (field < expected && !builders[field].parse(cellBuf, s, e, row) && badColumn < 0) {
          badColumn = field;
          badValue = latin1(cellBuf, s, e);
        }
        field++;
        if (pos < end && buf[pos] === delimiter) {
          pos++;
          if (pos === end) {
            if (!final) {
              this.rollback(row, recordLine);
              return recordStart;
            }
            // A trailing delimiter at the end of the file: one more empty cell.
            if (field < expected) builders[field].parse(buf, pos, pos, row);
            field++;
            truncated = true;
            break;
          }
          continue;
        }
        if (pos === end) {
          truncated = true;
          break;
        }
        if (buf[pos] === CR) {
          if (pos + 1 === end && !final) {
            this.rollback(row, recordLine);
            return recordStart;
          }
          pos += buf[pos + 1] === LF ? 2 : 1;
        } else {
          pos++;
        }
        this.line++;
        break;
      }
      if (field !== expected || quoteError || badColumn >= 0) {
        for (const b of builders) b.rollback(row);
        const value = latin1(buf, recordStart, Math.min(pos, recordStart + 200)).replace(/\r?\n$/, '');
        if (quoteError) this.onBad({ line: recordLine, reason: quoteError, value });
        else if (field !== expected) {
          const reason =
            truncated && field < expected
              ? `the last line is cut short: ${field} of ${expected} fields and no newline (an interrupted download?)`
              : `expected ${expected} fields, found ${field}`;
          this.onBad({ line: recordLine, reason, value });
        } else this.onBad({ line: recordLine, reason: 'not a value of the declared type', column: badColumn, value: badValue });
        continue;
      }
      this.rows = row + 1;
      if (this.rows === this.capacity) this.onFull();
    }
    return pos;
  }

  private unescapedLength = 0;

  /** Copies a quoted cell's bytes with "" collapsed into a scratch buffer. */
  private unescape(buf: Uint8Array, s: number, e: number): Uint8Array {
    if (this.scratch.length < e - s) this.scratch = new Uint8Array((e - s) * 2);
    const out = this.scratch;
    let n = 0;
    for (let i = s; i < e; i++) {
      out[n++] = buf[i];
      if (buf[i] === QUOTE) i++;
    }
    this.unescapedLength = n;
    return out;
  }

  private rollback(row: number, line: number): void {
    for (const b of this.builders) b.rollback(row);
    this.line = line;
  }
}
