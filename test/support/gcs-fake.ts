/**
 * A small GCS JSON-API fake for tests: the routes `@google-cloud/storage` v7
 * uses for buckets, objects, multipart and resumable uploads, media
 * downloads, listing with paging, and deletes. It records every request and
 * can deny permissions, so tests see the real client's requests and errors.
 *
 * Why not the firebase-tools Storage emulator: pinned firebase-tools@15.34.2
 * adds 625 packages / 312 MB, took 4 min to install from the registry, needs
 * three install scripts (re2's native build among them) and internal-API
 * patching; this file is ~250 lines and starts in milliseconds.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CRC32C, Storage } from '@google-cloud/storage';
import { multipartParts, readBody, sendJson as send } from './http-fake.ts';

export interface FakeObject {
  data: Buffer;
  contentType: string;
  generation: number;
  updated: string;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
}

/** `(method, bucket, objectName?)` → the permission to deny (e.g. `storage.objects.create`), or undefined. */
export type DenyRule = (req: { method: string; bucket: string; object?: string; upload: boolean }) => string | undefined;

export interface GcsFake {
  readonly url: string;
  readonly port: number;
  readonly buckets: Map<string, Map<string, FakeObject>>;
  readonly requests: RecordedRequest[];
  /** A Storage client talking to the fake (no auth). */
  client(): Storage;
  createBucket(name: string): void;
  deny(rule: DenyRule | undefined): void;
  /** Object names in a bucket, sorted. */
  names(bucket: string): string[];
  close(): Promise<void>;
}

interface PendingUpload {
  bucket: string;
  name: string;
  contentType: string;
  chunks: Buffer[];
  size: number;
}

