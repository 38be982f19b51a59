/**
 * An ObjectStore over a GCS bucket prefix: the cloud twin of the local lake
 * folder. `createLake(createGcsStore(...))` gives the same single objects and
 * partitioned datasets as on a laptop.
 *
 * Why it is safe for the lake's overwrite protocol: a GCS object becomes
 * visible only when its upload completes, and replacing one (a partition's
 * one object) is atomic, which is all partitioned-write.ts needs. An upload
 * that is stopped or broken off leaves no object and no temporary file.
 */
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Storage } from '@google-cloud/storage';
import { IoProfile } from '../../config/io-profile.ts';
import type { GoogleSettings } from '../settings/google.ts';
import type { ObjectStore } from '../types.ts';
import { checkKey } from '../lake/object-keys.ts';
import { mapBounded } from '../lake/bounded.ts';
import { createStorageClient } from './client.ts';
import { gcsError } from './errors.ts';
import { parseGsUri } from './uri.ts';

export interface GcsStoreOptions {
  /** `gs://bucket` or `gs://bucket/prefix`. */
  readonly uri: string;
  /** GOOGLE_PROJECT_ID and GOOGLE_SERVICE_ACC_KEY_FILEPATH: the profile, or its parsed Google settings. */
  readonly profile?: IoProfile | GoogleSettings;
  /** A ready client (tests point one at a local fake); otherwise one is built from the profile. */
  readonly storage?: Storage;
  /**
   * In-memory objects up to this size go up in one multipart request; bigger
   * ones and streams use a resumable upload. Default 8 MiB.
   */
  readonly resumableThreshold?: number;
}

/** Opens `gs://bucket/prefix` as an ObjectStore. Nothing is contacted until the first call. */
export function createGcsStore(options: GcsStoreOptions): ObjectStore {
  const location = parseGsUri(
    options.uri,
    options.profile ? `${options.profile.file} (${profileName(options.profile)}.LAKE_URI)` : 'LAKE_URI',
  );
  const { bucket: bucketName, prefix: base, uri } = location;
  let storage = options.storage;
  const bucket = () => (storage ??= createStorageClient(options.profile)).bucket(bucketName);
  const threshold = options.resumableThreshold ?? 8 << 20;

  const url = (key: string) => `gs://${bucketName}/${base}${key}`;
  const file = (key: string) => bucket().file(base + checkKey(key, uri));
  const fail = (key: string, action: string, error: unknown, object = true): never => {
    throw gcsError(error, { bucket: bucketName, url: url(key), action, object });
  };

  async function download(key: string): Promise<Uint8Array> {
    try {
      const [bytes] = await file(key).download();
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (error) {
      return fail(key, `read ${url(key)}`, error);
    }
  }

  return {
    uri,
    url,

    read: download,

    async readBlob(key) {
      return new Blob([(await download(key)) as Uint8Array<ArrayBuffer>]);
    },

    createReadStream(key) {
      // Errors (a missing object, a revoked permission) arrive as the
      // library's raw errors; re-emit them as the store's own.
      const out = new PassThrough({ highWaterMark: 1 << 20 });
      let source: Readable;
      try {
        source = file(key).createReadStream();
      } catch (error) {
        queueMicrotask(() => out.destroy(gcsError(error, { bucket: bucketName, url: url(key), action: `read ${url(key)}`, object: true })));
        return out;
      }
      source.on('error', (error) =>
        out.destroy(gcsError(error, { bucket: bucketName, url: url(key), action: `read ${url(key)}`, object: true })),
      );
      out.on('close', () => source.destroy());
      source.pipe(out);
      return out;
    },

    async write(key, data, writeOptions = {}) {
      const target = file(key);
      const contentType = writeOptions.contentType ?? 'application/octet-stream';
      const { signal } = writeOptions;
      try {
        if (data instanceof Uint8Array && data.byteLength <= threshold) {
          signal?.throwIfAborted();
          await target.save(Buffer.from(data.buffer, data.byteOffset, data.byteLength), {
            resumable: false,
            contentType,
            validation: 'crc32c',
          });
        } else {
          // Streamed: the object is never held whole in memory, and a dropped
          // connection resumes from the last committed byte.
          const body = data instanceof Uint8Array ? Readable.from([Buffer.from(data.buffer, data.byteOffset, data.byteLength)]) : data;
          await pipeline(body, target.createWriteStream({ resumable: true, contentType, validation: 'crc32c' }), signal ? { signal } : {});
        }
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        fail(key, `write ${url(key)}`, error);
      }
    },

    async exists(key) {
      try {
        await file(key).getMetadata();
        return true;
      } catch (error) {
        const err = gcsError(error, { bucket: bucketName, url: url(key), action: `check ${url(key)}`, object: true });
        if (err.name === 'NotFoundError') return false;
        throw err;
      }
    },

    async list(prefix) {
      checkKey(prefix, uri, { allowEmpty: true, prefix: true });
      try {
        const [files] = await bucket().getFiles({
          prefix: base + prefix,
          autoPaginate: true,
          fields: 'items(name),nextPageToken',
        } as never);
        return (
          files
            .map((f) => f.name.slice(base.length))
            // Console-made "folders" are zero-byte objects ending in "/": not keys.
            .filter((k) => k !== '' && !k.endsWith('/'))
            .sort(compareKeys)
        );
      } catch (error) {
        return fail(prefix, `list ${url(prefix)}`, error, false);
      }
    },

    async delete(keys) {
      await mapBounded([...keys], 16, async (key) => {
        try {
          // Deleting what is already gone is fine: cleanups must be re-runnable.
          await file(key).delete({ ignoreNotFound: true });
        } catch (error) {
          fail(key, `delete ${url(key)}`, error);
        }
      });
    },
  };
}

/** Byte order of the UTF-8 names: how GCS lists them, and how the local store sorts. */
function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function profileName(profile: IoProfile | GoogleSettings): string {
  return profile instanceof IoProfile ? profile.name : profile.profile;
}
