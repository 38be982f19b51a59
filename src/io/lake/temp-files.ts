/**
 * The local store's temporary files: where an object is written before it is
 * renamed into place. Named `.<pid>-<host>-<random>.pipekit-tmp`, so they
 * never match `*.parquet` (or any data) globs, are hidden from pyarrow and
 * Spark (leading dot), and say which process owns them.
 *
 * Why the owner is in the name: a killed process (SIGKILL, OOM, power loss)
 * cannot clean up, so the next write to the same dataset sweeps the temp
 * files of processes that are gone — and only those: a concurrent writer's
 * file in progress is never touched.
 */
import { randomBytes } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { readdir, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

export const TEMP_SUFFIX = '.pipekit-tmp';

/** Temp files of other machines (a shared folder) or without an owner are swept once this old. */
const FOREIGN_AGE_MS = 60 * 60 * 1000;

const HOST = hostname().replace(/[^A-Za-z0-9]/g, '').slice(0, 24) || 'host';
const OWNED = /^\.(\d+)-([A-Za-z0-9]+)-[0-9a-f]+\.pipekit-tmp$/;

/** A fresh temp file name for this process. */
export function tempName(): string {
  return `.${process.pid}-${HOST}-${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`;
}

export function isTempName(name: string): boolean {
  return name.endsWith(TEMP_SUFFIX);
}

/** Temp files being written now: removed synchronously if the process exits first (process.exit, a fatal error). */
const inFlight = new Set<string>();
let hooked = false;

/** Tracks `path` until `done` is called; see {@link inFlight}. */
export function trackTemp(path: string): () => void {
  if (!hooked) {
    hooked = true;
    process.on('exit', () => {
      for (const p of inFlight) {
        try {
          unlinkSync(p);
        } catch {
          // already renamed into place or removed
        }
      }
    });
  }
  inFlight.add(path);
  return () => inFlight.delete(path);
}

/** Whether the process that owns temp file `name` is certainly gone. */
async function orphaned(folder: string, name: string): Promise<boolean> {
  const owner = OWNED.exec(name);
  if (owner && owner[2] === HOST) return Number(owner[1]) !== process.pid && !alive(Number(owner[1]));
  // Another machine's (a shared folder), or a name without an owner (older pipekit): only when old.
  const { mtimeMs } = await stat(join(folder, name)).catch(() => ({ mtimeMs: Date.now() }));
  return Date.now() - mtimeMs > FOREIGN_AGE_MS;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes orphaned temp files in `folder` (and, when `recursive`, the folders below it); returns how many. */
export async function sweepTempFiles(folder: string, recursive = true): Promise<number> {
  let entries;
  try {
    entries = await readdir(folder, { withFileTypes: true });
  } catch {
    return 0; // nothing written there yet
  }
  let removed = 0;
  for (const entry of entries) {
    if (entry.isDirectory()) removed += recursive ? await sweepTempFiles(join(folder, entry.name)) : 0;
    else if (entry.isFile() && isTempName(entry.name) && (await orphaned(folder, entry.name))) {
      await unlink(join(folder, entry.name)).then(() => removed++, () => undefined);
    }
  }
  return removed;
}
