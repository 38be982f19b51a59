/**
 * Row gathering on raw Arrow buffers. `take` is the workhorse under
 * filtering, sorting and partitioning: it copies fixed-width values as 32-bit
 * words (so Int64 and Timestamp never become BigInts), Utf8 as offsets plus
 * one byte copy per string, Bool and validity as bits.
 */
import { type Data, type DataType, Table, Type, makeBuilder, makeData, makeVector, RecordBatch, Struct } from 'apache-arrow';
import { countZeroBits, getBit, newBitmap } from './bitmap.ts';
import { isFixedWidth } from './fixed-width.ts';

/**
 * Where each requested row lives: `chunk[i]` (omitted for single-chunk
 * columns) and the row inside that chunk, `local[i]`.
 */
interface RowMap {
  readonly chunk: Uint16Array | Uint32Array | null;
  readonly local: Int32Array | Uint32Array;
  /** The rows as runs of consecutive rows of one chunk, when they are long enough to copy run by run. */
  readonly runs: RowRuns | null;
}

/** Run k: `length[k]` rows from row `from[k]` of chunk `chunk[k]`, to output row `at[k]`. */
interface RowRuns {
  readonly count: number;
  readonly at: Int32Array;
  readonly chunk: Int32Array;
  readonly from: Int32Array;
  readonly length: Int32Array;
}

/** Below this many rows per run on average, per-run calls cost more than they save. */
const MIN_AVERAGE_RUN = 16;

/**
 * Returns a table with the rows of `table` at `indices`, in that order
 * (indices may repeat). The result has a single record batch.
 *
 * @throws RangeError when an index is outside `[0, table.numRows)`.
 */
export function take(table: Table, indices: Int32Array | Uint32Array): Table {
  const map = mapRows(
    table.batches.map((b) => b.numRows),
    table.numRows,
    indices,
  );
  const children = table.schema.fields.map((_, i) => {
    const chunks = table.batches.map((b) => b.data.children[i]);
    return takeChunks(chunks, map, indices.length);
  });
  const struct = makeData({ type: new Struct(table.schema.fields), length: indices.length, nullCount: 0, children });
  return new Table([new RecordBatch(table.schema, struct)]);
}

/** Gathers rows from the chunks of one column (all of the same type). */
export function takeData(chunks: readonly Data[], indices: Int32Array | Uint32Array): Data {
  const total = chunks.reduce((n, c) => n + c.length, 0);
  return takeChunks(
    chunks,
    mapRows(
      chunks.map((c) => c.length),
      total,
      indices,
    ),
    indices.length,
  );
}

function mapRows(lengths: readonly number[], total: number, indices: Int32Array | Uint32Array): RowMap {
  const n = indices.length;
  for (let i = 0; i < n; i++) {
    const r = indices[i];
    if (r < 0 || r >= total) throw new RangeError(`take: row index ${r} is outside 0..${total - 1}`);
  }
  if (lengths.length <= 1) return { chunk: null, local: indices, runs: findRuns(null, indices) };
  const starts = new Float64Array(lengths.length + 1);
  for (let c = 0; c < lengths.length; c++) starts[c + 1] = starts[c] + lengths[c];
  const chunk = lengths.length < 65536 ? new Uint16Array(n) : new Uint32Array(n);
  const local = new Int32Array(n);
  let c = 0;
  for (let i = 0; i < n; i++) {
    const r = indices[i];
    // Indices are usually ascending (filters, partitions): try the last chunk before searching.
    if (r < starts[c] || r >= starts[c + 1]) c = findChunk(starts, r);
    chunk[i] = c;
    local[i] = r - starts[c];
  }
  return { chunk, local, runs: findRuns(chunk, local) };
}

/**
 * The rows as runs of consecutive rows, or null when the runs are short. A
 * partition of a time-ordered month is runs of ~150 rows: copied a run at a
 * time, the gather is several times faster than row by row.
 */
