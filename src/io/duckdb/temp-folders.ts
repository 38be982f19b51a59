/**
 * Temporary folders of DuckDB work (Parquet files on their way to the lake,
 * staging files of the warehouse) in the OS temp folder, named
 * `<prefix><pid>-<host>-<random>` so that a process that was killed before it
 * could remove its folder is recognised and its folder removed by the next
 * one (see process/temp-owner.ts).
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { abandoned, ownerTag, parseOwner } from '../../process/temp-owner.ts';

const swept = new Set<string>();

/** Creates `<parent>/<prefix><pid>-<host>-XXXXXX`, first (once per process) removing the folders of `prefix` whose owner is gone. */
export async function makeTempFolder(prefix: string, parent = tmpdir()): Promise<string> {
  const where = join(parent, prefix);
  if (!swept.has(where)) {
    swept.add(where);
    await sweepTempFolders(prefix, parent);
  }
  return mkdtemp(join(parent, `${prefix}${ownerTag()}-`));
}

/** Removes `<parent>/<prefix><owner>-*` folders whose owner is gone; returns how many. */
export async function sweepTempFolders(prefix: string, parent = tmpdir()): Promise<number> {
  const names = await readdir(parent).catch(() => [] as string[]);
  let removed = 0;
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const path = join(parent, name);
    const { mtimeMs } = await stat(path).catch(() => ({ mtimeMs: Date.now() }));
    if (!abandoned(parseOwner(name.slice(prefix.length)), mtimeMs)) continue;
    await rm(path, { recursive: true, force: true }).then(
      () => removed++,
      () => undefined,
    );
  }
  return removed;
}
