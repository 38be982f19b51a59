/**
 * Validity bitmaps, Arrow layout: bit `i` of byte `i >> 3` (LSB first) is 1
 * when value `i` is present. Buffers are padded to 64 bytes like Arrow's own.
 */

/** Bytes for a bitmap of `length` bits, rounded up to Arrow's 64-byte padding. */
export function bitmapBytes(length: number): number {
  return ((length + 511) >> 9) << 6;
}

/** A zeroed (all-null / all-false) bitmap of `length` bits. */
export function newBitmap(length: number): Uint8Array {
  return new Uint8Array(bitmapBytes(length));
}

/** Whether bit `index` is set. */
export function getBit(bitmap: Uint8Array, index: number): boolean {
  return (bitmap[index >> 3] & (1 << (index & 7))) !== 0;
}

export function setBit(bitmap: Uint8Array, index: number): void {
  bitmap[index >> 3] |= 1 << (index & 7);
}

/** Number of zero bits among the first `length` (the null count of a validity bitmap). */
export function countZeroBits(bitmap: Uint8Array, length: number): number {
  let set = 0;
  const fullBytes = length >> 3;
  for (let i = 0; i < fullBytes; i++) set += POPCOUNT[bitmap[i]];
  for (let i = fullBytes << 3; i < length; i++) if (getBit(bitmap, i)) set++;
  return length - set;
}

const POPCOUNT = (() => {
  const table = new Uint8Array(256);
  for (let i = 1; i < 256; i++) table[i] = (i & 1) + table[i >> 1];
  return table;
})();