/** Starts the fake on a free port. Page size for listings defaults to 1000, like GCS. */
export async function startGcsFake(options: { pageSize?: number; principal?: string; requireAuth?: boolean } = {}): Promise<GcsFake> {
  const buckets = new Map<string, Map<string, FakeObject>>();
  const uploads = new Map<string, PendingUpload>();
  const requests: RecordedRequest[] = [];
  const principal = options.principal ?? 'pipekit-runner@test-project.iam.gserviceaccount.com';
  let denyRule: DenyRule | undefined;
  let generation = 1;
  let base = '';

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error) => send(res, 500, { error: { code: 500, message: String(error) } }));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', base);
    const query = Object.fromEntries(u.searchParams);
    const method = req.method ?? 'GET';
    requests.push({ method, path: u.pathname, query });
    const body = await readBody(req);
    const upload = u.pathname.startsWith('/upload/');
    const path = u.pathname.replace(/^\/upload/, '').replace(/^\/storage\/v1/, '');

    if (method === 'POST' && path === '/b') {
      const name = JSON.parse(body.toString() || '{}').name as string;
      if (!buckets.has(name)) buckets.set(name, new Map());
      return send(res, 200, bucketResource(name));
    }
    const m = /^\/b\/([^/]+)(?:\/o(?:\/(.+))?)?$/.exec(path);
    if (!m) return send(res, 404, error(404, `no route ${method} ${u.pathname}`, 'notFound'));
    const bucketName = decodeURIComponent(m[1]);
    const isObjects = path.includes('/o');
    const objectName = m[2] !== undefined ? decodeURIComponent(m[2]) : query.name;
    const bucket = buckets.get(bucketName);

    if (!isObjects && method === 'GET') {
      return bucket
        ? send(res, 200, bucketResource(bucketName))
        : send(res, 404, error(404, 'The specified bucket does not exist.', 'notFound'));
    }
    if (options.requireAuth && !req.headers.authorization) {
      // What GCS answers when the client library found no credentials and went on anonymously.
      const permission = isObjects
        ? method === 'GET' && objectName === undefined
          ? 'storage.objects.list'
          : method === 'GET'
            ? 'storage.objects.get'
            : 'storage.objects.create'
        : 'storage.buckets.get';
      return send(
        res,
        401,
        error(
          401,
          `Anonymous caller does not have ${permission} access to the Google Cloud Storage ${objectName ? 'object' : 'bucket'}. Permission '${permission}' denied on resource (or it may not exist).`,
          'required',
        ),
      );
    }
    const denied = denyRule?.({ method, bucket: bucketName, object: objectName, upload });
    if (denied) {
      return send(
        res,
        403,
        error(
          403,
          `${principal} does not have ${denied} access to the Google Cloud Storage ${objectName ? 'object' : 'bucket'}. Permission '${denied}' denied on resource (or it may not exist).`,
          'forbidden',
        ),
      );
    }
    if (!bucket) return send(res, 404, error(404, 'The specified bucket does not exist.', 'notFound'));

    // Uploads ------------------------------------------------------------
    if (upload && method === 'POST' && query.uploadType === 'multipart') {
      const { metadata, media } = parseMultipart(req.headers['content-type'] ?? '', body);
      const name = (metadata.name as string | undefined) ?? query.name;
      return send(res, 200, store(bucket, bucketName, name, media, (metadata.contentType as string) ?? 'application/octet-stream'));
    }
    if (upload && method === 'POST' && query.uploadType === 'resumable') {
      const metadata = body.length ? JSON.parse(body.toString()) : {};
      const id = randomBytes(8).toString('hex');
      uploads.set(id, {
        bucket: bucketName,
        name: query.name ?? metadata.name,
        contentType: String(req.headers['x-upload-content-type'] ?? metadata.contentType ?? 'application/octet-stream'),
        chunks: [],
        size: 0,
      });
      res.setHeader('Location', `${base}/upload/storage/v1/b/${encodeURIComponent(bucketName)}/o?uploadType=resumable&upload_id=${id}`);
      return send(res, 200, {});
    }
    if (upload && method === 'PUT' && query.upload_id) {
      const pending = uploads.get(query.upload_id);
      if (!pending) return send(res, 404, error(404, 'upload session not found', 'notFound'));
      const range = String(req.headers['content-range'] ?? '');
      const total = /\/(\d+)$/.exec(range)?.[1];
      if (body.length > 0) {
        pending.chunks.push(body);
        pending.size += body.length;
      }
      // `bytes 0-*/*`: the client streams the rest of the object in this one
      // request (its single-request mode), so the object ends with it.
      const lastRequest = /^bytes \d+-\*\//.test(range);
      if (lastRequest || (total !== undefined && Number(total) === pending.size)) {
        uploads.delete(query.upload_id);
        return send(res, 200, store(bucket, pending.bucket, pending.name, Buffer.concat(pending.chunks), pending.contentType));
      }
      if (pending.size > 0) res.setHeader('Range', `bytes=0-${pending.size - 1}`);
      res.statusCode = 308;
      return void res.end();
    }

    // Objects -------------------------------------------------------------
    if (method === 'GET' && objectName === undefined) {
      const prefix = query.prefix ?? '';
      const names = [...bucket.keys()].filter((n) => n.startsWith(prefix)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      const start = query.pageToken ? names.findIndex((n) => n > query.pageToken) : 0;
      const size = Number(query.maxResults ?? options.pageSize ?? 1000);
      const page = start < 0 ? [] : names.slice(start, start + size);
      const more = start >= 0 && start + size < names.length;
      return send(res, 200, {
        kind: 'storage#objects',
        items: page.map((n) => objectResource(bucketName, n, bucket.get(n)!)),
        ...(more ? { nextPageToken: page.at(-1) } : {}),
      });
    }
    const object = objectName === undefined ? undefined : bucket.get(objectName);
    if (method === 'GET' || method === 'DELETE') {
      if (!object) return send(res, 404, error(404, `No such object: ${bucketName}/${objectName}`, 'notFound'));
      if (method === 'DELETE') {
        bucket.delete(objectName!);
        res.statusCode = 204;
        return void res.end();
      }
      if (query.alt === 'media') {
        res.writeHead(200, {
          'content-type': object.contentType,
          'content-length': object.data.length,
          'x-goog-hash': `crc32c=${crc32c(object.data)},md5=${md5(object.data)}`,
          'x-goog-generation': String(object.generation),
        });
        return void res.end(object.data);
      }
      return send(res, 200, objectResource(bucketName, objectName!, object));
    }
    send(res, 404, error(404, `no route ${method} ${u.pathname}`, 'notFound'));
  }

  function store(bucket: Map<string, FakeObject>, bucketName: string, name: string, data: Buffer, contentType: string) {
    const object = { data, contentType, generation: generation++, updated: new Date().toISOString() };
    bucket.set(name, object);
    return objectResource(bucketName, name, object);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;

  return {
    url: base,
    port,
    buckets,
    requests,
    client: () => new Storage({ apiEndpoint: base, projectId: 'test-project', retryOptions: { autoRetry: false } }),
    createBucket: (name) => void (buckets.has(name) || buckets.set(name, new Map())),
    deny: (rule) => void (denyRule = rule),
    names: (bucket) => [...(buckets.get(bucket)?.keys() ?? [])].sort(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function bucketResource(name: string) {
  return { kind: 'storage#bucket', id: name, name, location: 'US', storageClass: 'STANDARD' };
}

function objectResource(bucket: string, name: string, o: FakeObject) {
  return {
    kind: 'storage#object',
    id: `${bucket}/${name}/${o.generation}`,
    bucket,
    name,
    size: String(o.data.length),
    contentType: o.contentType,
    generation: String(o.generation),
    metageneration: '1',
    md5Hash: md5(o.data),
    crc32c: crc32c(o.data),
    updated: o.updated,
    timeCreated: o.updated,
  };
}

const md5 = (data: Buffer) => createHash('md5').update(data).digest('base64');
const crc32c = (data: Buffer) => {
  const c = new CRC32C();
  c.update(data);
  return c.toString();
};

function error(code: number, message: string, reason: string) {
  return { error: { code, message, errors: [{ message, domain: 'global', reason }] } };
}

/** `multipart/related`: a JSON metadata part, then the media part. */
function parseMultipart(contentType: string, body: Buffer): { metadata: Record<string, unknown>; media: Buffer } {
  const [meta, media] = multipartParts(contentType, body);
  return { metadata: JSON.parse(meta!.toString()), media: Buffer.from(media!) };
}
