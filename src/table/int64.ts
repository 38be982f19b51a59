/**
 * Int64 and timestamp values as two little-endian Int32 words, so hot loops
 * read and write them as doubles without creating a BigInt per value. Exact
 * up to ±2^53 (every timestamp in microseconds until year 287396).
 */

const TWO_32 = 4294967296;

/** Value `index` of an Int64 word view (`new Int32Array(bigints.buffer)`) as a double. */
export function readInt64(words: Int32Array, index: number): number {
  return words[(index << 1) + 1] * TWO_32 + (words[index << 1] >>> 0);
}

/** Stores an integral double at `index` of an Int64 word view. */
export function writeInt64(words: Int32Array, index: number, value: number): void {
  const hi = Math.floor(value / TWO_32);
  words[index << 1] = (value - hi * TWO_32) | 0;
  words[(index << 1) + 1] = hi | 0;
}

/** The Int32 word view over a BigInt64Array (no copy). */
export function int64Words(values: BigInt64Array): Int32Array {
  return new Int32Array(values.buffer, values.byteOffset, values.length * 2);
}
