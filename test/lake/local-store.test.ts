import { mkdtemp, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalStore } from '../../src/io/lake/local-store.ts';
import { ConfigError, NotFoundError } from '../../src/errors.ts';
import type { ObjectStore } from '../../src/io/types.ts';

let folder: string;
let store: ObjectStore;
const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'pipekit-store-'));
  store = createLocalStore(join(folder, 'lake'));
});
afterEach(async () => {
  await rm(folder, { recursive: true, force: true });
});

describe('createLocalStore', () => {
  it('writes, reads, checks and deletes objects in nested folders', async () => {
    await store.write('a/b/c.txt', bytes('hello'));
    expect(text(await store.read('a/b/c.txt'))).toBe('hello');
    expect(await store.exists('a/b/c.txt')).toBe(true);
    expect(await store.exists('a/b')).toBe(false); // a folder is not an object
    await store.write('a/b/c.txt', bytes('replaced'));
    expect(text(await store.read('a/b/c.txt'))).toBe('replaced');
    await store.delete(['a/b/c.txt', 'a/b/never-existed.txt']);
    expect(await store.exists('a/b/c.txt')).toBe(false);
    // The emptied folders are pruned, the store root stays.
    expect(await readdir(join(folder, 'lake'))).toEqual([]);
  });

  it('lists recursively, sorted, by key prefix, without temp files', async () => {
    for (const key of ['d/x=2/p.parquet', 'd/x=10/p.parquet', 'd/x=1/p.parquet', 'e.csv', 'd2/q.json']) {
      await store.write(key, bytes(key));
    }
    await writeFile(join(folder, 'lake', 'd', '.abc.pipekit-tmp'), 'partial');
    expect(await store.list('d/')).toEqual(['d/x=1/p.parquet', 'd/x=10/p.parquet', 'd/x=2/p.parquet']);
    expect(await store.list('d')).toEqual(['d/x=1/p.parquet', 'd/x=10/p.parquet', 'd/x=2/p.parquet', 'd2/q.json']);
    expect(await store.list('')).toHaveLength(5);
    expect(await store.list('d/x=1')).toEqual(['d/x=1/p.parquet', 'd/x=10/p.parquet']);
    expect(await store.list('nothing/here/')).toEqual([]);
  });

  it('never exposes a partially written object (temp file + rename)', async () => {
    await store.write('big.bin', new Uint8Array(1000).fill(1));
    let pushed = 0;
    const failing = new Readable({
      read() {
        if (pushed++ < 3) this.push(new Uint8Array(1 << 16).fill(2));
        else this.destroy(new Error('network dropped'));
      },
    });
    await expect(store.write('big.bin', failing)).rejects.toThrow(/big\.bin.*network dropped/);
    // The old object is intact and no temp file is left behind.
    expect((await store.read('big.bin')).length).toBe(1000);
    expect(await readdir(join(folder, 'lake'))).toEqual(['big.bin']);
  });

  it('writes from and reads into streams', async () => {
    const chunks = [bytes('a,b\n'), bytes('1,2\n')];
    await store.write('s/data.csv', Readable.from(chunks));
    const received: Buffer[] = [];
    for await (const chunk of store.createReadStream('s/data.csv')) received.push(chunk as Buffer);
    expect(Buffer.concat(received).toString()).toBe('a,b\n1,2\n');
  });

  it('raises NotFoundError naming the URI for a missing object, also on streams', async () => {
    const missing = store.url('nope/x.parquet');
    expect(missing).toMatch(/^file:\/\/.*\/lake\/nope\/x\.parquet$/);
    await expect(store.read('nope/x.parquet')).rejects.toThrow(NotFoundError);
    await expect(store.read('nope/x.parquet')).rejects.toThrow(missing);
    const consume = async () => {
      for await (const _ of store.createReadStream('nope/x.parquet')) void _;
    };
    await expect(consume()).rejects.toThrow(NotFoundError);
  });

  it('rejects keys that escape the folder or are malformed', async () => {
    for (const key of ['../etc/passwd', '/abs', 'a//b', 'a/./b', 'a\\b', '']) {
      await expect(store.write(key, bytes('x')), key).rejects.toThrow(ConfigError);
    }
    await expect(store.list('../')).rejects.toThrow(ConfigError);
  });

  it('keeps percent signs of Hive-escaped keys distinct in URLs', async () => {
    await store.write('z/zone=a%2Fb/p.parquet', bytes('x'));
    expect(await store.list('z/')).toEqual(['z/zone=a%2Fb/p.parquet']);
    expect(store.url('z/zone=a%2Fb/p.parquet')).toContain('zone=a%252Fb');
  });

  it('writes in parallel into the same new folder', async () => {
    await mkdir(join(folder, 'lake'), { recursive: true });
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.write(`p/f${i}.txt`, bytes(String(i)))));
    expect(await store.list('p/')).toHaveLength(20);
  });
});

describe('sweeping temp files left by writers that died', () => {
  it("removes this host's temp files whose process is gone, and other hosts' or unowned ones only once an hour old", async () => {
    const { hostname } = await import('node:os');
    const { utimes } = await import('node:fs/promises');
    const host =
      hostname()
        .replace(/[^A-Za-z0-9]/g, '')
        .slice(0, 24) || 'host';
    await store.write('d/x=1/p.parquet', bytes('data'));
    const dir = join(folder, 'lake', 'd', 'x=1');
    const names = {
      dead: `.4999999-${host}-aa.pipekit-tmp`,
      mine: `.${process.pid}-${host}-bb.pipekit-tmp`,
      otherHostFresh: '.12-someotherhost-cc.pipekit-tmp',
      otherHostOld: '.13-someotherhost-dd.pipekit-tmp',
      unownedOld: '.0a1b2c3d4e5f.pipekit-tmp',
    };
    for (const name of Object.values(names)) await writeFile(join(dir, name), 'partial');
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    for (const name of [names.otherHostOld, names.unownedOld]) await utimes(join(dir, name), twoHoursAgo, twoHoursAgo);
    expect(await store.sweep!('d')).toBe(3);
    expect((await readdir(dir)).sort()).toEqual([names.mine, names.otherHostFresh, 'p.parquet'].sort());
  });
});
