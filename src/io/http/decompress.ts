/** Gzip detection and streaming decompression. */
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { DataError } from '../../errors.ts';

/**
 * Gunzips the stream when `name` ends in `.gz` or the first bytes are the gzip
 * magic (servers often send .gz files as application/octet-stream, and some
 * "csv" URLs serve gzip). Otherwise passes the bytes through.
 */
export async function* maybeGunzip(bytes: AsyncIterable<Uint8Array>, name: string): AsyncIterable<Uint8Array> {
  const iterator = bytes[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) return;
  const rest = (async function* () {
    yield first.value;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  })();
  const magic = first.value.length >= 2 && first.value[0] === 0x1f && first.value[1] === 0x8b;
  if (!magic && !/\.gz($|\?)/i.test(name)) {
    yield* rest;
    return;
  }
  // pipeline(), not .pipe(): a download that breaks off must fail the read with its own error, not crash the process.
  const gunzip = pipeline(Readable.from(rest, { objectMode: false }), createGunzip({ chunkSize: 1 << 20 }), () => {});
  try {
    for await (const chunk of gunzip) yield chunk as Uint8Array;
  } catch (error) {
    if ((error as { code?: string }).code?.startsWith('Z_')) {
      throw new DataError({
        source: name,
        message: `not valid gzip data: ${(error as Error).message}`,
        hint: 'The download may be cut short or the file is not gzipped; download it again or drop the .gz suffix.',
      });
    }
    throw error;
  }
}
