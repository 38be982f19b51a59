/**
 * Filtering by runs: a mask that keeps most rows (the taxi filter keeps 98%)
 * is a list of long contiguous runs, and copying each run with one
 * `TypedArray.set` per column is several times faster than gathering row by
 * row through `take`. Runs are found per input batch, so no row mapping
 * across chunks is needed either.
 */
import { type Data, type DataType, RecordBatch, Struct, Table, Type, makeData } from 'apache-arrow';
import { countZeroBits, getBit, newBitmap } from './bitmap.ts';
import { isFixedWidth } from './fixed-width.ts';

/** Kept-row runs of one batch: `[starts[k], ends[k])`, batch-local. */
interface Runs {
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  readonly count: number;
  readonly kept: number;
}

/**
 * Runs per batch, or null when the runs are too short for copying by run to
 * pay off (then `take` is the better tool).
 */
export function maskRuns(table: Table, mask: Uint8Array): Runs[] | null {
  const out: Runs[] = [];
  let at = 0;
  let totalRuns = 0;
  let totalKept = 0;
  for (const batch of table.batches) {
    const n = batch.numRows;
    let count = 0;
    for (let i = 0; i < n; i++) if (mask[at + i] !== 0 && (i === 0 || mask[at + i - 1] === 0)) count++;
    const starts = new Int32Array(count);
    const ends = new Int32Array(count);
    let k = -1;
    let kept = 0;
    for (let i = 0; i < n; i++) {
      if (mask[at + i] === 0) continue;
      if (i === 0 || mask[at + i - 1] === 0) starts[++k] = i;
      ends[k] = i + 1;
      kept++;
    }
    out.push({ starts, ends, count, kept });
    totalRuns += count;
    totalKept += kept;
    at += n;
  }
  // Below ~16 rows per run, per-run call overhead eats the gain.
  return totalRuns * 16 <= totalKept ? out : null;
}

/**
 * The rows of `table` covered by `runs` (from `maskRuns`), as one record
 * batch like `take` returns (downstream helpers such as `withColumn` expect
 * their inputs' chunks to line up).
 */
export function keepRuns(table: Table, runs: readonly Runs[]): Table {
  const length = runs.reduce((n, r) => n + r.kept, 0);
  const children = table.schema.fields.map((_, c) =>
    keepData(
      table.batches.map((b) => b.data.children[c]),
      runs,
      length,
    ),
  );
  const struct = makeData({ type: new Struct(table.schema.fields), length, nullCount: 0, children });
  return new Table([new RecordBatch(table.schema, struct)]);
}

/** One column: the runs of each of its chunks, appended into one Data. */
function keepData(chunks: readonly Data[], runs: readonly Runs[], length: number): Data {
  const type = chunks[0].type as DataType;
  const withNulls = chunks.some((d) => d.nullCount > 0 && d.nullBitmap);
  const nullBitmap = withNulls ? newBitmap(length) : undefined;
  if (nullBitmap) {
    let pos = 0;
    chunks.forEach((d, b) => {
      if (d.nullCount > 0 && d.nullBitmap) keepBits(d.nullBitmap, d.offset, runs[b], nullBitmap, pos);
      else for (let i = pos; i < pos + runs[b].kept; i++) nullBitmap[i >> 3] |= 1 << (i & 7);
      pos += runs[b].kept;
    });
  }
  const nullCount = nullBitmap ? countZeroBits(nullBitmap, length) : 0;
  if (isFixedWidth(type.typeId)) {
    // `values` is already sliced to the Data's offset for fixed-width types (see take.ts).
    const stride = chunks[0].stride;
    const out = new ((chunks[0].values as Int32Array).constructor as Int32ArrayConstructor)(length * stride);
    let pos = 0;
    chunks.forEach((d, b) => {
      const values = d.values as Int32Array;
      const r = runs[b];
      for (let k = 0; k < r.count; k++) {
        const s = r.starts[k] * stride;
        const e = r.ends[k] * stride;
        out.set(values.subarray(s, e), pos);
        pos += e - s;
      }
    });
    return makeData({ type, length, nullCount, nullBitmap, data: out } as never);
  }
  switch (type.typeId) {
    case Type.Bool: {
      const out = newBitmap(length);
      let pos = 0;
      chunks.forEach((d, b) => {
        keepBits(d.values as Uint8Array, d.offset, runs[b], out, pos);
        pos += runs[b].kept;
      });
      return makeData({ type, length, nullCount, nullBitmap, data: out } as never);
    }
    case Type.Utf8:
    case Type.Binary: {
      // Offsets are sliced with the Data, the bytes are not.
      let total = 0;
      chunks.forEach((d, b) => {
        const o = d.valueOffsets as Int32Array;
        const r = runs[b];
        for (let k = 0; k < r.count; k++) total += o[r.ends[k]] - o[r.starts[k]];
      });
      const valueOffsets = new Int32Array(length + 1);
      const out = new Uint8Array(total);
      let row = 0;
      let base = 0;
      chunks.forEach((d, b) => {
        const offsets = d.valueOffsets as Int32Array;
        const bytes = d.values as Uint8Array;
        const r = runs[b];
        for (let k = 0; k < r.count; k++) {
          const s = r.starts[k];
          const e = r.ends[k];
          const shift = base - offsets[s];
          for (let i = s + 1; i <= e; i++) valueOffsets[++row] = offsets[i] + shift;
          out.set(bytes.subarray(offsets[s], offsets[e]), base);
          base += offsets[e] - offsets[s];
        }
      });
      return makeData({ type, length, nullCount, nullBitmap, valueOffsets, data: out } as never);
    }
    default:
      throw new TypeError(`keepRuns: ${type} is not supported`);
  }
}

/** Appends the bits (validity or Bool values) of the runs to `out` from bit `pos`. */
function keepBits(bits: Uint8Array, offset: number, runs: Runs, out: Uint8Array, pos: number): void {
  for (let k = 0; k < runs.count; k++) {
    for (let i = runs.starts[k] + offset, e = runs.ends[k] + offset; i < e; i++, pos++) {
      if (getBit(bits, i)) out[pos >> 3] |= 1 << (pos & 7);
    }
  }
}

/** Whether every column of `table` is a type `keepRuns` copies by run. */
export function runsSupported(table: Table): boolean {
  const simple = (t: DataType): boolean => isFixedWidth(t.typeId) || [Type.Bool, Type.Utf8, Type.Binary].includes(t.typeId);
  return table.schema.fields.every((f) => simple(f.type));
}
