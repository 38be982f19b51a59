/**
 * Opens a URL or path as a byte stream: `http(s)://` through fetch (the body
 * is streamed, never buffered), `file://` URLs and absolute paths from disk.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConnectionError, NonRetriableError } from '../../errors.ts';

export interface OpenedSource {
  readonly bytes: AsyncIterable<Uint8Array>;
  /** Size when known (Content-Length or file size), for logs. */
  readonly size?: number;
}

/** Statuses that will not change by retrying. */
const PERMANENT = new Set([400, 401, 403, 404, 405, 410, 451]);

/**
 * @throws NonRetriableError (its `cause` a ConnectionError) for a missing file, a 404 and other permanent statuses.
 * @throws ConnectionError for network failures and other HTTP errors (worth retrying).
 */
export async function openSource(url: string): Promise<OpenedSource> {
  if (/^https?:\/\//i.test(url)) return openHttp(url);
  if (url.startsWith('file://') || isAbsolute(url)) return openFile(url.startsWith('file://') ? fileURLToPath(url) : url, url);
  throw new NonRetriableError(`${url}: not an http(s):// URL, file:// URL or absolute path`, {
    hint: 'Pass a full URL such as https://github.com/DataTalksClub/nyc-tlc-data/releases/download/yellow/yellow_tripdata_2021-01.csv.gz, or an absolute file path.',
  });
}

async function openHttp(url: string): Promise<OpenedSource> {
  let response: Response;
  try {
    response = await fetch(url, { redirect: 'follow', headers: { 'accept-encoding': 'identity' } });
  } catch (error) {
    const reason = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new ConnectionError({
      target: url,
      message: `request failed: ${reason?.code ?? reason?.message ?? (error as Error).message}`,
      hint: 'Check the network and the host name; the block will be retried if it has retries.',
      cause: error,
    });
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => {});
    const status = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
    const failure = new ConnectionError({
      target: url,
      message: `the server answered ${status}`,
      hint: response.status === 404 ? 'Check the URL (year, month, file name); the file is not there.' : 'Check the URL and access rights.',
    });
    if (PERMANENT.has(response.status)) throw new NonRetriableError(failure.message, { hint: failure.hint, cause: failure });
    throw failure;
  }
  const length = Number(response.headers.get('content-length'));
  const body = response.body;
  return { bytes: body ? guard(body as unknown as AsyncIterable<Uint8Array>, url) : (async function* () {})(), size: Number.isFinite(length) && length > 0 ? length : undefined };
}

async function openFile(path: string, url: string): Promise<OpenedSource> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (error) {
    const failure = new ConnectionError({ target: url, message: `cannot read the file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, hint: 'Check the path.', cause: error });
    throw new NonRetriableError(failure.message, { hint: failure.hint, cause: failure });
  }
  return { bytes: guard(createReadStream(path, { highWaterMark: 1 << 20 }), url), size };
}

/** Turns errors in the middle of a stream (a reset connection) into ConnectionErrors naming the source. */
async function* guard(stream: AsyncIterable<Uint8Array>, url: string): AsyncIterable<Uint8Array> {
  try {
    for await (const chunk of stream) yield chunk;
  } catch (error) {
    throw new ConnectionError({ target: url, message: `the transfer broke off: ${(error as Error).message}`, hint: 'Retry; if it keeps failing, download the file and load it from disk.', cause: error });
  }
}