function findRuns(chunk: Uint16Array | Uint32Array | null, local: Int32Array | Uint32Array): RowRuns | null {
  const n = local.length;
  const continues = (i: number) => local[i] === local[i - 1] + 1 && (!chunk || chunk[i] === chunk[i - 1]);
  let count = n > 0 ? 1 : 0;
  for (let i = 1; i < n; i++) if (!continues(i)) count++;
  if (count === 0 || count * MIN_AVERAGE_RUN > n) return null;
  const runs = {
    count,
    at: new Int32Array(count),
    chunk: new Int32Array(count),
    from: new Int32Array(count),
    length: new Int32Array(count),
  };
  let k = -1;
  for (let i = 0; i < n; i++) {
    if (i === 0 || !continues(i)) {
      k++;
      runs.at[k] = i;
      runs.chunk[k] = chunk ? chunk[i] : 0;
      runs.from[k] = local[i];
    }
    runs.length[k]++;
  }
  return runs;
}

function findChunk(starts: Float64Array, row: number): number {
  let lo = 0;
  let hi = starts.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= row) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function takeChunks(chunks: readonly Data[], map: RowMap, length: number): Data {
  const type = chunks[0]?.type as DataType;
  const validity = takeValidity(chunks, map, length);
  const nullBitmap = validity ?? undefined;
  const nullCount = validity ? countZeroBits(validity, length) : 0;
  if (isFixedWidth(type.typeId)) return makeData({ type, length, nullCount, nullBitmap, data: takeFixed(chunks, map, length) } as never);
  switch (type.typeId) {
    case Type.Bool:
      return makeData({ type, length, nullCount, nullBitmap, data: takeBits(chunks, map, length) } as never);
    case Type.Utf8:
    case Type.Binary: {
      const { valueOffsets, data } = takeVariable(chunks, map, length);
      return makeData({ type, length, nullCount, nullBitmap, valueOffsets, data } as never);
    }
    case Type.Dictionary:
      if (chunks.every((c) => c.dictionary === chunks[0].dictionary)) {
        return makeData({
          type,
          length,
          nullCount,
          nullBitmap,
          data: takeFixed(chunks, map, length),
          dictionary: chunks[0].dictionary,
        } as never);
      }
      return takeSlow(chunks, map, length);
    default:
      return takeSlow(chunks, map, length);
  }
}

/** The gathered validity bitmap, or null when no source row is null. */
function takeValidity(chunks: readonly Data[], map: RowMap, length: number): Uint8Array | null {
  if (chunks.every((c) => c.nullCount === 0 || !c.nullBitmap)) return null;
  const out = newBitmap(length);
  const { chunk, local } = map;
  for (let i = 0; i < length; i++) {
    const c = chunks[chunk ? chunk[i] : 0];
    const bits = c.nullBitmap;
    if (c.nullCount === 0 || !bits || getBit(bits, c.offset + local[i])) out[i >> 3] |= 1 << (i & 7);
  }
  return out;
}

