/**
 * An ObjectStore over a local folder: the laptop twin of a GCS bucket prefix.
 * Writes are atomic (a temp file in the same folder, then rename), so readers
 * never see half an object, as with GCS uploads. Temp files are removed on
 * every exit path a process lives through, and swept by the next write when
 * it did not (see temp-files.ts).
 */
import { createWriteStream, openAsBlob } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { ConnectionError } from '../../errors.ts';
import type { ObjectStore } from '../types.ts';
import { failpoint } from '../failpoints.ts';
import { checkKey, objectNotFound } from './object-keys.ts';
import { isTempName, sweepTempFiles, tempName, trackTemp } from './temp-files.ts';

/**
 * Opens a local folder as an ObjectStore. The folder is created on the first
 * write; reading or listing a folder that does not exist yet finds nothing.
 */
export function createLocalStore(folder: string): ObjectStore {
  const root = resolve(folder);
  const uri = pathToFileURL(root).href;
  const pathOf = (key: string) => join(root, ...checkKey(key, uri).split('/'));
  // pathToFileURL percent-encodes, so Hive's "%2F" in a key stays distinct from "/".
  const url = (key: string) => pathToFileURL(join(root, ...key.split('/'))).href;

  const fail = (key: string, action: string, error: unknown): never => {
    if (isCode(error, 'ENOENT')) throw objectNotFound(url(key));
    throw new ConnectionError({
      target: url(key),
      message: `could not ${action}: ${(error as Error).message}`,
      hint:
        isCode(error, 'EACCES') || isCode(error, 'EPERM')
          ? `check the permissions of ${root}`
          : isCode(error, 'ENOSPC')
            ? 'free some disk space'
            : undefined,
      cause: error,
    });
  };

  return {
    uri,
    url,

    async read(key) {
      try {
        return new Uint8Array(await readFile(pathOf(key)));
      } catch (error) {
        return fail(key, 'read the object', error);
      }
    },

    async readBlob(key) {
      try {
        // openAsBlob reports a missing file as a bad argument; stat names it ENOENT.
        await stat(pathOf(key));
        return await openAsBlob(pathOf(key));
      } catch (error) {
        return fail(key, 'read the object', error);
      }
    },

    createReadStream(key) {
      const path = pathOf(key);
      // Open first so that a missing object fails with the store's own error.
      return Readable.from(
        (async function* () {
          const handle = await open(path, 'r').catch((error) => fail(key, 'open the object', error));
          yield* handle.createReadStream({ highWaterMark: 1 << 20 });
        })(),
        { objectMode: false },
      );
    },

    async write(key, data, options = {}) {
      const path = pathOf(key);
      const temp = join(dirname(path), tempName());
      const untrack = trackTemp(temp);
      try {
        await writeTemp(temp, data, options.signal);
        failpoint('lake.temp.written');
        await rename(temp, path);
      } catch (error) {
        await unlink(temp).catch(() => undefined);
        if (options.signal?.aborted) throw options.signal.reason;
        fail(key, 'write the object', error);
      } finally {
        untrack();
      }
    },

    async sweep(prefix, options = {}) {
      checkKey(prefix, uri, { allowEmpty: true, prefix: true });
      return sweepTempFiles(join(root, ...prefix.split('/').filter(Boolean)), options.recursive ?? true);
    },

    async exists(key) {
      try {
        return (await stat(pathOf(key))).isFile();
      } catch (error) {
        if (isCode(error, 'ENOENT') || isCode(error, 'ENOTDIR')) return false;
        return fail(key, 'check the object', error);
      }
    },

    async list(prefix) {
      checkKey(prefix, uri, { allowEmpty: true, prefix: true });
      // Walk only the deepest folder the prefix names, then filter by the rest.
      const folderPart = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
      const keys: string[] = [];
      await walk(join(root, ...folderPart.split('/').filter(Boolean)), folderPart, prefix, keys);
      return keys.filter((k) => k.startsWith(prefix)).sort(compareKeys);
    },

    async delete(keys) {
      const folders = new Set<string>();
      for (const key of keys) {
        const path = pathOf(key);
        try {
          await unlink(path);
        } catch (error) {
          // Deleting what is already gone is fine: cleanups must be re-runnable.
          if (!isCode(error, 'ENOENT')) fail(key, 'delete the object', error);
        }
        folders.add(dirname(path));
      }
      // Empty folders are invisible to list() but clutter the lake; prune them.
      for (const folder of [...folders].sort((a, b) => b.length - a.length)) await pruneEmpty(folder, root);
    },
  };

  async function writeTemp(temp: string, data: Uint8Array | Readable, signal: AbortSignal | undefined): Promise<void> {
    // A concurrent delete may prune the folder between mkdir and open: retry once.
    for (let attempt = 0; ; attempt++) {
      await mkdir(dirname(temp), { recursive: true });
      try {
        if (data instanceof Uint8Array) await writeFile(temp, data, { flag: 'wx', signal });
        else await pipeline(data, createWriteStream(temp, { flags: 'wx' }), signal ? { signal } : {});
        return;
      } catch (error) {
        if (attempt > 0 || !isCode(error, 'ENOENT') || !(data instanceof Uint8Array)) throw error;
      }
    }
  }
}

async function walk(folder: string, keyPrefix: string, prefix: string, out: string[]): Promise<void> {
  let entries;
  try {
    entries = await readdir(folder, { withFileTypes: true });
  } catch (error) {
    if (isCode(error, 'ENOENT') || isCode(error, 'ENOTDIR')) return;
    throw error;
  }
  for (const entry of entries) {
    const key = keyPrefix ? `${keyPrefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      // Skip sub-trees that cannot hold a key starting with the prefix.
      if (key.startsWith(prefix) || prefix.startsWith(`${key}/`)) await walk(join(folder, entry.name), key, prefix, out);
    } else if (entry.isFile() && !isTempName(entry.name)) out.push(key);
  }
}

async function pruneEmpty(folder: string, root: string): Promise<void> {
  let current = folder;
  while (current.startsWith(root + sep)) {
    try {
      await rmdir(current);
    } catch {
      return; // not empty (or already gone): stop climbing
    }
    current = dirname(current);
  }
}

/** Byte order of the UTF-8 keys, as GCS lists them. */
function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function isCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
