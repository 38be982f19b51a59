/**
 * Opens a URL or path as a byte stream: `http(s)://` through fetch (the body
 * is streamed, never buffered), `file://` URLs and absolute paths from disk.
 *
 * Downloads have timeouts of their own: fetch's defaults wait ~5 minutes for
 * headers and forever for a body that stalls. A server that does not answer
 * within `connectTimeoutMs`, or a body that sends nothing for `idleTimeoutMs`,
 * is a retriable ConnectionError naming the URL and how long it waited.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConnectionError, NonRetriableError } from '../../errors.ts';
import { formatDuration } from '../../project/duration.ts';

export interface OpenedSource {
  readonly bytes: AsyncIterable<Uint8Array>;
  /** Size when known (Content-Length or file size), for logs. */
  readonly size?: number;
}

export interface OpenOptions {
  /** Stops the download (the block was cancelled or timed out); its reason is what the read throws. */
  readonly signal?: AbortSignal;
  /** From the request until the response headers. Default 30 s. */
  readonly connectTimeoutMs?: number;
  /** The longest gap between two pieces of the body. Default 60 s. */
  readonly idleTimeoutMs?: number;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

/** Statuses that will not change by retrying. */
const PERMANENT = new Set([400, 401, 403, 404, 405, 410, 451]);

const TIMEOUT_HINT =
  'The block is retried if it has retries. If the server is just slow, raise HTTP_CONNECT_TIMEOUT / HTTP_IDLE_TIMEOUT in io_config.yaml.';

/**
 * @throws NonRetriableError (its `cause` a ConnectionError) for a missing file, a 404 and other permanent statuses.
 * @throws ConnectionError for network failures, timeouts and other HTTP errors (worth retrying).
 */
export async function openSource(url: string, options: OpenOptions = {}): Promise<OpenedSource> {
  options.signal?.throwIfAborted();
  if (/^https?:\/\//i.test(url)) return openHttp(url, options);
  if (url.startsWith('file://') || isAbsolute(url))
    return openFile(url.startsWith('file://') ? fileURLToPath(url) : url, url, options.signal);
  throw new NonRetriableError(`${url}: not an http(s):// URL, file:// URL or absolute path`, {
    hint: 'Pass a full URL such as https://github.com/DataTalksClub/nyc-tlc-data/releases/download/yellow/yellow_tripdata_2021-01.csv.gz, or an absolute file path.',
  });
}

async function openHttp(url: string, options: OpenOptions): Promise<OpenedSource> {
  const connectMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const idleMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  // One controller stops the request and its body: the block's signal or one of our timers.
  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal!.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const done = () => options.signal?.removeEventListener('abort', onAbort);
  let timer = setTimeout(
    () =>
      controller.abort(
        new ConnectionError({ target: url, message: `the server did not answer within ${formatDuration(connectMs)}`, hint: TIMEOUT_HINT }),
      ),
    connectMs,
  );

  let response: Response;
  try {
    response = await fetch(url, { redirect: 'follow', headers: { 'accept-encoding': 'identity' }, signal: controller.signal });
  } catch (error) {
    clearTimeout(timer);
    done();
    if (controller.signal.aborted) throw controller.signal.reason;
    const reason = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new ConnectionError({
      target: url,
      message: `request failed: ${reason?.code ?? reason?.message ?? (error as Error).message}`,
      hint: 'Check the network and the host name; the block will be retried if it has retries.',
      cause: error,
    });
  }
  clearTimeout(timer);
  if (!response.ok) {
    done();
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
  const body = response.body as unknown as AsyncIterable<Uint8Array> | null;

  let received = 0;
  const stalled = () =>
    controller.abort(
      new ConnectionError({
        target: url,
        message: `the transfer stalled: nothing received for ${formatDuration(idleMs)} after ${(received / 1e6).toFixed(1)} MB`,
        hint: TIMEOUT_HINT,
      }),
    );
  async function* watched(): AsyncIterable<Uint8Array> {
    if (!body) return;
    timer = setTimeout(stalled, idleMs);
    try {
      for await (const chunk of body) {
        clearTimeout(timer);
        received += chunk.length;
        yield chunk;
        timer = setTimeout(stalled, idleMs);
      }
    } catch (error) {
      if (controller.signal.aborted) throw controller.signal.reason;
      throw brokenOff(url, error);
    } finally {
      clearTimeout(timer);
      done();
      // A reader that stops early (a bad row) must not leave the connection open.
      if (!controller.signal.aborted) controller.abort();
    }
  }
  return { bytes: watched(), size: Number.isFinite(length) && length > 0 ? length : undefined };
}

async function openFile(path: string, url: string, signal?: AbortSignal): Promise<OpenedSource> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (error) {
    const failure = new ConnectionError({
      target: url,
      message: `cannot read the file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      hint: 'Check the path.',
      cause: error,
    });
    throw new NonRetriableError(failure.message, { hint: failure.hint, cause: failure });
  }
  return { bytes: guard(createReadStream(path, { highWaterMark: 1 << 20, signal }), url, signal), size };
}

/** Turns errors in the middle of a stream into ConnectionErrors naming the source (or the signal's reason). */
async function* guard(stream: AsyncIterable<Uint8Array>, url: string, signal?: AbortSignal): AsyncIterable<Uint8Array> {
  try {
    for await (const chunk of stream) yield chunk;
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw brokenOff(url, error);
  }
}

function brokenOff(url: string, error: unknown): ConnectionError {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const detail = cause?.code ?? cause?.message ?? (error as Error).message;
  return new ConnectionError({
    target: url,
    message: `the transfer broke off: ${detail}`,
    hint: 'Retry; if it keeps failing, download the file and load it from disk.',
    cause: error,
  });
}