/** Fixed-width values, copied as 32-bit words (or bytes/halfwords for narrow types). */
function takeFixed(chunks: readonly Data[], map: RowMap, length: number): ArrayBufferView {
  const first = chunks[0].values as ArrayBufferView & { BYTES_PER_ELEMENT: number; constructor: any };
  // `stride` is elements per value: 1 for numbers, words for Decimal, bytes for FixedSizeBinary.
  const width = first.BYTES_PER_ELEMENT * chunks[0].stride;
  const out = new first.constructor((length * width) / first.BYTES_PER_ELEMENT);
  const { chunk, local, runs } = map;
  if (runs) {
    const bytes = chunks.map((c) => new Uint8Array(c.values.buffer, c.values.byteOffset, c.length * width));
    const dst = new Uint8Array(out.buffer, out.byteOffset, length * width);
    for (let k = 0; k < runs.count; k++) {
      const from = runs.from[k] * width;
      dst.set(bytes[runs.chunk[k]].subarray(from, from + runs.length[k] * width), runs.at[k] * width);
    }
    return out;
  }
  if (width % 4 === 0) {
    const words = width >> 2;
    const src = chunks.map((c) => new Int32Array(c.values.buffer, c.values.byteOffset, c.length * words));
    const dst = new Int32Array(out.buffer, out.byteOffset, length * words);
    if (words === 2) {
      for (let i = 0; i < length; i++) {
        const s = src[chunk ? chunk[i] : 0];
        const from = local[i] << 1;
        dst[i << 1] = s[from];
        dst[(i << 1) + 1] = s[from + 1];
      }
    } else if (words === 1) {
      if (!chunk) for (let i = 0; i < length; i++) dst[i] = src[0][local[i]];
      else for (let i = 0; i < length; i++) dst[i] = src[chunk[i]][local[i]];
    } else {
      for (let i = 0; i < length; i++) {
        const s = src[chunk ? chunk[i] : 0];
        const from = local[i] * words;
        for (let w = 0; w < words; w++) dst[i * words + w] = s[from + w];
      }
    }
  } else {
    const src = chunks.map((c) => new Uint8Array(c.values.buffer, c.values.byteOffset, c.length * width));
    const dst = new Uint8Array(out.buffer, out.byteOffset, length * width);
    for (let i = 0; i < length; i++) {
      const s = src[chunk ? chunk[i] : 0];
      const from = local[i] * width;
      for (let b = 0; b < width; b++) dst[i * width + b] = s[from + b];
    }
  }
  return out;
}

/** Bool values: bit offsets follow `Data.offset`, the byte buffer is not sliced. */
function takeBits(chunks: readonly Data[], map: RowMap, length: number): Uint8Array {
  const out = newBitmap(length);
  const { chunk, local } = map;
  for (let i = 0; i < length; i++) {
    const c = chunks[chunk ? chunk[i] : 0];
    if (getBit(c.values as Uint8Array, c.offset + local[i])) out[i >> 3] |= 1 << (i & 7);
  }
  return out;
}

/** Utf8/Binary: offsets are sliced with the Data, the bytes are not. */
function takeVariable(chunks: readonly Data[], map: RowMap, length: number) {
  const { chunk, local } = map;
  const valueOffsets = new Int32Array(length + 1);
  let total = 0;
  for (let i = 0; i < length; i++) {
    const o = chunks[chunk ? chunk[i] : 0].valueOffsets as Int32Array;
    const r = local[i];
    total += o[r + 1] - o[r];
    valueOffsets[i + 1] = total;
  }
  const data = new Uint8Array(total);
  if (map.runs) {
    // A run's strings are contiguous in its chunk: one copy per run.
    const { runs } = map;
    for (let k = 0; k < runs.count; k++) {
      const c = chunks[runs.chunk[k]];
      const o = c.valueOffsets as Int32Array;
      const from = runs.from[k];
      data.set((c.values as Uint8Array).subarray(o[from], o[from + runs.length[k]]), valueOffsets[runs.at[k]]);
    }
    return { valueOffsets, data };
  }
  for (let i = 0; i < length; i++) {
    const c = chunks[chunk ? chunk[i] : 0];
    const o = c.valueOffsets as Int32Array;
    const r = local[i];
    const start = o[r];
    const end = o[r + 1];
    const bytes = c.values as Uint8Array;
    const at = valueOffsets[i];
    // Short strings (taxi flags, zone names) copy faster by hand than through subarray().
    if (end - start <= 16) for (let b = start; b < end; b++) data[at + b - start] = bytes[b];
    else data.set(bytes.subarray(start, end), at);
  }
  return { valueOffsets, data };
}

/** Nested and rare types: through Arrow's builder, value by value. */
function takeSlow(chunks: readonly Data[], map: RowMap, length: number): Data {
  const vectors = chunks.map((c) => makeVector(c));
  const builder = makeBuilder({ type: chunks[0].type, nullValues: [null, undefined] });
  const { chunk, local } = map;
  for (let i = 0; i < length; i++) builder.append(vectors[chunk ? chunk[i] : 0].get(local[i]));
  return builder.finish().flush();
}
