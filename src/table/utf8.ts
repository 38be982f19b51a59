/**
 * UTF-8 validity of raw bytes. Arrow's Utf8 must be valid UTF-8, and readers
 * downstream trust it: a Latin-1 "é" that reached a Parquet file made
 * parquet-wasm abort the whole process when the file was read back. ASCII,
 * the usual case, costs one scan of the bytes.
 */
const strict = new TextDecoder('utf-8', { fatal: true });

/** Index of the first byte of `bytes[start..end)` that is not ASCII, or `end`. */
export function firstNonAscii(bytes: Uint8Array, start: number, end: number): number {
  let i = start;
  while (i < end && bytes[i] < 0x80) i++;
  return i;
}

/** Whether `bytes[start..end)` is valid UTF-8. */
export function isUtf8(bytes: Uint8Array, start: number, end: number): boolean {
  const i = firstNonAscii(bytes, start, end);
  if (i === end) return true;
  try {
    strict.decode(bytes.subarray(i, end));
    return true;
  } catch {
    return false;
  }
}
