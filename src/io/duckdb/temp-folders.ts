/**
 * Temporary folders of DuckDB work (Parquet files on their way to the lake,
 * staging files of the warehouse) in the OS temp folder, named
 * `<prefix><pid>-<random>` so that a process that was killed before it could
 * remove its folder is recognised and its folder removed by the next one.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const swept = new Set<string>();

/** Creates `<parent>/<prefix><pid>-XXXXXX`, first (once per process) removing the folders of `prefix` whose process is gone. */
export async function makeTempFolder(prefix: string, parent = tmpdir()): Promise<string> {
  const where = join(parent, prefix);
  if (!swept.has(where)) {
    swept.add(where);
    await sweepTempFolders(prefix, parent);
  }
  return mkdtemp(join(parent, `${prefix}${process.pid}-`));
}

/** Removes `<parent>/<prefix><pid>-*` folders of processes that no longer exist; returns how many. */
export async function sweepTempFolders(prefix: string, parent = tmpdir()): Promise<number> {
  const names = await readdir(parent).catch(() => [] as string[]);
  let removed = 0;
  for (const name of names) {
    const pid = name.startsWith(prefix) ? /^(\d+)-/.exec(name.slice(prefix.length))?.[1] : undefined;
    if (!pid || alive(Number(pid))) continue;
    await rm(join(parent, name), { recursive: true, force: true }).then(() => removed++, () => undefined);
  }
  return removed;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
