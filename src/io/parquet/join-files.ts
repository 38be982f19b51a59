/**
 * Parquet files of one schema, joined into one file without decoding a page:
 * `PAR1`, the first file's row groups, each next file's row groups (with their
 * bloom filters and page indexes), then one footer listing every row group,
 * offsets moved by where its bytes now start. Parquet locates everything
 * through the footer's absolute offsets, so this is a valid file, the same
 * rows in the same order as the files one after the other.
 *
 * Why: DuckDB encodes a COPY from pipekit's Arrow scan on one thread (the scan
 * cannot number its batches, so an ordered COPY is not parallel). Encoding
 * halves of a table in two COPYs side by side and joining them gives one
 * file, in order, encoded on two cores.
 */
import { open } from 'node:fs/promises';
import { field, readStruct, writeStruct, type ThriftList, type ThriftStruct } from './thrift-compact.ts';

const MAGIC = new TextEncoder().encode('PAR1');

/** FileMetaData, RowGroup, ColumnChunk and ColumnMetaData field ids (parquet.thrift). */
const FILE = { schema: 2, numRows: 3, rowGroups: 4 } as const;
const ROW_GROUP = { columns: 1, fileOffset: 5, ordinal: 7 } as const;
const CHUNK = { filePath: 1, fileOffset: 2, metaData: 3, offsetIndexOffset: 4, columnIndexOffset: 6 } as const;
const COLUMN_META = { dataPageOffset: 9, indexPageOffset: 10, dictionaryPageOffset: 11, bloomFilterOffset: 14 } as const;

/** One file to join: where its row groups end (its footer starts) and its parsed footer. */
export interface ParquetPart {
  readonly path: string;
  /** Bytes of the file before its footer: `PAR1` and the row groups. */
  readonly bodyEnd: number;
  readonly metadata: ThriftStruct;
}

/** Reads the footer of the Parquet file at `path`. */
export async function readParquetPart(path: string): Promise<ParquetPart> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const tail = Buffer.alloc(8);
    await handle.read(tail, 0, 8, size - 8);
    if (size < 12 || !tail.subarray(4).equals(MAGIC)) throw new Error(`${path}: not a Parquet file (no PAR1 at its end)`);
    const length = tail.readUInt32LE(0);
    const bodyEnd = size - 8 - length;
    if (bodyEnd < 4) throw new Error(`${path}: its Parquet footer length (${length}) is larger than the file`);
    const footer = Buffer.alloc(length);
    await handle.read(footer, 0, length, bodyEnd);
    return { path, bodyEnd, metadata: readStruct(footer) };
  } finally {
    await handle.close();
  }
}

/**
 * The footer of the joined file (FileMetaData, its length, `PAR1`): the first
 * part's, with every part's row groups, their offsets moved by what precedes
 * them, ordinals renumbered and the row count summed.
 */
export function joinedFooter(parts: readonly ParquetPart[]): Uint8Array {
  if (parts.length === 0) throw new Error('joinedFooter: no files to join');
  const first = parts[0].metadata;
  const schema = writeStruct({ kind: 'struct', fields: [required(first, FILE.schema, 'FileMetaData')] });
  const rowGroups: ThriftStruct[] = [];
  let numRows = 0n;
  let start = MAGIC.length; // where the next part's row groups land in the joined file
  for (const part of parts) {
    const theirs = writeStruct({ kind: 'struct', fields: [required(part.metadata, FILE.schema, 'FileMetaData')] });
    if (!sameBytes(theirs, schema)) throw new Error(`${part.path}: its Parquet schema differs from ${parts[0].path}'s`);
    const shift = BigInt(start - MAGIC.length);
    for (const value of (required(part.metadata, FILE.rowGroups, 'FileMetaData').value as ThriftList).items) {
      const rowGroup = value as ThriftStruct;
      moveRowGroup(rowGroup, shift, part.path);
      const ordinal = field(rowGroup, ROW_GROUP.ordinal);
      if (ordinal) ordinal.value = BigInt(rowGroups.length);
      rowGroups.push(rowGroup);
    }
    numRows += required(part.metadata, FILE.numRows, 'FileMetaData').value as bigint;
    start += part.bodyEnd - MAGIC.length;
  }
  const metadata: ThriftStruct = {
    kind: 'struct',
    fields: first.fields.map((f) => {
      if (f.id === FILE.numRows) return { ...f, value: numRows };
      if (f.id === FILE.rowGroups) return { ...f, value: { ...(f.value as ThriftList), items: rowGroups } };
      return f;
    }),
  };
  const encoded = writeStruct(metadata);
  const footer = new Uint8Array(encoded.length + 8);
  footer.set(encoded, 0);
  new DataView(footer.buffer).setUint32(encoded.length, encoded.length, true);
  footer.set(MAGIC, encoded.length + 4);
  return footer;
}

/** Moves every absolute offset of `rowGroup` (and of its column chunks) by `shift` bytes. */
function moveRowGroup(rowGroup: ThriftStruct, shift: bigint, path: string): void {
  moveOffset(rowGroup, ROW_GROUP.fileOffset);
  for (const value of (required(rowGroup, ROW_GROUP.columns, 'RowGroup').value as ThriftList).items) {
    const chunk = value as ThriftStruct;
    // A chunk in another file would not move with this one's bytes.
    if (field(chunk, CHUNK.filePath)) throw new Error(`${path}: a column chunk lives in another file; cannot join`);
    moveOffset(chunk, CHUNK.fileOffset);
    moveOffset(chunk, CHUNK.offsetIndexOffset);
    moveOffset(chunk, CHUNK.columnIndexOffset);
    const meta = field(chunk, CHUNK.metaData)?.value as ThriftStruct | undefined;
    if (!meta) continue;
    for (const id of Object.values(COLUMN_META)) moveOffset(meta, id);
  }

  function moveOffset(struct: ThriftStruct, id: number): void {
    const f = field(struct, id);
    // Writers put 0 in file_offset when they have nothing to say: not an offset to move.
    if (f && typeof f.value === 'bigint' && f.value > 0n) f.value += shift;
  }
}

function required(struct: ThriftStruct, id: number, what: string) {
  const f = field(struct, id);
  if (!f) throw new Error(`Parquet footer: ${what} has no field ${id}`);
  return f;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
