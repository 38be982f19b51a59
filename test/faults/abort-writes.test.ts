/**
 * A cancelled or timed-out block stops its lake writes, on the local folder
 * and on GCS alike: the write rejects with the block's reason, the object
 * keeps its previous content, and no temp file or object is left.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CancelledError } from '../../src/errors.ts';
import { createGcsStore } from '../../src/io/gcs/store.ts';
import { createLocalStore } from '../../src/io/lake/local-store.ts';
import type { ObjectStore } from '../../src/io/types.ts';
import { startGcsFake, type GcsFake } from '../support/gcs-fake.ts';

let gcs: GcsFake;
let folder: string;
beforeAll(async () => {
  gcs = await startGcsFake();
  gcs.createBucket('lake');
  folder = await mkdtemp(join(tmpdir(), 'pipekit-abort-'));
});
afterAll(async () => {
  gcs?.close();
  await rm(folder, { recursive: true, force: true });
});

/** 64 KiB chunks, slowly, forever: an upload that only a signal ends. */
function endless(): Readable {
  return new Readable({
    read() {
      setTimeout(() => this.push(new Uint8Array(1 << 16).fill(7)), 5);
    },
  });
}

describe.each([
  ['the local folder', () => createLocalStore(folder)],
  ['GCS', () => createGcsStore({ uri: 'gs://lake/p', storage: gcs.client(), resumableThreshold: 1024 })],
] as [string, () => ObjectStore][])('a streamed write to %s, aborted', (_, open) => {
  it('rejects with the reason, keeps the old object, leaves nothing behind', async () => {
    const store = open();
    await store.write('d/object.bin', new TextEncoder().encode('old'));
    const controller = new AbortController();
    setTimeout(() => controller.abort(new CancelledError('block export cancelled')), 150);
    const started = Date.now();
    await expect(store.write('d/object.bin', endless(), { signal: controller.signal })).rejects.toThrow('block export cancelled');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(new TextDecoder().decode(await store.read('d/object.bin'))).toBe('old');
    expect(await store.list('d/')).toEqual(['d/object.bin']);
    if (store.uri.startsWith('file:')) expect(await readdir(join(folder, 'd'))).toEqual(['object.bin']);
  });
});
