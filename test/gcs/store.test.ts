import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, ConnectionError, NotFoundError } from '../../src/errors.ts';
import { createGcsStore } from '../../src/io/gcs/store.ts';
import type { ObjectStore } from '../../src/io/types.ts';
import { startGcsFake, type GcsFake } from '../support/gcs-fake.ts';

let gcs: GcsFake;
let store: ObjectStore;
beforeAll(async () => {
  gcs = await startGcsFake({ pageSize: 3 });
  gcs.createBucket('pipekit-lake');
  store = createGcsStore({ uri: 'gs://pipekit-lake/nyc', storage: gcs.client(), resumableThreshold: 1024 });
});
afterAll(() => gcs?.close());

const bytes = (text: string) => new TextEncoder().encode(text);
async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('GCS ObjectStore', () => {
  it('names objects gs://bucket/prefix/key, keys with "/" included', () => {
    expect(store.uri).toBe('gs://pipekit-lake/nyc');
    expect(store.url('2021/01/05/daily-trips.parquet')).toBe('gs://pipekit-lake/nyc/2021/01/05/daily-trips.parquet');
  });

  it('writes small objects in one multipart request and reads them back', async () => {
    await store.write('2021/01/05/daily-trips.csv', bytes('a,b\n1,2\n'), { contentType: 'text/csv' });
    expect(gcs.buckets.get('pipekit-lake')!.get('nyc/2021/01/05/daily-trips.csv')!.contentType).toBe('text/csv');
    expect(new TextDecoder().decode(await store.read('2021/01/05/daily-trips.csv'))).toBe('a,b\n1,2\n');
    expect(gcs.requests.some((r) => r.query.uploadType === 'multipart')).toBe(true);
  });

  it('streams big objects and streams through a resumable upload, byte-exact', async () => {
    const big = Buffer.alloc(3 << 20);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    const before = gcs.requests.length;
    await store.write('big.bin', Readable.from([big.subarray(0, 1 << 20), big.subarray(1 << 20)]));
    await store.write('big2.bin', new Uint8Array(big)); // over the threshold: resumable too
    const sent = gcs.requests.slice(before);
    expect(sent.filter((r) => r.query.uploadType === 'resumable' && r.method === 'POST')).toHaveLength(2);
    expect(sent.some((r) => r.query.uploadType === 'multipart')).toBe(false);
    expect((await drain(store.createReadStream('big.bin'))).equals(big)).toBe(true);
    expect(Buffer.from(await store.read('big2.bin')).equals(big)).toBe(true);
  });

  it('lists recursively under a prefix, sorted, across pages, relative to the store prefix', async () => {
    for (const k of ['ds/b=2/x.parquet', 'ds/a=1/y.parquet', 'ds/a=1/x.parquet', 'ds/a=10/x.parquet', 'dsx/z.parquet'])
      await store.write(k, bytes(k));
    gcs.buckets.get('pipekit-lake')!.set('nyc/ds/folder/', { data: Buffer.alloc(0), contentType: 'x', generation: 0, updated: '' });
    expect(await store.list('ds/')).toEqual(['ds/a=1/x.parquet', 'ds/a=1/y.parquet', 'ds/a=10/x.parquet', 'ds/b=2/x.parquet']);
    expect(await store.list('ds')).toContain('dsx/z.parquet');
    expect(await store.list('nothing/')).toEqual([]);
  });

  it('exists, and delete (idempotent)', async () => {
    expect(await store.exists('ds/a=1/x.parquet')).toBe(true);
    expect(await store.exists('ds/a=1/nope.parquet')).toBe(false);
    await store.delete(['ds/a=1/x.parquet', 'ds/a=1/x.parquet', 'never-was.parquet']);
    expect(await store.exists('ds/a=1/x.parquet')).toBe(false);
  });

  it('a missing object is a NotFoundError naming it, for read and for streams', async () => {
    const error = await store.read('missing/daily-trips.parquet').catch((e) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.message).toContain('gs://pipekit-lake/nyc/missing/daily-trips.parquet');
    const streamError = await drain(store.createReadStream('missing.csv')).catch((e) => e);
    expect(streamError).toBeInstanceOf(NotFoundError);
  });

  it('rejects bad URIs and keys before any request', () => {
    expect(() => createGcsStore({ uri: 'gs://No_Such!/x', storage: gcs.client() })).toThrow(ConfigError);
    expect(() => createGcsStore({ uri: 's3://bucket/x', storage: gcs.client() })).toThrow(ConfigError);
    expect(() => store.url('ok/key')).not.toThrow();
    return expect(store.read('../etc/passwd')).rejects.toBeInstanceOf(ConfigError);
  });
});

describe('GCS errors are actionable', () => {
  it('bucket missing: names the bucket and how to create it', async () => {
    const missing = createGcsStore({ uri: 'gs://no-such-bucket/lake', storage: gcs.client() });
    for (const call of [
      () => missing.write('a.csv', bytes('x')),
      () => missing.list(''),
      () => missing.exists('a.csv'),
      () => missing.read('a.csv'),
    ]) {
      const error = await call().catch((e) => e);
      expect(error).toBeInstanceOf(ConnectionError);
      expect(error.message).toContain('bucket gs://no-such-bucket does not exist');
      expect(error.hint).toContain('gcloud storage buckets create gs://no-such-bucket');
    }
  });

  it('permission denied: names the permission, the principal and the role to grant', async () => {
    gcs.deny(({ method }) => (method === 'POST' ? 'storage.objects.create' : method === 'DELETE' ? 'storage.objects.delete' : undefined));
    try {
      const error = await store.write('denied.csv', bytes('x')).catch((e) => e);
      expect(error).toBeInstanceOf(ConnectionError);
      expect(error.message).toContain('storage.objects.create');
      expect(error.message).toContain('pipekit-runner@test-project.iam.gserviceaccount.com');
      expect(error.hint).toContain('roles/storage.objectAdmin');
      expect(error.hint).toContain('gs://pipekit-lake');
      const big = await store.write('denied.bin', Readable.from([Buffer.alloc(10)])).catch((e) => e);
      expect(big).toBeInstanceOf(ConnectionError);
      expect(big.message).toContain('storage.objects.create');
    } finally {
      gcs.deny(undefined);
    }
    gcs.deny(({ method }) => (method === 'GET' ? 'storage.objects.list' : undefined));
    try {
      const error = await store.list('').catch((e) => e);
      expect(error.hint).toContain('roles/storage.objectViewer');
    } finally {
      gcs.deny(undefined);
    }
  });
});
