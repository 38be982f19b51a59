/**
 * The `HttpLoader` of `ctx.io.http`: CSV (plain or gzipped) and Parquet from
 * a URL or a path, decoded into Arrow while the bytes arrive.
 */
import type { Table } from 'apache-arrow';
import { DataError } from '../../errors.ts';
import type { HttpLoader, HttpLoadOptions, ReadReport } from '../types.ts';
import { decodeCsv } from '../csv/decode.ts';
import { maybeGunzip } from './decompress.ts';
import { openSource } from './open-source.ts';

export interface HttpLoaderOptions {
  /** Progress lines: what was fetched, how big, how many rows, bad rows. */
  readonly log?: (message: string) => void;
  /** Until a server's response headers (HTTP_CONNECT_TIMEOUT). Default 30 s. */
  readonly connectTimeoutMs?: number;
  /** The longest a download may go without receiving data (HTTP_IDLE_TIMEOUT). Default 60 s. */
  readonly idleTimeoutMs?: number;
}

/** Creates the loader. Stateless: one instance can serve every block. */
export function createHttpLoader(options: HttpLoaderOptions = {}): HttpLoader {
  const log = options.log ?? (() => {});
  const loadWithReport = async (url: string, { signal, ...csv }: HttpLoadOptions = {}): Promise<{ table: Table; report: ReadReport }> => {
    const started = performance.now();
    const source = await openSource(url, { signal, connectTimeoutMs: options.connectTimeoutMs, idleTimeoutMs: options.idleTimeoutMs });
    log(`reading ${url}${source.size ? ` (${(source.size / 1e6).toFixed(1)} MB)` : ''}`);
    const result = /\.parquet($|\?)/i.test(url)
      ? await readParquetSource(source.bytes, url)
      : await decodeCsv(maybeGunzip(source.bytes, url), { ...csv, sourceName: url });
    const { rows, badRows, badRowSamples } = result.report;
    log(`${rows.toLocaleString('en-US')} rows from ${url} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    if (badRows > 0) {
      log(`skipped ${badRows} bad row${badRows > 1 ? 's' : ''}: ${badRowSamples.map((s) => `line ${s.line}: ${s.reason}`).join('; ')}`);
    }
    return result;
  };
  return {
    loadWithReport,
    load: async (url, csv) => (await loadWithReport(url, csv)).table,
  };
}

/** Parquet needs the whole file (the footer is at the end), so it is gathered first. */
async function readParquetSource(bytes: AsyncIterable<Uint8Array>, url: string): Promise<{ table: Table; report: ReadReport }> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of bytes) {
    chunks.push(chunk);
    total += chunk.length;
  }
  if (total === 0) throw new DataError({ source: url, message: 'the file is empty (0 bytes)', hint: 'Check the URL or path.' });
  // Only here: parquet-wasm compiles ~5 MB of WebAssembly as it loads (~0.08 CPU-s), which a
  // CSV download, the common case, would pay for nothing.
  const { readParquetRowGroups } = await import('../parquet/read.ts');
  const table = await readParquetRowGroups(new Blob(chunks as Uint8Array<ArrayBuffer>[]), { source: url });
  return { table, report: { rows: table.numRows, badRows: 0, badRowSamples: [] } };
}
